"""Registry reads: scoping (a worker of one community sees nothing of another), searches, timelines,
completeness of the five knowns, the resident's own record and the log of staff reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from zhucheng.accounts.models import User
from zhucheng.places.selectors import NotVisible, scope_for
from zhucheng.registry import completeness, selectors, services
from zhucheng.registry.models import HousingUnit, Residence

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(city):  # type: ignore[no-untyped-def]
    """One person in each community, each with a rental, a permit and a points application."""
    out = {}
    for where in ("a", "b"):
        b = f.building(where, plate=f"{'新华' if where == 'a' else '中南'}路{8 if where == 'a' else 9}号")
        home = services.housing_unit_add(actor=None, building=b, number="1单元101")
        p = f.person(home, name="王小明" if where == "a" else "王小红", kind="migrant", since=f.today() - timedelta(days=700))
        services.employment_start(actor=None, person=p, employer="贵阳某公司", occupation="会计", from_date=date(2020, 1, 1))
        services.tenancy_register(
            actor=None, housing_unit=home, tenants=[p], landlord_name="物业公司", start_date=f.today() - timedelta(days=300), end_date=f.today() + timedelta(days=10)
        )
        permit = services.permit_issue(actor=None, permit=services.permit_apply(actor=None, person=p), issued_on=f.today() - timedelta(days=350))
        services.points_submit(actor=None, person=p, year=2026, facts={})
        services.correction_request(actor=None, person=p, field="ethnicity", requested_value="苗族", reason="填错")
        out[where] = {"person": p, "home": home, "building": b, "permit": permit}
    return out


def test_scoping_matrix(city, two) -> None:  # type: ignore[no-untyped-def]
    a, b = two["a"]["person"], two["b"]["person"]
    cases = {
        "worker_a": {a.pk},
        "grid_worker_a": {a.pk},
        "worker_b": {b.pk},
        "supervisor": {a.pk, b.pk},
        "handler": set(),
        "nobody": set(),
    }
    for who, expected in cases.items():
        user = getattr(city, who)
        assert set(selectors.persons_visible_to(user).values_list("pk", flat=True)) == expected, who
        assert {p.pk for p in selectors.persons_search_name(user, "王小")} == expected, who
        assert {r.person_id for r in selectors.persons_search_address(user, "南明区")} == expected, who
        assert {p.pk for p in selectors.persons_find_by_phone(user, "138 0013 8000")} == expected, who
        assert {t.housing_unit.residences.first().person_id for t in selectors.tenancies_ending_soon(user)} == expected, who
        assert {p.person_id for p in selectors.permits_expiring_soon(user)} == expected, who
        assert {p.person_id for p in selectors.points_ranking(user, 2026)} == expected, who
        assert {c.person_id for c in selectors.corrections_pending_visible_to(user)} == expected, who
        assert {u.pk for u in selectors.housing_units_visible_to(user)} == {two[k]["home"].pk for k in "ab" if two[k]["person"].pk in expected}
        assert (selectors.person_find_by_id_number(user, a.id_number) is not None) == (a.pk in expected), who
    with pytest.raises(NotVisible):
        selectors.person_get_for_user(city.worker_b, a.pk)
    with pytest.raises(NotVisible):
        selectors.housing_unit_get_for_user(city.worker_b, two["a"]["home"].pk)
    with pytest.raises(NotVisible):
        selectors.completeness_for(city.worker_b, city.community_a)
    assert selectors.person_get_for_user(city.worker_a, a.pk) == a


def test_name_search_orders_exact_first_and_needs_two_characters(city, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    home = f.unit("a")
    for name in ("王小明明", "王小明", "张王小明", "李四"):
        f.person(home if name == "王小明" else f.unit("a", number=name), name=name)
    scope_for(city.worker_a)  # the scope is read once per user; the search itself is one query
    with django_assert_num_queries(1):
        found = [p.name for p in selectors.persons_search_name(city.worker_a, "王小明")]
    assert found[0] == "王小明" and set(found) == {"王小明", "王小明明", "张王小明"}
    assert selectors.persons_search_name(city.worker_a, "王") == []
    assert [p.name for p in selectors.persons_search_name(city.worker_a, "李四")] == ["李四"]
    assert selectors.persons_search_name(city.worker_a, "王小明", within=city.community_b) == []


def test_residence_history_and_unit_occupants_over_time(city) -> None:
    first, second = f.unit("a"), f.unit("a", number="2单元202")
    p = f.person(first, since=date(2019, 1, 1))
    services.person_move_in(actor=city.worker_a, person=p, housing_unit=second, kind="permanent", from_date=date(2023, 3, 1))
    services.person_move_out(actor=city.worker_a, residence=Residence.objects.get(person=p, to_date__isnull=True), to_date=date(2024, 3, 1))
    history = selectors.residence_history(p)
    assert [(r.housing_unit_id, r.from_date, r.to_date) for r in history] == [
        (first.pk, date(2019, 1, 1), date(2023, 3, 1)),
        (second.pk, date(2023, 3, 1), date(2024, 3, 1)),
    ]
    assert selectors.unit_occupants(first) == []
    assert [r.person_id for r in selectors.unit_occupants(first, on=date(2020, 1, 1))] == [p.pk]
    assert [r.person_id for r in selectors.unit_timeline(second)] == [p.pk]
    assert list(selectors.units_in(city.worker_a, city.grid_a).values_list("occupants", flat=True)) == [0, 0]


def test_five_knowns_follow_the_events(city) -> None:
    home = f.unit("a")
    empty = f.unit("a", number="2单元202")
    assert completeness.unit_flags(HousingUnit.objects.get(pk=home.pk)) == {
        "door_plate": True, "occupants": False, "occupations": False, "moves": False, "care": False,
    }  # fmt: skip
    p = f.person(home, employment_status="retired")
    home.refresh_from_db()
    assert (home.known_occupants, home.known_occupations, home.known_moves, home.known_care) == (True, True, True, False)
    services.person_update(actor=city.worker_a, person=p, changes={"care_needs": ""})
    home.refresh_from_db()
    assert home.known_all
    services.housing_unit_confirm_vacant(actor=city.grid_worker_a, housing_unit=empty)
    empty.refresh_from_db()
    assert empty.known_all
    f.person(home, name="新来的")  # employment status and care needs not yet asked
    home.refresh_from_db()
    assert (home.known_occupations, home.known_care, home.known_all) == (False, False, False)
    for u in HousingUnit.objects.all():
        assert completeness.compute_flags(u) == completeness.unit_flags(u)
    # The grouped bulk refresh (used by loads) agrees with the per-unit rule, and rewrites nothing when in step.
    assert completeness.refresh_units_bulk("SELECT id FROM registry_housingunit") == 0
    HousingUnit.objects.update(known_door_plate=False, known_occupants=False, known_occupations=True, known_moves=False, known_care=True)
    assert completeness.refresh_units_bulk("SELECT id FROM registry_housingunit") == 2
    for u in HousingUnit.objects.all():
        assert completeness.compute_flags(u) == completeness.unit_flags(u)
    grid = completeness.completeness_by_grid()[city.grid_a.pk]
    assert (grid.units, grid.complete, grid.known["occupants"], grid.known["care"]) == (2, 1, 2, 1)
    community = selectors.completeness_for(city.worker_a, city.community_a)
    assert (community.units, community.complete, community.rate("complete")) == (2, 1, 0.5)
    rows = selectors.completeness_children_for(city.supervisor, city.district)
    assert [(r.unit.name, r.units) for r in rows] == [("中华社区", 2), ("威清社区", 0)]


def test_reads_of_person_show_who_when_and_why(city) -> None:
    p = f.person(f.unit("a"))
    resident = User.objects.create(username="r_self", kind="resident")
    services.person_link_account(actor=None, person=p, user=resident)
    p.refresh_from_db()
    services.person_reveal(actor=city.worker_a, person=p, field="id_number", reason="办理居住证核对")
    services.person_record_read(actor=city.grid_worker_a, person=p, purpose="入户走访")
    services.person_record_read(actor=resident, person=p)  # the resident reading their own record is not listed
    reads = selectors.reads_of_person(p)
    assert [(r.who, r.act, r.why) for r in reads] == [
        ("张网格", "registry.read", "入户走访"),
        ("李社区", "registry.reveal_id", "办理居住证核对"),
    ]
    assert reads[1].what == "查看了您的完整身份证号码" and reads[0].at >= reads[1].at
    with pytest.raises(Exception):  # noqa: B017 - scope refusal, whatever the error class
        services.person_record_read(actor=city.worker_b, person=p)


def test_my_record_holds_household_permits_points_and_reads(city, two) -> None:  # type: ignore[no-untyped-def]
    p = two["a"]["person"]
    resident = User.objects.create(username="r_me", kind="resident")
    assert selectors.my_record(resident) is None
    services.person_link_account(actor=city.worker_a, person=p, user=resident)
    household = services.household_create(actor=None, head=p, housing_unit=two["a"]["home"])
    services.person_reveal(actor=city.worker_a, person=p, field="phone", reason="电话回访")
    record = selectors.my_record(resident)
    assert record is not None and record.person == p and record.household == household
    assert [m.relation for m in record.members] == ["head"]
    assert [x.pk for x in record.permits] == [two["a"]["permit"].pk]
    assert [a.year for a in record.points_applications] == [2026]
    assert [c.field for c in record.corrections] == ["ethnicity"]
    assert [r.why for r in record.reads] == ["电话回访"]
    assert len(record.residences) == 1 and record.employments[0].occupation == "会计"
