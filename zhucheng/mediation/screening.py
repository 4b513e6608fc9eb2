"""Monthly screening (排查): a round per community or township each month with one report per grid,
the grid worker's answer ("found" with counts, or "none found"), and closing a round — refused
while any of its grids has not reported.

``rounds_open`` is what ``./zc manage open_screening_rounds`` and the Celery beat task run; it is
idempotent (a second run that month creates nothing) and adds grids created since the first run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.places.models import OrgUnit, OrgUnitKind, Role

from . import permissions
from .errors import MediationError
from .models import GridReport, ReportState, RoundState, ScreeningRound
from .services import clean_text, now, require

# The level a round belongs to: every grid lies under exactly one of these.
ROUND_KINDS = (OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP)
BATCH = 2000


def month_start(day: date | None = None) -> date:
    day = day or timezone.localdate()
    return day.replace(day=1)


def parse_month(text: str) -> date:
    """``2026-12`` → 2026-12-01; a clear error otherwise."""
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise MediationError(_("月份格式应为 YYYY-MM，例如 2026-12。"), field="month") from None


@dataclass
class OpenReport:
    month: date
    rounds_created: int = 0
    reports_created: int = 0
    grids_without_unit: int = 0


@transaction.atomic
def rounds_open(*, month: date | None = None, actor: Any = None) -> OpenReport:
    """Create the month's rounds and their grid reports for every active grid (bulk, idempotent)."""
    if actor is not None and not permissions.is_system(actor):
        raise MediationError(_("只有系统管理员可以生成排查轮次。"), code="forbidden")
    month = month_start(month)
    report = OpenReport(month=month)
    parents = dict(OrgUnit.objects.filter(kind__in=ROUND_KINDS, is_active=True).values_list("code", "pk"))
    grid_parent: dict[int, int] = {}
    for grid_id, path in OrgUnit.objects.filter(kind=OrgUnitKind.GRID, is_active=True).values_list("pk", "path").iterator(chunk_size=BATCH):
        parent = next((parents[c] for c in path.strip("/").split("/") if c in parents), None)
        if parent is None:
            report.grids_without_unit += 1
        else:
            grid_parent[grid_id] = parent
    rounds = dict(ScreeningRound.objects.filter(month=month).values_list("unit_id", "pk"))
    missing = sorted(set(grid_parent.values()) - set(rounds))
    ScreeningRound.objects.bulk_create([ScreeningRound(unit_id=u, month=month) for u in missing], batch_size=BATCH)
    report.rounds_created = len(missing)
    if missing:
        rounds = dict(ScreeningRound.objects.filter(month=month).values_list("unit_id", "pk"))
    open_rounds = set(ScreeningRound.objects.filter(month=month, state=RoundState.OPEN).values_list("pk", flat=True))
    have = set(GridReport.objects.filter(round__month=month).values_list("grid_id", flat=True))
    new = [
        GridReport(round_id=rounds[parent], grid_id=grid)
        for grid, parent in grid_parent.items()
        if grid not in have and rounds[parent] in open_rounds
    ]
    GridReport.objects.bulk_create(new, batch_size=BATCH)
    report.reports_created = len(new)
    if report.rounds_created or report.reports_created:
        audit_record(
            actor=actor,
            act="mediation.rounds_open",
            obj=("mediation.screeninground", month.strftime("%Y-%m")),
            changed_fields=["month"],
            reason=f"rounds={report.rounds_created}; grid reports={report.reports_created}",
        )
    return report


@transaction.atomic
def report_submit(
    *, actor: Any, report: GridReport, found: bool, disputes_found: int = 0, risks_found: int = 0, note: str = ""
) -> GridReport:
    """网格员上报: "found" with how many disputes and risks (and what), or "none found". Correctable while the round is open."""
    report = GridReport.objects.select_for_update(of=("self",)).select_related("round", "grid").get(pk=report.pk)
    require(
        permissions.has_role_over(actor, report.grid, {Role.GRID_WORKER} | permissions.CASE_ROLES),
        _("只有该网格的网格员或社区工作人员可以上报。"),
    )
    if report.round.state != RoundState.OPEN:
        raise MediationError(_("本轮排查已结束，不能再上报。"), code="closed")
    disputes_found, risks_found = max(int(disputes_found or 0), 0), max(int(risks_found or 0), 0)
    if found:
        if disputes_found + risks_found == 0:
            raise MediationError(_("发现纠纷或风险时，请填写数量。"), field="disputes_found")
        note = clean_text(note, "note", _("情况说明"), limit=2000)
    else:
        disputes_found = risks_found = 0
        note = clean_text(note, "note", _("情况说明"), limit=2000, required=False)
    changed = ["state", "disputes_found", "risks_found", "note"] + (["reported_at"] if report.state == ReportState.PENDING else [])
    report.state = ReportState.FOUND if found else ReportState.NONE_FOUND
    report.disputes_found, report.risks_found, report.note = disputes_found, risks_found, note
    report.reported_at = now()
    report.reported_by = acting_user(actor)
    report.save()
    audit_record(actor=actor, act="mediation.screening_report", obj=report, changed_fields=changed, reason=report.state)
    return report


@transaction.atomic
def round_close(*, actor: Any, round: ScreeningRound) -> ScreeningRound:
    """结束本轮排查: only when every grid of the unit has reported."""
    rnd = ScreeningRound.objects.select_for_update(of=("self",)).select_related("unit").get(pk=round.pk)
    require(permissions.has_role_over(actor, rnd.unit, permissions.MANAGER_ROLES), _("您不能结束该单元的排查轮次。"))
    if rnd.state != RoundState.OPEN:
        raise MediationError(_("本轮排查已结束。"), code="invalid_transition")
    pending = list(rnd.reports.filter(state=ReportState.PENDING).select_related("grid", "grid__parent").order_by("grid__path")[:6])
    if pending:
        total = rnd.reports.filter(state=ReportState.PENDING).count()
        names = "、".join(f"{r.grid.parent.name if r.grid.parent else ''}{r.grid.name}" for r in pending[:5])
        raise MediationError(
            _("尚有 %(n)d 个网格未上报排查情况（%(names)s%(more)s），不能结束本轮排查。")
            % {"n": total, "names": names, "more": "…" if total > 5 else ""},
            code="unreported",
        )
    rnd.state = RoundState.CLOSED
    rnd.closed_at = now()
    rnd.closed_by = acting_user(actor)
    rnd.save(update_fields=["state", "closed_at", "closed_by", "updated_at"])
    audit_record(actor=actor, act="mediation.round_close", obj=rnd, changed_fields=["state"])
    return rnd
