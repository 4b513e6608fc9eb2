"""The category suggester: the generated training set, cross-validated training, suggestions, reloads and the command."""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from zhucheng.appeals import classifier
from zhucheng.appeals.data.categories import leaves
from zhucheng.appeals.data.training import DESCRIPTION_MAX, DESCRIPTION_MIN, TITLE_MAX, generate
from zhucheng.appeals.errors import AppealError
from zhucheng.appeals.models import Appeal, Category, CategoryDecision, Status

LEAF_CODES = {code for code, *_ in leaves()}


@pytest.fixture(autouse=True)
def _fresh_model() -> Any:
    classifier.clear_cache()
    yield
    classifier.clear_cache()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, django_db_setup: Any, django_db_blocker: Any) -> classifier.TrainReport:
    """One model for the module: 1,500 generated texts, 3 folds (training reads category names only)."""
    path = tmp_path_factory.mktemp("router") / "router.joblib"
    texts = generate(1500)
    with django_db_blocker.unblock():
        return classifier.train(texts=[t.text for t in texts], labels=[t.category for t in texts], folds=3, path=path)


@pytest.fixture
def model_file(trained: classifier.TrainReport, settings: Any) -> Path:
    assert trained.path is not None
    settings.ZHUCHENG_ROUTER_MODEL = str(trained.path)
    return trained.path


def test_generated_set_is_deterministic_well_formed_and_covers_every_leaf() -> None:
    texts = generate(1500)
    assert texts == generate(1500)
    assert texts != generate(1500, seed=7)
    assert len(texts) == 1500
    assert {t.category for t in texts} == LEAF_CODES
    assert min(Counter(t.category for t in texts).values()) >= 5
    for t in texts:
        assert 0 < len(t.title) <= TITLE_MAX, t.title
        assert DESCRIPTION_MIN <= len(t.description) <= DESCRIPTION_MAX, t.description
        assert "{" not in t.title + t.description  # every slot filled
        assert t.address
    assert len({t.text for t in texts}) > 1450  # varied, not a handful of repeats


def test_cross_validated_accuracy_and_recall(trained: classifier.TrainReport) -> None:
    assert trained.n == 1500 and trained.folds == 3 and not trained.skipped
    # Realistic, not perfect: the generated set holds vague, mixed and mislabelled texts on purpose.
    assert 0.8 <= trained.accuracy < 0.99
    assert {r.code for r in trained.per_category} == LEAF_CODES
    assert sum(r.n for r in trained.per_category) == 1500
    assert all(0.0 <= r.recall <= 1.0 for r in trained.per_category)
    assert next(r for r in trained.per_category if r.code == "CG01").name == "路灯照明"
    assert trained.macro_recall == pytest.approx(sum(r.recall for r in trained.per_category) / len(trained.per_category))
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", trained.model_version)
    assert trained.path is not None and trained.path.exists()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("小区门口路灯坏了一个月没人修", "CG01"),
        ("楼下烧烤店油烟太大，熏得窗户都不敢开", "HJ04"),
        ("公司拖欠我们三个月工资，老板联系不上", "LD01"),
        ("旁边工地半夜还在打桩，吵得睡不着", "ZF03"),
        ("电梯坏了两个星期物业一直不修", "ZF01"),
    ],
)
@pytest.mark.django_db
def test_suggest_clear_texts(model_file: Path, trained: classifier.TrainReport, text: str, code: str) -> None:
    s = classifier.suggest(text)
    assert s is not None
    assert s.category.code == code
    assert 0.0 < s.score <= 1.0
    assert s.model_version == trained.model_version


@pytest.mark.django_db
def test_scores_are_calibrated_probabilities(model_file: Path) -> None:
    model = classifier.load_model()
    assert model is not None
    held_out = generate(400, seed=99)
    p = model.scores([t.text for t in held_out])
    assert p.shape == (400, len(LEAF_CODES))
    assert p.min() >= 0.0 and abs(p.sum(axis=1) - 1.0).max() < 1e-6
    # Confident suggestions are right more often than unsure ones.
    right = [model.classes[row.argmax()] == t.category for row, t in zip(p, held_out, strict=True)]
    top = p.max(axis=1)
    sure = [ok for ok, score in zip(right, top, strict=True) if score >= 0.6]
    unsure = [ok for ok, score in zip(right, top, strict=True) if score < 0.6]
    assert sure and unsure
    assert sum(sure) / len(sure) > sum(unsure) / len(unsure)


@pytest.mark.django_db
def test_suggest_needs_no_query_once_loaded(model_file: Path, django_assert_num_queries: Any) -> None:
    classifier.suggest("路灯不亮")
    with django_assert_num_queries(0):
        assert classifier.suggest("路灯不亮") is not None


