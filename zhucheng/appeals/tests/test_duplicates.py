"""Duplicate suggestions: the same petitioner within 90 days, or similar text within 300 m in the same category."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from zhucheng.appeals import duplicates
from zhucheng.appeals.duplicates import find_candidates, haversine_m, text_similarity
from zhucheng.appeals.models import Appeal, Category, Status
from zhucheng.core.crypto import keyed_hash

LAT, LON = 26.3, 106.1  # inside grid_a
M_PER_DEG_LAT = math.pi * duplicates.EARTH_RADIUS_M / 180

LAMP = "路灯不亮\n中华路12号小区门口的路灯坏了一个多星期，晚上很黑，老人出行不安全。"
LAMP_AGAIN = "路灯坏了\n中华路12号小区门口路灯已经坏了好几天了，晚上黑漆漆的，请尽快修理。"
OTHER_LAMP = "路灯闪烁\n宝山北路公交站旁边的路灯一直闪，影响司机视线。"
WAGES = "拖欠工资\n某建筑公司拖欠我们十几个农民工工资三个月"

_codes = itertools.count(1)


def north(metres: float) -> float:
    return LAT + metres / M_PER_DEG_LAT


def east(metres: float) -> float:
    return LON + metres / (M_PER_DEG_LAT * math.cos(math.radians(LAT)))


@pytest.fixture
def cats(db: Any) -> dict[str, Category]:
    return {c.code: c for c in Category.objects.filter(code__in=["CG01", "CG02", "LD01"])}


@pytest.fixture
def now() -> datetime:
    return timezone.now()


def make(city: Any, text: str, *, when: datetime, category: Category | None = None, phone: str = "", lat: float | None = LAT, lon: float | None = LON, **kw: Any) -> Appeal:
    title, description = text.split("\n", 1)
    return Appeal.objects.create(
        code=f"GY2026-{next(_codes):07d}",
        channel="hotline",
        title=title,
        description=description,
        unit=city.grid_a,
        submitted_at=when,
        category=category,
        petitioner_key=keyed_hash(phone) if phone else "",
        lat=lat,
        lon=lon,
        **kw,
    )


# --- text similarity --------------------------------------------------------------------------


def test_text_similarity() -> None:
    assert text_similarity(LAMP, LAMP) == pytest.approx(1.0)
    assert text_similarity(LAMP, LAMP_AGAIN) == pytest.approx(text_similarity(LAMP_AGAIN, LAMP))
    assert text_similarity(LAMP, LAMP_AGAIN) >= duplicates.threshold()
    assert text_similarity(LAMP, OTHER_LAMP) < 0.15
    assert text_similarity(LAMP, WAGES) < 0.05
    assert text_similarity("", LAMP) == 0.0
    # punctuation, spaces and full-width characters do not matter
    assert text_similarity("ＡＢＣ路灯，坏了！", "abc 路灯坏了") == pytest.approx(1.0)


def test_haversine() -> None:
    assert haversine_m(LAT, LON, north(300), LON) == pytest.approx(300, abs=0.5)
    assert haversine_m(LAT, LON, LAT, east(300)) == pytest.approx(300, abs=0.5)


# --- same petitioner --------------------------------------------------------------------------


def test_same_petitioner_within_ninety_days(city: Any, cats: dict[str, Category], now: datetime) -> None:
    inside = make(city, LAMP, when=now - timedelta(days=89), category=cats["CG01"], phone="13900000001", lat=None, lon=None)
    make(city, LAMP, when=now - timedelta(days=91), category=cats["CG01"], phone="13900000001", lat=None, lon=None)
    make(city, LAMP, when=now - timedelta(days=3), category=cats["CG01"], phone="13900000002", lat=None, lon=None)
    make(city, LAMP, when=now - timedelta(days=3), category=cats["CG01"], lat=None, lon=None)  # no phone: not "the same"
    make(city, LAMP, when=now + timedelta(days=1), category=cats["CG01"], phone="13900000001", lat=None, lon=None)  # later
    new = make(city, LAMP_AGAIN, when=now, category=cats["CG01"], phone="13900000001", lat=None, lon=None)

    found = find_candidates(new)
    assert [c.other for c in found] == [inside]
    assert found[0].reason == "same_petitioner" and 0.7 < found[0].score <= 1.0


def test_same_petitioner_ranks_the_same_matter_first(city: Any, cats: dict[str, Category], now: datetime) -> None:
    unrelated = make(city, WAGES, when=now - timedelta(days=1), category=cats["LD01"], phone="13900000001", lat=None, lon=None)
    same = make(city, LAMP, when=now - timedelta(days=30), category=cats["CG01"], phone="13900000001", lat=None, lon=None)
    new = make(city, LAMP_AGAIN, when=now, category=cats["CG01"], phone="13900000001", lat=None, lon=None)

    found = find_candidates(new)
    assert [c.other for c in found] == [same, unrelated]
    assert found[0].score > found[1].score
    assert all(0.0 <= c.score <= 1.0 for c in found)


def test_no_petitioner_key_means_no_petitioner_match(city: Any, now: datetime) -> None:
    make(city, LAMP, when=now - timedelta(days=1), lat=None, lon=None)
    assert find_candidates(make(city, LAMP, when=now, lat=None, lon=None)) == []


# --- similar nearby ---------------------------------------------------------------------------


def test_similar_text_nearby_in_the_same_category(city: Any, cats: dict[str, Category], now: datetime) -> None:
    lamp = cats["CG01"]
    near = make(city, LAMP, when=now - timedelta(days=5), category=lamp, lat=north(200))
    make(city, LAMP, when=now - timedelta(days=5), category=lamp, lat=north(400))  # too far
    make(city, LAMP, when=now - timedelta(days=5), category=lamp, lat=north(250), lon=east(250))  # in the box, 354 m
    make(city, LAMP, when=now - timedelta(days=5), category=cats["CG02"], lat=north(50))  # other category
    make(city, OTHER_LAMP, when=now - timedelta(days=5), category=lamp, lat=north(50))  # different text
    make(city, LAMP, when=now - timedelta(days=95), category=lamp, lat=north(50))  # too old
    make(city, LAMP, when=now - timedelta(days=5), category=lamp, lat=north(50), status=Status.MERGED)
    new = make(city, LAMP_AGAIN, when=now, category=lamp)

    found = find_candidates(new)
    assert [c.other for c in found] == [near]
    assert found[0].reason == "similar_nearby"
    assert 0 < found[0].score <= text_similarity(LAMP, LAMP_AGAIN)


def test_nearer_scores_higher_for_the_same_text(city: Any, cats: dict[str, Category], now: datetime) -> None:
    far = make(city, LAMP, when=now - timedelta(days=2), category=cats["CG01"], lon=east(280))
    close = make(city, LAMP, when=now - timedelta(days=2), category=cats["CG01"], lon=east(10))
    found = find_candidates(make(city, LAMP_AGAIN, when=now, category=cats["CG01"]))
    assert [c.other for c in found] == [close, far]


def test_unconfirmed_category_uses_the_classifier_suggestion(city: Any, cats: dict[str, Category], now: datetime) -> None:
    older = make(city, LAMP, when=now - timedelta(days=2), suggested_category=cats["CG01"])
    new = make(city, LAMP_AGAIN, when=now, suggested_category=cats["CG01"])
    assert [c.other for c in find_candidates(new)] == [older]
    assert find_candidates(make(city, LAMP_AGAIN, when=now)) == []  # no category at all: no nearby match


def test_without_a_point_only_the_petitioner_signal_applies(city: Any, cats: dict[str, Category], now: datetime) -> None:
    make(city, LAMP, when=now - timedelta(days=2), category=cats["CG01"])
    assert find_candidates(make(city, LAMP_AGAIN, when=now, category=cats["CG01"], lat=None, lon=None)) == []


def test_both_signals_on_one_appeal_give_one_candidate(city: Any, cats: dict[str, Category], now: datetime) -> None:
    older = make(city, LAMP, when=now - timedelta(days=2), category=cats["CG01"], phone="13900000001")
    found = find_candidates(make(city, LAMP_AGAIN, when=now, category=cats["CG01"], phone="13900000001"))
    assert len(found) == 1 and found[0].other == older and found[0].reason == "same_petitioner"


# --- bounded cost -----------------------------------------------------------------------------


def test_at_most_five_best_first_in_three_queries(
    city: Any, cats: dict[str, Category], now: datetime, django_assert_max_num_queries: Any
) -> None:
    lamp = cats["CG01"]
    for i in range(duplicates.MAX_COMPARED + 30):
        make(city, LAMP, when=now - timedelta(hours=i + 1), category=lamp, phone="13900000001", lon=east(i % 250))
    new = make(city, LAMP_AGAIN, when=now, category=lamp, phone="13900000001")
    with django_assert_max_num_queries(3) as ctx:
        found = find_candidates(new)
        assert [c.other.code for c in found]  # the related rows are already loaded
    assert len(ctx.captured_queries) == 2
    assert all(f"LIMIT {duplicates.MAX_COMPARED}" in q["sql"] for q in ctx.captured_queries)  # bounded reads
    assert len(found) == duplicates.MAX_RESULTS
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True)
    assert new not in [c.other for c in found]


def test_the_nearby_search_can_use_its_expression_index(city: Any, cats: dict[str, Category], now: datetime) -> None:
    """The plain statement must spell the index's COALESCE expression, or PostgreSQL cannot use appeal_dup_place."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("expression indexes are read from PostgreSQL's plan")
    params = [now - timedelta(days=90), now, Status.MERGED.value, -1, cats["CG01"].pk, LAT - 0.01, LAT + 0.01, LON - 0.01, LON + 0.01]
    with connection.cursor() as cursor:
        # On a near-empty table the plain submitted_at index wins; take it away (rolled back with the test).
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'appeals_appeal' AND indexdef LIKE '%%submitted_at%%'"
            " AND indexname <> 'appeal_dup_place' AND indexdef NOT LIKE 'CREATE UNIQUE%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + duplicates._NEARBY_SQL, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "appeal_dup_place" in plan, plan
