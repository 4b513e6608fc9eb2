"""Metrics: received, mediated, success rate, median days to agreement, fulfilment rate and screening
coverage — by committee, room, unit and month, within scope, computed by grouped queries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhucheng.mediation import metrics, screening
from zhucheng.mediation.models import (
    Agreement,
    AgreementTerm,
    Committee,
    Dispute,
    DisputeStatus,
    GridReport,
    ReportState,
    TermResult,
)

from .conftest import World, as_user, make_dispute

pytestmark = pytest.mark.django_db
FROM, TO = date(2026, 3, 1), date(2026, 5, 1)


def t(month: int, day: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, hour))


def _shape(d: Dispute, **fields: Any) -> None:
    Dispute.objects.filter(pk=d.pk).update(**fields)


def _agreement(d: Dispute, *terms: tuple[date, str]) -> None:
    a = Agreement.objects.create(dispute=d, number=f"N{d.pk}", facts="x", signed_on=date(2026, 3, 3))
    for i, (due, result) in enumerate(terms, start=1):
        AgreementTerm.objects.create(agreement=a, seq=i, text="付款", due_on=due, result=result)


@pytest.fixture
def data(world: World) -> World:
    nbr = Committee.objects.get(code="NBR")
    d1 = make_dispute(world, title="d1")
    d2 = make_dispute(world, title="d2", room=world.room_a2)
    d3 = make_dispute(world, title="d3", field="neighbours")
    d4 = make_dispute(world, title="d4")
    d5 = make_dispute(world, title="d5", unit=world.city.grid_b, room=world.room_b, actor=world.city.worker_b, assign=False)
    old = make_dispute(world, title="before the period")
    assert d3.committee == nbr and d1.committee == world.committee
    _shape(d1, received_at=t(3, 1), agreed_at=t(3, 3), status=DisputeStatus.AGREED)
    _shape(d2, received_at=t(3, 1), agreed_at=t(3, 5), status=DisputeStatus.FULFILLED, concluded_at=t(3, 25))
    _shape(d3, received_at=t(3, 2), agreed_at=t(3, 12), status=DisputeStatus.AGREED)
    _shape(d4, received_at=t(3, 2), concluded_at=t(3, 20), status=DisputeStatus.FAILED)
    _shape(d5, received_at=t(4, 10))
    _shape(old, received_at=t(2, 1), agreed_at=t(2, 2), status=DisputeStatus.AGREED)
    _agreement(d1, (date(2026, 3, 20), TermResult.FULFILLED))
    _agreement(d2, (date(2026, 3, 25), TermResult.BREACHED), (date(2026, 6, 1), TermResult.FULFILLED))
    _agreement(d3, (date(2026, 4, 15), TermResult.FULFILLED), (date(2026, 4, 20), TermResult.PENDING))
    screening.rounds_open(month=date(2026, 3, 1))
    GridReport.objects.filter(grid=world.city.grid_a).update(state=ReportState.NONE_FOUND)
    return world


def test_totals(data: World) -> None:
    row = metrics.summary(data.city.supervisor, date_from=FROM, date_to=TO)
    assert (row.received, row.agreed, row.mediated) == (5, 3, 4)
    assert row.success_rate == 75.0
    assert row.median_days == 4.0  # 2, 4, 10 days
    assert (row.fulfilled, row.breached, row.fulfilment_rate) == (2, 1, 66.7)
    assert (row.grids, row.grids_reported, row.coverage) == (2, 1, 50.0)


def test_by_committee_room_month_and_unit(data: World) -> None:
    sup = data.city.supervisor
    by_committee = {r.label: r for r in metrics.metrics(sup, date_from=FROM, date_to=TO, by="committee")}
    lab, nbr = by_committee["劳动争议人民调解委员会"], by_committee["物业及邻里纠纷人民调解委员会"]
    assert (lab.received, lab.agreed, lab.mediated, lab.median_days) == (4, 2, 3, 3.0)  # median of 2 and 4
    assert (lab.fulfilled, lab.breached) == (1, 1)
    assert (nbr.received, nbr.agreed, nbr.median_days, nbr.fulfilment_rate) == (1, 1, 10.0, 100.0)

    by_room = {r.label: r for r in metrics.metrics(sup, date_from=FROM, date_to=TO, by="room")}
    assert by_room["中华社区第二调解室"].agreed == 1 and by_room["威清社区调解室"].received == 1
    assert by_room["中华社区调解室"].received == 3

    by_month = {r.label: r for r in metrics.metrics(sup, date_from=FROM, date_to=TO, by="month")}
    assert (by_month["2026-03"].received, by_month["2026-03"].agreed, by_month["2026-03"].mediated) == (4, 3, 4)
    assert by_month["2026-04"].received == 1 and by_month["2026-04"].fulfilled == 1
    assert by_month["2026-03"].coverage == 50.0

    by_unit = {r.label: r for r in metrics.metrics(sup, date_from=FROM, date_to=TO, by="unit", root=data.city.district)}
    a, b = by_unit["中华社区"], by_unit["威清社区"]
    assert (a.received, a.agreed, a.coverage) == (4, 3, 100.0)
    assert (b.received, b.agreed, b.coverage) == (1, 0, 0.0)


def test_scoped_and_grouped_in_sql(data: World) -> None:
    row = metrics.summary(data.city.worker_b, date_from=FROM, date_to=TO)
    assert (row.received, row.agreed, row.grids, row.coverage) == (1, 0, 1, 0.0)
    assert metrics.summary(data.city.nobody, date_from=FROM, date_to=TO).received == 0
    # A fixed number of queries whatever the number of rows: one per figure (plus the labels).
    metrics.summary(data.city.supervisor, date_from=FROM, date_to=TO)  # the user's scope is read once, then kept
    with CaptureQueriesContext(connection) as ctx:
        metrics.metrics(data.city.supervisor, date_from=FROM, date_to=TO, by="committee")
    few = len(ctx)
    for i in range(5):
        make_dispute(data, title=f"more {i}")
    with CaptureQueriesContext(connection) as ctx:
        metrics.metrics(data.city.supervisor, date_from=date(2020, 1, 1), date_to=date(2030, 1, 1), by="committee")
    assert len(ctx) == few <= 12


def test_metrics_page(data: World) -> None:
    page = as_user(data.city.supervisor).get(reverse("mediation:metrics"), {"by": "committee", "date_from": "2026-03-01", "date_to": "2026-05-01"})
    body = page.content.decode()
    assert page.status_code == 200 and "劳动争议人民调解委员会" in body and "75.0%" in body
