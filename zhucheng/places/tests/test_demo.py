"""The demo city: the reference's counts, consistent paths, tiled valid boundaries, idempotence, demo logins."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from shapely.geometry import shape

from zhucheng.accounts import demo as accounts_demo
from zhucheng.accounts.models import AccountKind, User
from zhucheng.accounts.services import resident_find_by_phone
from zhucheng.core import demo as core_demo
from zhucheng.core.audit import audit_verify
from zhucheng.core.models import AuditEvent
from zhucheng.places import demo as places_demo
from zhucheng.places import geo
from zhucheng.places.data import guiyang
from zhucheng.places.models import Department, Membership, OrgUnit, OrgUnitKind, Role

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Seed once for the module inside a transaction that is rolled back afterwards.

    Each test then runs in a savepoint inside it, so the city is seen by every test here
    and by no test elsewhere.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            out = io.StringIO()
            call_command("seed_demo", size="small", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _counts() -> dict[str, int]:
    return dict(OrgUnit.objects.values_list("kind").annotate(n=Count("id")).order_by())


# Kept first in the file: it must run before the module-wide city exists (``seeded`` is lazy).
def test_if_empty_seeds_an_empty_database() -> None:
    assert not OrgUnit.objects.exists()
    out = io.StringIO()
    call_command("seed_demo", size="small", if_empty=True, stdout=out)
    assert _counts()[OrgUnitKind.VILLAGE] == 913
    assert "跳过" not in out.getvalue()


def test_counts_match_the_reference(seeded: str) -> None:
    counts = _counts()
    assert counts[OrgUnitKind.CITY] == 1
    assert counts[OrgUnitKind.DISTRICT] == 10
    assert counts[OrgUnitKind.COMMUNITY] == 93
    assert counts[OrgUnitKind.TOWNSHIP] == 75
    assert counts[OrgUnitKind.RESIDENTS_COMMITTEE] == 532
    assert counts[OrgUnitKind.VILLAGE] == 913
    assert 2500 <= counts[OrgUnitKind.GRID] <= 4500
    lower = OrgUnit.objects.filter(kind__in=[OrgUnitKind.RESIDENTS_COMMITTEE, OrgUnitKind.VILLAGE])
    without_grid = lower.annotate(g=Count("children", filter=Q(children__kind=OrgUnitKind.GRID))).filter(g=0)
    assert not without_grid.exists()
    # Committees sit mostly under communities, villages mostly under townships.
    assert OrgUnit.objects.filter(kind=OrgUnitKind.RESIDENTS_COMMITTEE, parent__kind=OrgUnitKind.COMMUNITY).count() > 400
    assert OrgUnit.objects.filter(kind=OrgUnitKind.VILLAGE, parent__kind=OrgUnitKind.TOWNSHIP).count() > 800
    city = OrgUnit.objects.get(kind=OrgUnitKind.CITY)
    assert (city.code, city.name, city.path) == ("5201", "贵阳市", "/5201/")
    assert set(OrgUnit.objects.filter(kind=OrgUnitKind.DISTRICT).values_list("code", flat=True)) == {
        "520102",
        "520103",
        "520111",
        "520112",
        "520113",
        "520115",
        "520121",
        "520122",
        "520123",
        "520181",
    }
    # The names the reference article mentions are where it puts them.
    assert OrgUnit.objects.filter(name="金东居委会", parent__name="铝兴社区", parent__parent__name="白云区").exists()
    assert OrgUnit.objects.filter(name="碧海社区", parent__name="观山湖区").exists()
    assert OrgUnit.objects.filter(name="三合村", path__startswith="/5201/520121/").exists()
    assert "residents_committee=532" in seeded  # the summary line was printed


def test_departments(seeded: str) -> None:
    assert Department.objects.count() == 28
    centre = Department.objects.get(is_dispatch_centre=True)
    assert centre.name == "市群众工作中心"
    assert Department.objects.filter(code="D03", name="市住房和城乡建设局").exists()
    assert len(set(Department.objects.values_list("code", flat=True))) == 28


def test_paths_and_codes_are_consistent(seeded: str) -> None:
    units = {u.pk: u for u in OrgUnit.objects.only("id", "code", "parent_id", "path", "depth", "kind")}
    for unit in units.values():
        assert len(unit.code) <= 40
        if unit.parent_id is None:
            assert (unit.path, unit.depth) == (f"/{unit.code}/", 0)
            continue
        parent = units[unit.parent_id]
        assert unit.path == f"{parent.path}{unit.code}/", unit.code
        assert unit.depth == parent.depth + 1
        assert unit.code.startswith(parent.code)  # hierarchical codes
    assert max(u.depth for u in units.values()) == 4


def test_boundaries_are_valid_polygons_around_their_centre(seeded: str) -> None:
    lon0, lat0, lon1, lat1 = guiyang.CITY_BOX
    for code, boundary, lat, lon in OrgUnit.objects.values_list("code", "boundary", "lat", "lon"):
        assert boundary["type"] == "Polygon", code
        ring = boundary["coordinates"][0]
        assert ring[0] == ring[-1]
        assert all(lon0 <= x <= lon1 and lat0 <= y <= lat1 and round(x, 6) == x for x, y in ring)
        geom = shape(boundary)
        assert geom.is_valid and geom.area > 0, code
        geo.validate_boundary(boundary)  # what the services accept
        assert geom.contains(shape({"type": "Point", "coordinates": [lon, lat]})), code


def _assert_tiles(parent: OrgUnit) -> None:
    """The children of ``parent`` do not overlap, lie inside it, and cover it."""
    outer = shape(parent.boundary)
    children = [shape(c.boundary) for c in parent.children.all()]
    assert children
    for i, a in enumerate(children):
        assert outer.buffer(1e-9).covers(a), parent.code
        for b in children[i + 1 :]:
            assert a.intersection(b).area < 1e-12, parent.code
    assert sum(c.area for c in children) == pytest.approx(outer.area, rel=1e-6)


def test_children_tile_their_parent(seeded: str) -> None:
    _assert_tiles(OrgUnit.objects.get(code="5201"))
    _assert_tiles(OrgUnit.objects.get(code=places_demo.DEMO_DISTRICT_CODE))
    _assert_tiles(OrgUnit.objects.get(code="520121"))  # a county: communities and townships
    rng = random.Random(7)
    lower = list(OrgUnit.objects.filter(kind__in=[OrgUnitKind.RESIDENTS_COMMITTEE, OrgUnitKind.VILLAGE]).order_by("code"))
    for unit in rng.sample(lower, 12):
        _assert_tiles(unit)
    for unit in rng.sample(list(OrgUnit.objects.filter(kind=OrgUnitKind.TOWNSHIP)), 4):
        _assert_tiles(unit)


def test_grid_centres_locate_to_their_grid(seeded: str) -> None:
    geo.invalidate_locator()
    grids = list(OrgUnit.objects.filter(kind=OrgUnitKind.GRID).order_by("code"))
    for grid in random.Random(3).sample(grids, 25):
        assert geo.locate_unit_id(grid.lat, grid.lon) == grid.pk, grid.code
    assert geo.locate(26.58, 106.71).path.startswith("/5201/520102/")  # the real centre is in 南明区
    assert geo.locate(27.5, 106.71) is None


def test_running_again_changes_nothing(seeded: str) -> None:
    before = (_counts(), Department.objects.count(), User.objects.count(), Membership.objects.count())
    out = io.StringIO()
    call_command("seed_demo", size="small", stdout=out)
    assert (_counts(), Department.objects.count(), User.objects.count(), Membership.objects.count()) == before
    assert "跳过" in out.getvalue()
    call_command("seed_demo", size="full", if_empty=True, stdout=out)
    assert _counts() == before[0]
    checked, broken = audit_verify()
    assert broken is None and checked > 0
    # Seeding is summarised, not audited row by row.
    assert AuditEvent.objects.filter(act="places.seed").count() == 1
    # The few story records go through the services (and are audited); the bulk is not.
    per_act = AuditEvent.objects.values("act").annotate(n=Count("id")).order_by("-n")
    assert per_act and per_act[0]["n"] < 300, per_act[0]
    assert AuditEvent.objects.count() < 5000


def _member(username: str) -> Membership:
    return Membership.objects.select_related("unit", "department").get(user__username=username, is_active=True)


def test_demo_logins_exist_with_their_posts(seeded: str) -> None:
    for account in accounts_demo.DEMO_ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.check_password(accounts_demo.DEMO_PASSWORD)
        assert user.display_name == account.display_name
        validate_password(accounts_demo.DEMO_PASSWORD, user)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert (_member("admin").role, _member("admin").unit.code) == (Role.ADMIN, "5201")
    assert (_member("leader").role, _member("leader").unit.code) == (Role.LEADER, "5201")
    sup = _member("supervisor")
    assert (sup.role, sup.unit.kind, sup.unit.name) == (Role.SUPERVISOR, OrgUnitKind.DISTRICT, "南明区")
    one, two = _member("community"), _member("community2")
    assert one.role == two.role == Role.COMMUNITY_STAFF
    assert one.unit.kind == two.unit.kind == OrgUnitKind.COMMUNITY
    assert one.unit.parent_id == two.unit.parent_id == sup.unit.pk and one.unit != two.unit
    grid = _member("grid")
    assert grid.role == Role.GRID_WORKER and grid.unit.kind == OrgUnitKind.GRID and grid.unit.is_within(one.unit)
    dept = _member("dept")
    assert (dept.role, dept.unit, dept.department.name) == (Role.DEPARTMENT_HANDLER, None, "市住房和城乡建设局")
    med = _member("mediator")
    assert med.role == Role.MEDIATOR and med.unit.kind == OrgUnitKind.COMMUNITY
    resident = resident_find_by_phone("13800138000")
    assert resident is not None and resident.kind == AccountKind.RESIDENT and not resident.memberships.exists()
    assert resident.check_password(accounts_demo.DEMO_PASSWORD)
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()


def test_demo_logins_table(seeded: str) -> None:
    rows = {r["username"]: r for r in accounts_demo.demo_logins()}
    assert len(rows) == 9
    assert rows["community"]["where"] == "南明区 / 新华社区"
    assert rows["dept"]["where"] == "市住房和城乡建设局"
    assert rows["grid"]["where"].endswith("第1网格")
    resident = next(r for r in rows.values() if r["login"] == "13800138000")
    assert resident["username"].startswith("r_")
    out = io.StringIO()
    call_command("demo_logins", stdout=out)  # what ./zc demo prints once the city is seeded
    printed = out.getvalue()
    for r in rows.values():
        assert r["login"] in printed and r["where"] in printed
    assert accounts_demo.DEMO_PASSWORD in printed


# --- the parts without the database ------------------------------------------------------


def test_the_city_is_reproducible_and_size_only_changes_grids() -> None:
    def flat(size: str) -> list[tuple[str, str, str, tuple[float, ...]]]:
        tree = places_demo.build_city(core_demo.rng_for("zhucheng.places.demo"), size)
        return [(n.code, n.name, n.kind, n.rect) for level in places_demo.levels(tree) for n in level]

    small = flat("small")
    assert small == flat("small")
    full = flat("full")
    assert len([n for n in full if n[2] == OrgUnitKind.GRID]) > 9000
    assert [n[:3] for n in small if n[2] != OrgUnitKind.GRID] == [n[:3] for n in full if n[2] != OrgUnitKind.GRID]


def test_apportion_and_partition() -> None:
    counts = places_demo.apportion(100, [1.0, 2.0, 3.5, 0.1], minimum=3)
    assert sum(counts) == 100 and min(counts) >= 3
    rects = places_demo.partition((0.0, 0.0, 4.0, 1.0), [1.0, 1.0, 2.0], anchor=(5.0, 0.5))
    areas = [(x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in rects]
    assert areas == pytest.approx([1.0, 1.0, 2.0])
    assert rects[0][2] == 4.0  # the first child sits on the side nearer the anchor


# --- the framework ---------------------------------------------------------------------


def test_discover_finds_app_seeders_in_order() -> None:
    modules = [s.module for s in core_demo.discover()]
    assert modules.index("zhucheng.places.demo") < modules.index("zhucheng.accounts.demo")
    orders = [s.order for s in core_demo.discover()]
    assert orders == sorted(orders)


def test_each_seeder_runs_in_its_own_transaction_with_its_own_rng() -> None:
    seen: dict[str, float] = {}

    def first(ctx: core_demo.DemoContext) -> None:
        seen["first"] = ctx.rng.random()
        Department.objects.create(code="X1", name="甲部门")
        ctx.shared["x"] = 1

    def second(ctx: core_demo.DemoContext) -> None:
        assert ctx.shared["x"] == 1
        Department.objects.create(code="X2", name="乙部门")
        raise RuntimeError("boom")

    seeders = [
        core_demo.Seeder(1, "a", "test.first", first, None),
        core_demo.Seeder(2, "b", "test.second", second, None),
    ]
    with pytest.raises(RuntimeError):
        core_demo.run(size="small", stdout=io.StringIO(), seeders=seeders)
    assert Department.objects.filter(code="X1").exists()
    assert not Department.objects.filter(code="X2").exists()
    assert seen["first"] == core_demo.rng_for("test.first").random()
