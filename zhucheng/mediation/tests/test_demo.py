"""The mediation demo seeder on the demo city: committees, 137 rooms, disputes in every state, this week's
sessions for the login ``mediator``, PDFs, partial screening coverage in 南明区; idempotent and quick."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.utils import timezone

from zhucheng.core import demo
from zhucheng.mediation import selectors
from zhucheng.mediation.models import Agreement, Committee, Dispute, DisputeStatus, GridReport, ReportState, Room, Session

pytestmark = pytest.mark.django_db


class _Out(io.StringIO):
    def write(self, msg: str = "", style_func: Any = None, ending: str | None = None) -> int:  # type: ignore[override]
        return super().write(msg + "\n")


def _run() -> float:
    wanted = ("zhucheng.places.demo", "zhucheng.accounts.demo", "zhucheng.mediation.demo")
    seeders = [s for s in demo.discover() if s.module in wanted]
    t0 = time.perf_counter()
    demo.run(size="small", stdout=_Out(), seeders=seeders)
    return time.perf_counter() - t0


def test_demo_seeder(db: Any) -> None:
    _run()
    from zhucheng.accounts.models import User

    assert Committee.objects.count() == 8 and Room.objects.count() == 137
    statuses = set(Dispute.objects.values_list("status", flat=True))
    assert statuses == set(DisputeStatus.values)
    user = User.objects.get(username="mediator")
    week = selectors.my_week(user, selectors.week_start())
    assert len(week) >= 4 and all(s.room.unit.name == "新华社区" for s in week)
    assert selectors.my_disputes(user).count() >= 6
    assert Agreement.objects.exclude(pdf="").count() >= 3
    nanming = GridReport.objects.filter(grid__path__contains="/520102/", round__month=timezone.localdate().replace(day=1))
    pending, total = nanming.filter(state=ReportState.PENDING).count(), nanming.count()
    assert 0 < pending < total
    assert Dispute.objects.filter(risk_level="high").exists()
    counts = (Dispute.objects.count(), Session.objects.count(), GridReport.objects.count())
    took = _run()  # idempotent: nothing doubled
    assert (Dispute.objects.count(), Session.objects.count(), GridReport.objects.count()) == counts
    assert took < 10
