"""Screening rounds: generated per community/township each month with one report per grid (command and
service, idempotent), the grid worker's report, the coverage board, and closing blocked by unreported grids."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from zhucheng.mediation import screening
from zhucheng.mediation.errors import MediationError
from zhucheng.mediation.models import GridReport, ReportState, RoundState, ScreeningRound
from zhucheng.mediation.selectors import coverage_board, coverage_totals
from zhucheng.places.services import unit_create

from .conftest import as_user

pytestmark = pytest.mark.django_db
DEC = date(2026, 12, 1)


def test_command_opens_rounds_per_unit_with_a_report_per_grid(city: Any) -> None:
    out = io.StringIO()
    call_command("open_screening_rounds", "--month", "2026-12", stdout=out)
    assert "2026-12" in out.getvalue()
    rounds = {r.unit_id: r for r in ScreeningRound.objects.filter(month=DEC)}
    assert set(rounds) == {city.community_a.pk, city.community_b.pk}
    assert set(GridReport.objects.values_list("grid_id", "round__unit_id")) == {
        (city.grid_a.pk, city.community_a.pk),
        (city.grid_b.pk, city.community_b.pk),
    }
    # Idempotent; a grid created since is added to its open round.
    unit_create(actor=None, code="990101001001002", name="第2网格", kind="grid", parent=city.committee_a)
    call_command("open_screening_rounds", "--month", "2026-12", stdout=io.StringIO())
    assert ScreeningRound.objects.count() == 2 and GridReport.objects.count() == 3
    with pytest.raises(Exception, match="YYYY-MM"):
        call_command("open_screening_rounds", "--month", "December", stdout=io.StringIO())


def test_coverage_blocks_closing_a_round(city: Any) -> None:
    unit_create(actor=None, code="990101001001002", name="第2网格", kind="grid", parent=city.committee_a)
    screening.rounds_open(month=DEC)
    round_a = ScreeningRound.objects.get(unit=city.community_a, month=DEC)
    report_1 = GridReport.objects.get(grid=city.grid_a)
    report_2 = GridReport.objects.exclude(grid=city.grid_a).get(round=round_a)

    with pytest.raises(MediationError) as exc:
        screening.round_close(actor=city.worker_a, round=round_a)
    assert exc.value.code == "unreported" and "2 个网格" in exc.value.message

    # The grid worker reports their grid; another grid of theirs they cannot.
    screening.report_submit(actor=city.grid_worker_a, report=report_1, found=True, disputes_found=1, risks_found=1, note="邻里漏水纠纷一起")
    with pytest.raises(MediationError) as exc:
        screening.report_submit(actor=city.grid_worker_a, report=report_2, found=False)
    assert exc.value.code == "forbidden"
    with pytest.raises(MediationError):  # "found" needs numbers
        screening.report_submit(actor=city.grid_worker_a, report=report_1, found=True, note="x")
    with pytest.raises(MediationError) as exc:
        screening.round_close(actor=city.worker_a, round=round_a)
    assert "1 个网格" in exc.value.message and "第2网格" in exc.value.message

    board = {r.unit_id: r for r in coverage_board(city.supervisor, DEC)}
    assert (board[city.community_a.pk].total, board[city.community_a.pk].pending, board[city.community_a.pk].found) == (2, 1, 1)
    assert coverage_totals(city.supervisor, DEC)["coverage"] == pytest.approx(100 * 1 / 3, abs=0.1)

    # Community staff may enter the report on the grid worker's behalf; then the round closes.
    screening.report_submit(actor=city.worker_a, report=report_2, found=False)
    with pytest.raises(MediationError) as exc:  # not by community B's worker
        screening.round_close(actor=city.worker_b, round=round_a)
    assert exc.value.code == "forbidden"
    screening.round_close(actor=city.worker_a, round=round_a)
    assert ScreeningRound.objects.get(pk=round_a.pk).state == RoundState.CLOSED
    with pytest.raises(MediationError):  # closed rounds take no more reports
        screening.report_submit(actor=city.grid_worker_a, report=report_1, found=False)


def test_pages_report_and_close(city: Any) -> None:
    screening.rounds_open(month=DEC)
    round_a = ScreeningRound.objects.get(unit=city.community_a, month=DEC)
    report = GridReport.objects.get(grid=city.grid_a)
    close = as_user(city.worker_a).post(reverse("mediation:round_close", args=[round_a.pk]), follow=True)
    assert "未上报" in close.content.decode() and ScreeningRound.objects.get(pk=round_a.pk).state == RoundState.OPEN

    # The grid worker sees their report on the coverage page and answers "none found".
    page = as_user(city.grid_worker_a).get(reverse("mediation:coverage") + "?month=2026-12").content.decode()
    assert "我的网格" in page and "第1网格" in page
    response = as_user(city.grid_worker_a).post(reverse("mediation:report_submit", args=[report.pk]), {f"s{report.pk}-found": "0"})
    assert response.status_code == 302
    assert GridReport.objects.get(pk=report.pk).state == ReportState.NONE_FOUND
    # Community B's worker cannot touch it.
    assert as_user(city.worker_b).post(reverse("mediation:report_submit", args=[report.pk]), {f"s{report.pk}-found": "1"}).status_code == 404
    as_user(city.worker_a).post(reverse("mediation:round_close", args=[round_a.pk]))
    assert ScreeningRound.objects.get(pk=round_a.pk).state == RoundState.CLOSED
