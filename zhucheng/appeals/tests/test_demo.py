"""The appeals demo seeder: every life-cycle state, populated inboxes for every demo login, idempotent.

Seeds the real demo city (places, accounts, appeals) at the ``small`` size twice in one test, as
``./zc demo`` does, so what is checked is what a visitor sees.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count, F
from django.utils import timezone

from zhucheng.accounts.demo import DEMO_ACCOUNTS
from zhucheng.accounts.models import User
from zhucheng.appeals import demo as appeals_demo
from zhucheng.appeals import routing
from zhucheng.appeals.metrics import metrics_for, metrics_raw_sql
from zhucheng.appeals.models import (
    Appeal,
    AppealEvent,
    Assignment,
    AssignmentState,
    Category,
    Extension,
    Feedback,
    Petitioner,
    Reply,
    RoutingRule,
    Satisfaction,
    Status,
    Supervision,
    SupervisionKind,
)
from zhucheng.appeals.selectors import AGE_BUCKETS, backlog_board, inbox_for
from zhucheng.core import demo
from zhucheng.places import geo
from zhucheng.places.models import OrgUnit

MODULES = ("zhucheng.places.demo", "zhucheng.accounts.demo", "zhucheng.appeals.demo")


@pytest.fixture
def seeded(db: Any, settings: Any, tmp_path: Path) -> Any:
    settings.ZHUCHENG_ROUTER_MODEL = str(tmp_path / "router.joblib")
    routing.clear_cache()
    seeders = [s for s in demo.discover() if s.module in MODULES]
    assert [s.module for s in seeders] == list(MODULES)
    out = io.StringIO()
    ctx = demo.run(size="small", stdout=out, seeders=seeders)
    yield ctx, seeders, out.getvalue()
    routing.clear_cache()
    try:
        from zhucheng.appeals import classifier

        classifier.clear_cache()
    except ImportError:
        pass


def _counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Appeal, AppealEvent, Assignment, Reply, Feedback, Supervision, Petitioner, RoutingRule, Extension)
    }


def test_demo_seeds_every_state_fills_every_inbox_and_is_idempotent(seeded: Any, tmp_path: Path) -> None:
    ctx, seeders, output = seeded
    n = Appeal.objects.count()
    assert 2_800 <= n <= 3_300
    statuses = set(Appeal.objects.values_list("status", flat=True).distinct())
    assert statuses == set(Status.values)

    # Every demo login opens on work: staff on their inbox, the resident on their own open appeal.
    for account in DEMO_ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert inbox_for(user).exists(), account.username
    dept = User.objects.get(username="dept")
    assert inbox_for(dept, tab="department").count() >= 10

    # The states the stories reach through the real services, with their timelines.
    stories = Appeal.objects.filter(source_ref__startswith=appeals_demo.DEMO_REF + "S")
    assert stories.count() >= 25
    assert not stories.annotate(n=Count("events")).filter(n=0).exists()
    assert Assignment.objects.filter(appeal__in=stories, state=AssignmentState.OBJECTED).exists()
    assert Assignment.objects.filter(appeal__in=stories, state=AssignmentState.RETURNED).exists()
    assert Assignment.objects.filter(appeal__in=stories, state=AssignmentState.TRANSFERRED).exists()
    assert Assignment.objects.filter(appeal__in=stories, role="assist").exists()
    assert Extension.objects.filter(appeal__in=stories, state="approved").exists()
    assert Extension.objects.filter(appeal__in=stories, state="pending").exists()
    assert stories.filter(paused_at__isnull=False).exists()
    assert stories.filter(is_final=True, status=Status.CLOSED).exists()
    assert stories.filter(events__act="reopen").exists()
    assert Supervision.objects.filter(appeal__in=stories, kind=SupervisionKind.LEADER).exists()
    assert Feedback.objects.filter(appeal__in=stories, department_rating=Satisfaction.UNSATISFIED).exists()
    merged = Appeal.objects.filter(status=Status.MERGED, repeat_of__isnull=False)
    assert merged.filter(pk__in=stories).exists() and merged.exclude(pk__in=stories).exists()
    # Events are in order: no story act happened before the appeal was submitted, none in the future.
    now = timezone.now()
    for a in stories.prefetch_related("events"):
        times = [e.at for e in a.events.all()]
        assert min(times) >= a.submitted_at - timedelta(seconds=1) and max(times) <= now, a.source_ref

    assert not AppealEvent.objects.filter(at__gt=now).exists()
    assert not Supervision.objects.filter(created_at__gt=now).exists()
    assert not Appeal.objects.filter(closed_at__lt=F("submitted_at")).exists()

    # The backlog board has cases in every age bucket.
    admin = User.objects.get(username="admin")
    board = backlog_board(admin)
    for key, _lo, _hi in AGE_BUCKETS:
        assert sum(row[key] for row in board) > 0, key

    # Bulk appeals lie inside the grid they are filed under.
    geo.invalidate_locator()
    for a in Appeal.objects.filter(lat__isnull=False).order_by("?")[:40]:
        assert geo.locate_unit_id(a.lat, a.lon) == a.grid_id, a.code

    # Routing rules: one city-wide rule per leaf, and the districts' exceptions win there.
    leaves = Category.objects.filter(parent__isnull=False).count()
    assert RoutingRule.objects.filter(unit__isnull=True).count() == leaves
    nanming = OrgUnit.objects.get(code="520102")
    road = Category.objects.get(code="JT03")
    assert routing.route(category=road, unit=nanming).department.code == "D07"  # type: ignore[union-attr]
    assert routing.route(category=road, unit=OrgUnit.objects.get(code="520103")).department.code == "D10"  # type: ignore[union-attr]

    # The router was trained: suggestions work out of the box.
    from zhucheng.appeals import classifier

    assert Path(classifier.model_path()).is_relative_to(tmp_path)
    suggestion = classifier.suggest("我家小区门口的路灯坏了一个多月，晚上漆黑一片，老人出门很不安全。")
    assert suggestion is not None and suggestion.category.code == "CG01"

    # On realistic data the handwritten SQL still gives the ORM's numbers.
    year = (now - timedelta(days=365), now)
    for group_by in (None, "unit", "department"):
        orm = metrics_for(admin, start=year[0], end=year[1], group_by=group_by, now=now)
        raw = metrics_raw_sql(admin, start=year[0], end=year[1], group_by=group_by, now=now)
        assert orm.total == raw.total and [g.metrics for g in orm.groups] == [g.metrics for g in raw.groups]
    assert orm.total.received > 2_000
    assert ctx.shared["appeals.sample"] and all(isinstance(a, Appeal) for a in ctx.shared["appeals.sample"])

    # A second run changes nothing and still leaves the sample for later seeders.
    before = _counts()
    again = demo.run(size="small", stdout=io.StringIO(), seeders=seeders)
    assert _counts() == before
    assert [a.pk for a in again.shared["appeals.sample"]] == [a.pk for a in ctx.shared["appeals.sample"]]