@pytest.mark.django_db
def test_a_saved_category_is_read_again(model_file: Path) -> None:
    suggestion = classifier.suggest("小区门口路灯坏了一个月没人修")
    assert suggestion is not None
    category = suggestion.category
    category.is_active = False
    category.save()  # the post_save signal drops the cached leaf
    assert classifier.suggest("小区门口路灯坏了一个月没人修") is None


@pytest.mark.django_db
def test_single_text_scores_equal_sklearn(model_file: Path) -> None:
    import numpy as np

    model = classifier.load_model()
    assert model is not None
    for text in ("路灯不亮", "小区门口路灯坏了一个月没人修", "ＡＢＣ 噪音 扰民 晚上十点以后", "x"):
        fast = model.scores([text])
        slow = model.scores([text, text])[:1]  # two texts take sklearn's own transform
        assert np.allclose(fast, slow, atol=1e-6)


@pytest.mark.django_db
def test_suggest_skips_an_inactive_category(model_file: Path) -> None:
    Category.objects.filter(code="CG01").update(is_active=False)
    assert classifier.suggest("小区门口路灯坏了一个月没人修") is None


@pytest.mark.django_db
def test_no_model_no_suggestion(settings: Any, tmp_path: Path) -> None:
    settings.ZHUCHENG_ROUTER_MODEL = str(tmp_path / "missing.joblib")
    assert classifier.load_model() is None
    assert classifier.suggest("小区门口路灯坏了一个月没人修") is None


@pytest.mark.django_db
def test_empty_text_and_unreadable_file(model_file: Path, settings: Any, tmp_path: Path) -> None:
    assert classifier.suggest("   ") is None
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a model")
    settings.ZHUCHENG_ROUTER_MODEL = str(broken)
    assert classifier.suggest("路灯不亮") is None  # logged, never raised into the submit


@pytest.mark.django_db
def test_model_path_defaults_to_var_models(settings: Any) -> None:
    settings.ZHUCHENG_ROUTER_MODEL = None
    assert classifier.model_path() == Path(settings.VAR_DIR) / "models" / "router.joblib"


def _two_category_set(first: str, second: str, n: int = 120) -> tuple[list[str], list[str]]:
    rows = [t for t in generate(3000, seed=5) if t.category in (first, second)][:n]
    return [t.text for t in rows], [t.category for t in rows]


@pytest.mark.django_db
def test_reload_after_retrain(settings: Any, tmp_path: Path) -> None:
    path = tmp_path / "router.joblib"
    settings.ZHUCHENG_ROUTER_MODEL = str(path)
    wage_text = "公司拖欠我们三个月工资，老板联系不上"
    texts, labels = _two_category_set("CG01", "HJ01")
    first = classifier.train(texts=texts, labels=labels, folds=2)
    s1 = classifier.suggest(wage_text)
    assert s1 is not None and s1.model_version == first.model_version
    assert s1.category.code in {"CG01", "HJ01"}

    texts, labels = _two_category_set("CG01", "LD01")
    second = classifier.train(texts=texts, labels=labels, folds=2)
    assert second.model_version != first.model_version
    s2 = classifier.suggest(wage_text)  # no clear_cache(): the changed file is noticed
    assert s2 is not None and s2.model_version == second.model_version
    assert s2.category.code == "LD01"
    assert not list(tmp_path.glob(".router-*"))  # the temporary file was renamed, not left behind


@pytest.mark.django_db
def test_train_refuses_too_little(tmp_path: Path) -> None:
    path = tmp_path / "router.joblib"
    texts, labels = _two_category_set("CG01", "HJ01")
    with pytest.raises(AppealError) as one_category:
        classifier.train(texts=texts, labels=["CG01"] * len(texts), folds=3, path=path)
    assert one_category.value.code == "too_few_categories"
    with pytest.raises(AppealError) as few_rows:
        classifier.train(texts=texts[:40], labels=labels[:40], folds=3, path=path)
    assert few_rows.value.code == "too_few_rows"
    assert not path.exists()


@pytest.mark.django_db
def test_categories_with_too_few_rows_are_skipped_and_reported(tmp_path: Path) -> None:
    texts, labels = _two_category_set("CG01", "HJ01")
    extra = [t for t in generate(3000, seed=5) if t.category == "LD01"][:3]
    report = classifier.train(
        texts=texts + [t.text for t in extra], labels=labels + ["LD01"] * 3, folds=3, path=tmp_path / "m.joblib"
    )
    assert report.skipped == {"LD01": 3}
    assert {r.code for r in report.per_category} == {"CG01", "HJ01"}
    assert report.n == len(texts)


