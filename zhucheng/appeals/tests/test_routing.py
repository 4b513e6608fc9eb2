"""Routing: the most specific active rule wins; without one the community or township of the unit handles it."""

from __future__ import annotations

from typing import Any

import pytest

from zhucheng.appeals import routing
from zhucheng.appeals.models import Category, RoutingRule
from zhucheng.places.models import Department, OrgUnit
from zhucheng.places.services import unit_create


@pytest.fixture(autouse=True)
def _fresh_rules() -> Any:
    # Rolled-back test data sends no signals: start and end every test with an empty cache.
    routing.clear_cache()
    yield
    routing.clear_cache()


@pytest.fixture
def depts(db: Any) -> dict[str, Department]:
    return {
        code: Department.objects.create(code=code, name=name)
        for code, name in [("R1", "市综合行政执法局"), ("R2", "市交通运输局"), ("R3", "市生态环境局"), ("R4", "南明区城管局")]
    }


def cat(code: str) -> Category:
    return Category.objects.select_related("parent").get(code=code)


def rule(department: Department, *, category: str | None = None, unit: OrgUnit | None = None, **kw: Any) -> RoutingRule:
    return RoutingRule.objects.create(department=department, category=cat(category) if category else None, unit=unit, **kw)


def test_without_rules_the_community_of_the_grid_handles_it(city: Any) -> None:
    r = routing.route(category=cat("CG01"), unit=city.grid_a)
    assert r == routing.Route(department=None, unit=city.community_a, rule=None)
    assert routing.route(category=None, unit=city.committee_b).unit == city.community_b
    assert routing.route(category=cat("CG01"), unit=city.community_a).unit == city.community_a
    # Above any community there is no one to fall back on: the dispatcher chooses.
    assert routing.route(category=cat("CG01"), unit=city.district) == routing.Route(None, None, None)


def test_fallback_finds_a_township_above_a_village_grid(city: Any) -> None:
    town = unit_create(actor=None, code="990101003", name="青岩镇", kind="township", parent=city.district)
    village = unit_create(actor=None, code="990101003001", name="龙井村", kind="village", parent=town)
    grid = unit_create(actor=None, code="990101003001001", name="第1网格", kind="grid", parent=village)
    assert routing.route(category=cat("NY01"), unit=grid).unit == town
    assert routing.route(category=cat("NY01"), unit=village).unit == town


def test_leaf_category_beats_parent_beats_any(city: Any, depts: dict[str, Department]) -> None:
    any_rule = rule(depts["R3"])
    parent_rule = rule(depts["R1"], category="CG")
    leaf_rule = rule(depts["R2"], category="CG01")
    assert routing.route(category=cat("CG01"), unit=city.grid_a) == routing.Route(depts["R2"], None, leaf_rule)
    assert routing.route(category=cat("CG02"), unit=city.grid_a).rule == parent_rule
    assert routing.route(category=cat("JT01"), unit=city.grid_a).rule == any_rule
    assert routing.route(category=None, unit=city.grid_a).rule == any_rule
    # A rule for another leaf of the same parent never applies.
    assert routing.route(category=cat("CG03"), unit=city.grid_a).department == depts["R1"]


def test_deeper_unit_beats_shallower_beats_city_wide(city: Any, depts: dict[str, Department]) -> None:
    rule(depts["R1"], category="CG01")
    rule(depts["R3"], category="CG01", unit=city.district)
    rule(depts["R4"], category="CG01", unit=city.community_a)
    assert routing.route(category=cat("CG01"), unit=city.grid_a).department == depts["R4"]
    assert routing.route(category=cat("CG01"), unit=city.grid_b).department == depts["R3"]
    other_district = unit_create(actor=None, code="990102", name="云岩区", kind="district", parent=city.city)
    assert routing.route(category=cat("CG01"), unit=other_district).department == depts["R1"]


def test_category_is_weighed_before_the_area(city: Any, depts: dict[str, Department]) -> None:
    rule(depts["R4"], unit=city.community_a)  # any category, but for the very community
    rule(depts["R2"], category="CG01")  # city-wide, but for the very category
    assert routing.route(category=cat("CG01"), unit=city.grid_a).department == depts["R2"]
    assert routing.route(category=cat("CG02"), unit=city.grid_a).department == depts["R4"]


