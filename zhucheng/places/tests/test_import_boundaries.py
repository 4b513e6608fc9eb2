"""The import_boundaries command: dry run by default, every feature checked, all or nothing with --commit."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from zhucheng.core.models import AuditEvent
from zhucheng.places import geo, services
from zhucheng.places.models import OrgUnit

BOW_TIE = {"type": "Polygon", "coordinates": [[[106.70, 26.57], [106.72, 26.59], [106.72, 26.57], [106.70, 26.59], [106.70, 26.57]]]}


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


@pytest.fixture(autouse=True)
def fresh_locator():
    geo.invalidate_locator()
    yield
    geo.invalidate_locator()


@pytest.fixture
def units(db) -> dict[str, OrgUnit]:
    city = services.unit_create(actor=None, code="5201", name="贵阳市", kind="city", parent=None)
    district = services.unit_create(actor=None, code="520102", name="南明区", kind="district", parent=city)
    community = services.unit_create(actor=None, code="520102001", name="花果园社区", kind="community", parent=district)
    committee = services.unit_create(actor=None, code="520102001001", name="第一居委会", kind="residents_committee", parent=community)
    grid = services.unit_create(
        actor=None, code="G1", name="一网格", kind="grid", parent=committee, boundary=square(106.70, 26.57, 106.71, 26.58)
    )
    return {"community": community, "committee": committee, "grid": grid}


def write(tmp_path: Path, features: list[Any]) -> str:
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    return str(path)


def run(path: str, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_boundaries", path, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path: str, *args: str) -> tuple[str, str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_boundaries", path, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), str(exc.value)


def good_features() -> list[dict[str, Any]]:
    return [
        feature(square(106.70, 26.57, 106.705, 26.58), code="G1"),  # existing grid: boundary replaced
        feature(square(106.71, 26.57, 106.72, 26.58), code="G2", name="二网格", parent_code="520102001001"),
    ]


def test_dry_run_reports_and_writes_nothing(units: dict[str, OrgUnit], tmp_path: Path) -> None:
    before = (OrgUnit.objects.count(), AuditEvent.objects.count())
    out, err = run(write(tmp_path, good_features()), "--kind", "grid")
    assert "试运行" in out
    assert "将新建 1 个" in out and "将更新边界 1 个" in out and "拒绝 0 个" in out
    assert err == ""
    assert (OrgUnit.objects.count(), AuditEvent.objects.count()) == before
    units["grid"].refresh_from_db()
    assert units["grid"].boundary == square(106.70, 26.57, 106.71, 26.58)


def test_commit_creates_and_updates_through_the_services(units: dict[str, OrgUnit], tmp_path: Path) -> None:
    audit_before = AuditEvent.objects.count()
    out, _err = run(write(tmp_path, good_features()), "--kind", "grid", "--commit")
    assert "已写入" in out and "新建 1 个" in out and "更新边界 1 个" in out
    units["grid"].refresh_from_db()
    assert units["grid"].boundary == square(106.70, 26.57, 106.705, 26.58)
    g2 = OrgUnit.objects.get(code="G2")
    assert (g2.kind, g2.name, g2.parent) == ("grid", "二网格", units["committee"])
    assert g2.lat is not None and 26.57 < g2.lat < 26.58  # representative point set by the service
    assert AuditEvent.objects.count() == audit_before + 2
    # The locator sees the new boundaries.
    assert geo.locate(26.575, 106.715) == g2
    assert geo.locate(26.575, 106.707) is None


def test_second_commit_of_same_file_changes_nothing(units: dict[str, OrgUnit], tmp_path: Path) -> None:
    path = write(tmp_path, good_features())
    run(path, "--kind", "grid", "--commit")
    audit_before = AuditEvent.objects.count()
    out, _err = run(path, "--kind", "grid", "--commit")
    assert "边界不变 2 个" in out
    assert AuditEvent.objects.count() == audit_before


def test_one_bad_feature_is_reported_by_index_and_nothing_is_written(units: dict[str, OrgUnit], tmp_path: Path) -> None:
    features = [*good_features(), feature(BOW_TIE, code="G3", name="三网格", parent_code="520102001001")]
    path = write(tmp_path, features)
    before = (OrgUnit.objects.count(), AuditEvent.objects.count())
    for args in (("--kind", "grid"), ("--kind", "grid", "--commit")):
        out, err, message = run_failing(path, *args)
        assert "feature #2 (code=G3): " in err
        assert "自相交" in err
        assert "feature #0" not in err and "feature #1" not in err
        assert "拒绝 1 个" in out
        assert "未写入任何数据" in message
    assert (OrgUnit.objects.count(), AuditEvent.objects.count()) == before
    assert not OrgUnit.objects.filter(code="G2").exists()
    units["grid"].refresh_from_db()
    assert units["grid"].boundary == square(106.70, 26.57, 106.71, 26.58)


def test_every_bad_feature_is_reported(units: dict[str, OrgUnit], tmp_path: Path) -> None:
    features = [
        feature(square(106.71, 26.57, 106.72, 26.58), code="G2", name="二网格", parent_code="NOPE"),  # unknown parent
        feature(square(106.72, 26.57, 106.73, 26.58), code="G4", name="四网格", parent_code="520102001001"),
        feature(square(106.73, 26.57, 106.74, 26.58), code="G4", name="四网格", parent_code="520102001001"),  # duplicate
        feature(square(106.74, 26.57, 106.75, 26.58), name="无编码"),  # no code
        feature(square(106.75, 26.57, 106.76, 26.58), code="520102001"),  # exists, but is a community
        feature(square(106.76, 26.57, 106.77, 26.58), code="G5", parent_code="520102001001"),  # new, no name
        feature(square(106.77, 26.57, 106.78, 26.58), code="G6", name="六网格", parent_code="520102"),  # grid under a district
        feature({"type": "Polygon", "coordinates": [[[106.70, 26.57], [106.71, 26.57], [106.71, 26.58]]]}, code="G7"),
        "not a feature",
    ]
    _out, err, _msg = run_failing(write(tmp_path, features), "--kind", "grid", "--commit")
    lines = err.strip().splitlines()
    assert lines[0] == "feature #0 (code=G2): 上级编码 NOPE 不存在。"
    assert lines[1].startswith("feature #2 (code=G4): ") and "重复" in lines[1] and "feature #1" in lines[1]
    assert lines[2].startswith("feature #3 (code=—): ") and "缺少属性 code" in lines[2]
    assert lines[3].startswith("feature #4 (code=520102001): ") and "社区" in lines[3]
    assert lines[4].startswith("feature #5 (code=G5): ") and "属性 name" in lines[4]
    assert lines[5].startswith("feature #6 (code=G6): ") and "不能设" in lines[5]
    assert lines[6].startswith("feature #7 (code=G7): ") and "4 个点" in lines[6]
    assert lines[7].startswith("feature #8 (code=—): ")
    assert len(lines) == 8
    assert not OrgUnit.objects.filter(code__in=["G2", "G4", "G5", "G6", "G7"]).exists()


def test_failure_while_writing_rolls_back_every_feature(
    units: dict[str, OrgUnit], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A unit changed between check and write (e.g. by someone else) must not leave half a file written.
    def refuse(**kwargs: Any) -> OrgUnit:
        raise services.PlacesError("unit", "模拟失败")

    monkeypatch.setattr(services, "unit_update", refuse)
    features = [good_features()[1], good_features()[0]]  # the create runs before the failing update
    before = (OrgUnit.objects.count(), AuditEvent.objects.count())
    _out, _err, message = run_failing(write(tmp_path, features), "--kind", "grid", "--commit")
    assert "feature #1 (code=G1)" in message and "模拟失败" in message and "回滚" in message
    assert (OrgUnit.objects.count(), AuditEvent.objects.count()) == before
    assert not OrgUnit.objects.filter(code="G2").exists()


def test_unknown_parent_alone_fails_the_dry_run(units: dict[str, OrgUnit], tmp_path: Path) -> None:
    path = write(tmp_path, [feature(square(106.71, 26.57, 106.72, 26.58), code="G2", name="二网格", parent_code="999")])
    _out, err, _msg = run_failing(path, "--kind", "grid")
    assert "feature #0 (code=G2): 上级编码 999 不存在。" in err


def test_invalid_json_is_a_clear_error(db, tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    _out, _err, message = run_failing(str(path), "--kind", "grid")
    assert "不是有效的 JSON" in message and "第 1 行" in message


@pytest.mark.parametrize("payload", [[], {"type": "Feature"}, {"type": "FeatureCollection", "features": {}}])
def test_not_a_feature_collection_is_a_clear_error(db, tmp_path: Path, payload: Any) -> None:
    path = tmp_path / "x.geojson"
    path.write_text(json.dumps(payload), encoding="utf-8")
    _out, _err, message = run_failing(str(path), "--kind", "grid")
    assert "FeatureCollection" in message


def test_missing_file_is_a_clear_error(db, tmp_path: Path) -> None:
    _out, _err, message = run_failing(str(tmp_path / "missing.geojson"), "--kind", "grid")
    assert "无法读取文件" in message