@pytest.mark.django_db
def test_tokenize_is_quiet_and_caches_jieba_inside_var_dir(settings: Any) -> None:
    import jieba

    assert classifier.tokenize(classifier.normalize("小区门口路灯坏了，３号楼")) == [
        "小区",
        "门口",
        "路灯",
        "坏",
        "了",
        "0",
        "号楼",
    ]
    assert jieba.dt.tmp_dir == str(Path(settings.VAR_DIR) / "cache")
    assert (Path(settings.VAR_DIR) / "cache" / "jieba.cache").exists()
    assert jieba.default_logger.level == logging.WARNING  # no "Building prefix dict…" on stderr


def _appeal(city: Any, n: int, *, status: str, category: Category | None, title: str, description: str) -> Appeal:
    now = timezone.now()
    return Appeal.objects.create(
        code=f"GY2026-{n:07d}",
        channel="hotline",
        title=title,
        description=description,
        category=category,
        unit=city.grid_a,
        status=status,
        submitted_at=now - timedelta(days=10),
        closed_at=now if status == Status.CLOSED else None,
    )


def test_training_rows_from_db(city: Any) -> None:
    cg01 = Category.objects.get(code="CG01")
    hj04 = Category.objects.get(code="HJ04")
    _appeal(city, 1, status=Status.CLOSED, category=cg01, title="路灯不亮", description="门口路灯坏了")
    _appeal(city, 2, status=Status.CLOSED, category=None, title="无分类", description="没有分类的旧件")
    _appeal(city, 3, status=Status.IN_PROGRESS, category=hj04, title="未办结", description="还在办理，没有人工确认")
    confirmed = _appeal(city, 4, status=Status.REGISTERED, category=hj04, title="油烟", description="楼下餐馆油烟")
    CategoryDecision.objects.create(
        appeal=confirmed, suggested=cg01, score=0.4, chosen=cg01, at=timezone.now() - timedelta(hours=2)
    )
    CategoryDecision.objects.create(appeal=confirmed, suggested=cg01, score=0.4, chosen=hj04, at=timezone.now())
    rows = classifier.training_rows_from_db()
    assert sorted(rows) == sorted([("路灯不亮\n门口路灯坏了", "CG01"), ("油烟\n楼下餐馆油烟", "HJ04")])


def test_train_router_command(city: Any, settings: Any, tmp_path: Path) -> None:
    settings.ZHUCHENG_ROUTER_MODEL = str(tmp_path / "router.joblib")
    out = StringIO()
    call_command("train_router", "--from-demo-set", "600", "--folds", "2", stdout=out)
    text = out.getvalue()
    assert "数据库 0 条 + 生成 600 条 = 600 条" in text
    accuracy = float(re.search(r"准确率 ([0-9.]+)（accuracy）", text).group(1))  # type: ignore[union-attr]
    assert accuracy >= 0.75
    assert re.search(r"CG01\s+路灯照明\s+\d+\s+[01]\.\d{3}", text)
    assert "召回率 (recall)" in text
    assert re.search(r"训练耗时（training time）：交叉验证 [0-9.]+ 秒，全量训练 [0-9.]+ 秒", text)
    assert re.search(r"1000 条用时 [0-9.]+ 秒，每秒 \d+ 条", text)
    assert (tmp_path / "router.joblib").exists()
    assert classifier.suggest("小区门口路灯坏了一个月没人修") is not None


def test_train_router_command_refuses_without_data(city: Any, settings: Any, tmp_path: Path) -> None:
    settings.ZHUCHENG_ROUTER_MODEL = str(tmp_path / "router.joblib")
    with pytest.raises(CommandError, match="--from-demo-set"):
        call_command("train_router", stdout=StringIO())
    assert not (tmp_path / "router.joblib").exists()


def test_train_router_command_says_when_it_adds_the_demo_set(city: Any, settings: Any, tmp_path: Path) -> None:
    settings.ZHUCHENG_ROUTER_MODEL = str(tmp_path / "router.joblib")
    cg01 = Category.objects.get(code="CG01")
    for i in range(3):
        _appeal(city, 10 + i, status=Status.CLOSED, category=cg01, title="路灯坏了", description=f"第{i}盏路灯不亮")
    out = StringIO()
    call_command("train_router", "--from-demo-set", "600", "--folds", "2", stdout=out)
    assert "已与生成的训练集合并" in out.getvalue()
    assert "数据库 3 条 + 生成 600 条 = 603 条" in out.getvalue()
