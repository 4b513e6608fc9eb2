"""Shared fixtures: a small hierarchy with two sibling communities and staff in each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import translation

from zhucheng.accounts.models import User
from zhucheng.places.models import Department, OrgUnit, Role


@pytest.fixture(autouse=True)
def _fresh_process_caches(settings: Any, tmp_path_factory: Any) -> Any:
    """Calendar, locator, routing and classifier caches are per process; tests must not see each other's.

    Tests never use a router model trained in ``var/`` (a test that wants one trains its own).
    """
    from zhucheng.appeals import classifier, deadlines, routing
    from zhucheng.core.calendar import clear_cache
    from zhucheng.places.geo import invalidate_locator

    settings.ZHUCHENG_ROUTER_MODEL = str(tmp_path_factory.getbasetemp() / "no-router-model.joblib")

    def clear() -> None:
        translation.activate(settings.LANGUAGE_CODE)  # a test that switched to English must not leak it
        clear_cache()
        invalidate_locator()
        routing.clear_cache()
        classifier.clear_cache()
        deadlines.clear_cache()

    clear()
    yield
    clear()


# Data migrations that every database starts with. The flush after a transactional test (browser
# tests, concurrency tests) empties every table, so they are loaded again after such a test;
# ``serialized_rollback`` is not used: the flush re-creates content types under new ids, which
# breaks the serialized copy. Each loader is idempotent (get_or_create).
REFERENCE_DATA = [
    ("zhucheng.core.migrations.0003_seed_holidays", "seed"),
    ("zhucheng.appeals.migrations.0002_reference_data", "load"),
    ("zhucheng.mediation.migrations.0002_risk_factors", "load"),
    ("zhucheng.open311.migrations.0002_example_attributes", "load"),
]


def load_reference_data() -> None:
    import importlib

    from django.apps import apps

    for module, function in REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(apps, None)


_flushed = False


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool((marker is not None and marker.kwargs.get("transaction")) or {"transactional_db", "live_server"} & fixtures)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    """Before the fixtures of the test after a transactional one: put the reference data back."""
    global _flushed
    if _flushed:
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            load_reference_data()
        _flushed = False
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Any:
    global _flushed
    yield
    if _is_transactional(item):
        _flushed = True


def rect(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    """A GeoJSON rectangle (counter-clockwise, closed)."""
    return {
        "type": "Polygon",
        "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]],
    }


@dataclass
class City:
    city: OrgUnit
    district: OrgUnit
    community_a: OrgUnit
    community_b: OrgUnit
    committee_a: OrgUnit
    committee_b: OrgUnit
    grid_a: OrgUnit
    grid_b: OrgUnit
    department: Department
    other_department: Department
    worker_a: User
    worker_b: User
    grid_worker_a: User
    supervisor: User
    handler: User
    nobody: User


_PASSWORD_HASH: list[str] = []


def _staff(username: str, display_name: str, phone: str = "") -> User:
    # Argon2 is deliberately slow: hash the shared test password once per session, not per user.
    if not _PASSWORD_HASH:
        from django.contrib.auth.hashers import make_password

        _PASSWORD_HASH.append(make_password("correct-horse-battery"))
    user = User(username=username, display_name=display_name, phone=phone, password=_PASSWORD_HASH[0])
    user.save()
    return user


@pytest.fixture
def city(db: Any) -> City:
    from zhucheng.places.services import membership_grant, unit_create

    c = unit_create(actor=None, code="9901", name="测试市", kind="city", parent=None, boundary=rect(106.0, 26.0, 107.0, 27.0))
    d = unit_create(actor=None, code="990101", name="南明区", kind="district", parent=c, boundary=rect(106.0, 26.0, 106.5, 26.5))
    ca = unit_create(actor=None, code="990101001", name="中华社区", kind="community", parent=d, boundary=rect(106.0, 26.0, 106.25, 26.5))
    cb = unit_create(actor=None, code="990101002", name="威清社区", kind="community", parent=d, boundary=rect(106.25, 26.0, 106.5, 26.5))
    ra = unit_create(actor=None, code="990101001001", name="金东居委会", kind="residents_committee", parent=ca, boundary=rect(106.0, 26.0, 106.25, 26.5))
    rb = unit_create(actor=None, code="990101002001", name="碧海居委会", kind="residents_committee", parent=cb, boundary=rect(106.25, 26.0, 106.5, 26.5))
    ga = unit_create(actor=None, code="990101001001001", name="第1网格", kind="grid", parent=ra, boundary=rect(106.0, 26.0, 106.25, 26.5))
    gb = unit_create(actor=None, code="990101002001001", name="第1网格", kind="grid", parent=rb, boundary=rect(106.25, 26.0, 106.5, 26.5))
    dept = Department.objects.create(code="T01", name="市住房和城乡建设局")
    other = Department.objects.create(code="T02", name="市民政局")
    worker_a = _staff("worker_a", "李社区", "13800000001")
    worker_b = _staff("worker_b", "王社区", "13800000002")
    grid_a = _staff("grid_a", "张网格", "13800000003")
    sup = _staff("supervisor", "赵督办", "13800000004")
    handler = _staff("handler", "钱承办", "13800000005")
    nobody = _staff("nobody", "孙无岗")
    membership_grant(actor=None, user=worker_a, role=Role.COMMUNITY_STAFF, unit=ca)
    membership_grant(actor=None, user=worker_b, role=Role.COMMUNITY_STAFF, unit=cb)
    membership_grant(actor=None, user=grid_a, role=Role.GRID_WORKER, unit=ga)
    membership_grant(actor=None, user=sup, role=Role.SUPERVISOR, unit=d)
    membership_grant(actor=None, user=handler, role=Role.DEPARTMENT_HANDLER, department=dept)
    return City(c, d, ca, cb, ra, rb, ga, gb, dept, other, worker_a, worker_b, grid_a, sup, handler, nobody)