def test_a_unit_rule_applies_to_its_subtree_only_not_to_lookalike_codes(city: Any, depts: dict[str, Department]) -> None:
    rule(depts["R4"], category="CG01", unit=city.community_a)
    lookalike = unit_create(actor=None, code="9901010019", name="相似编码社区", kind="community", parent=city.district)
    assert lookalike.path.startswith(city.community_a.path.rstrip("/"))  # same leading characters …
    assert routing.route(category=cat("CG01"), unit=lookalike).rule is None  # … but not inside the subtree
    assert routing.route(category=cat("CG01"), unit=city.grid_b).rule is None


def test_lower_priority_number_wins_then_the_older_rule(city: Any, depts: dict[str, Department]) -> None:
    rule(depts["R1"], category="CG01", priority=50)
    preferred = rule(depts["R2"], category="CG01", priority=10)
    assert routing.route(category=cat("CG01"), unit=city.grid_a).rule == preferred
    older = rule(depts["R3"], category="JT01", priority=20)
    rule(depts["R4"], category="JT01", priority=20)
    assert routing.route(category=cat("JT01"), unit=city.grid_a).rule == older


def test_inactive_rules_departments_and_units_are_ignored(city: Any, depts: dict[str, Department]) -> None:
    rule(depts["R1"], category="CG01", is_active=False)
    rule(depts["R2"], category="CG01", unit=city.community_a)
    rule(depts["R3"], category="CG01")
    depts["R2"].is_active = False
    depts["R2"].save()
    assert routing.route(category=cat("CG01"), unit=city.grid_a).department == depts["R3"]
    rule(depts["R4"], category="CG01", unit=city.committee_a)
    city.committee_a.is_active = False
    city.committee_a.save()
    assert routing.route(category=cat("CG01"), unit=city.grid_a).department == depts["R3"]


def test_rule_edits_clear_the_cache(city: Any, depts: dict[str, Department]) -> None:
    r = rule(depts["R1"], category="CG01")
    assert routing.route(category=cat("CG01"), unit=city.grid_a).department == depts["R1"]
    r.department = depts["R2"]
    r.save()
    assert routing.route(category=cat("CG01"), unit=city.grid_a).department == depts["R2"]
    r.is_active = False
    r.save()
    assert routing.route(category=cat("CG01"), unit=city.grid_a).rule is None
    r.is_active = True
    r.save()
    assert routing.route(category=cat("CG01"), unit=city.grid_a).rule == r
    r.delete()
    assert routing.route(category=cat("CG01"), unit=city.grid_a) == routing.Route(None, city.community_a, None)
    added = rule(depts["R3"], unit=city.community_a)
    assert routing.route(category=cat("CG01"), unit=city.grid_a).rule == added


def test_cache_expires_for_edits_made_in_other_processes(
    city: Any, depts: dict[str, Department], monkeypatch: pytest.MonkeyPatch
) -> None:
    r = rule(depts["R1"], category="CG01")
    assert routing.route(category=cat("CG01"), unit=city.grid_a).rule == r
    RoutingRule.objects.filter(pk=r.pk).update(department=depts["R2"])  # no signal, as from another process
    assert routing.route(category=cat("CG01"), unit=city.grid_a).department == depts["R1"]
    monkeypatch.setattr(routing, "CACHE_TTL_SECONDS", -1.0)
    assert routing.route(category=cat("CG01"), unit=city.grid_a).department == depts["R2"]


def test_query_counts(city: Any, depts: dict[str, Department], django_assert_num_queries: Any) -> None:
    for i in range(20):
        rule(depts["R1"], category="CG01", unit=city.community_b, priority=i)
    rule(depts["R2"], category="JT01")
    cg01, jt01 = cat("CG01"), cat("JT01")
    grid = OrgUnit.objects.get(pk=city.grid_a.pk)
    with django_assert_num_queries(2):  # cold cache: the rules, then the community of the grid
        assert routing.route(category=cg01, unit=grid).unit == city.community_a
    with django_assert_num_queries(0):  # a matching rule from the cache: no query at all
        assert routing.route(category=jt01, unit=grid).department == depts["R2"]
    with django_assert_num_queries(1):
        routing.route(category=cg01, unit=grid)
