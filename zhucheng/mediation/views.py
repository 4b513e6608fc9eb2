"""Mediation pages (thin): reads from ``selectors``/``metrics``, every write through the services.

Mediators: my week (sessions this week, my disputes, my follow-ups); the dispute page and its acts
are in ``dispute_page.py``. Room staff: rooms and a room's week. Supervisors: the risk board and the coverage
board. Grid workers answer their screening reports. Missing and forbidden look the same (404).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhucheng.core.audit import audit_record
from zhucheng.core.masking import mask_id_number, mask_name, mask_phone
from zhucheng.places.models import OrgUnit, OrgUnitKind
from zhucheng.places.selectors import NotVisible, unit_roots_for, units_for

from . import forms as f
from . import metrics as metrics_mod
from . import outcomes, permissions, risk, screening, selectors, services
from .errors import MediationError
from .models import (
    Dispute,
    DisputeField,
    DisputeStatus,
    ReportState,
    RiskLevel,
    RoundState,
    SessionStatus,
    Source,
)

PAGE_SIZE = 50


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged-in staff only; a resident account is refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "is_resident", False):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _dispute_or_404(request: HttpRequest, pk: Any) -> Dispute:
    try:
        return selectors.dispute_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该纠纷，或它不在您的管辖范围内。")) from exc


def _apply_error(form: Any, exc: MediationError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _party_inputs(formset: Any) -> list[services.PartyInput]:
    out = []
    for data in (fm.cleaned_data for fm in formset.forms if fm.cleaned_data):
        if not (data.get("name") or "").strip():
            continue
        out.append(
            services.PartyInput(
                name=data["name"],
                side=data["side"],
                phone=data.get("phone", ""),
                id_number=data.get("id_number", ""),
                address=data.get("address", ""),
                is_organisation=bool(data.get("is_organisation")),
                representative_name=data.get("representative_name", ""),
                representative_role=data.get("representative_role", ""),
                representative_phone=data.get("representative_phone", ""),
            )
        )
    return out


def _int(value: Any, default: int = 0, lo: int = -52, hi: int = 52) -> int:
    try:
        return max(lo, min(hi, int(value)))
    except (TypeError, ValueError):
        return default


# --- my week -------------------------------------------------------------------------------------


@staff_required
def mine(request: HttpRequest) -> HttpResponse:
    offset = _int(request.GET.get("week"))
    monday = selectors.week_start(offset=offset)
    sessions = selectors.my_week(request.user, monday)
    days = []
    for i in range(7):
        day = monday + timedelta(days=i)
        days.append((day, [s for s in sessions if timezone.localtime(s.starts_at).date() == day]))
    month = screening.month_start()
    return render(
        request,
        "mediation/mine.html",
        {
            "mediator": selectors.mediator_of(request.user),
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "offset": offset,
            "days": days,
            "session_count": sum(1 for s in sessions if s.status != SessionStatus.CANCELLED),
            "today": timezone.localdate(),
            "disputes": list(selectors.my_disputes(request.user)[:100]),
            "followups": list(selectors.my_followups(request.user)[:50]),
            "reports": list(selectors.my_grid_reports(request.user, month)),
            "month": month,
        },
    )


# --- disputes ------------------------------------------------------------------------------------


@staff_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in ("open", "", *DisputeStatus.values):
        status = "open"
    field = request.GET.get("field", "")
    if field not in DisputeField.values:
        field = ""
    q = request.GET.get("q", "").strip()[:40]
    qs = selectors.disputes_list(request.user, status=status, field=field, q=q)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "mediation/dispute_list.html",
        {"page": page, "status": status, "field": field, "q": q, "statuses": DisputeStatus.choices, "fields": DisputeField.choices},
    )


@staff_required
def dispute_new(request: HttpRequest) -> HttpResponse:
    """直接受理 at a room, or (``?report=``) a dispute found in a screening report."""
    report = None
    if request.GET.get("report") or request.POST.get("report"):
        try:
            report = selectors.report_get_for_user(request.user, request.GET.get("report") or request.POST.get("report"))
        except NotVisible as exc:
            raise Http404(_("没有找到该排查报告。")) from exc
    rooms = selectors.rooms_visible_to(request.user).filter(is_active=True).order_by("unit__path", "code")
    form = f.DisputeForm(request.POST or None, rooms=rooms, room_required=report is None, initial={"room": request.GET.get("room")})
    parties = f.PartyFormSet(request.POST or None, prefix="p")
    if request.method == "POST" and form.is_valid() and parties.is_valid():
        data = form.cleaned_data
        room = data.get("room")
        unit = report.grid if report is not None else (room.unit if room is not None else None)
        try:
            if unit is None:
                raise MediationError(_("请选择受理调解室。"), code="required", field="room")
            dispute = services.dispute_create(
                actor=request.user,
                title=data["title"],
                facts=data["facts"],
                unit=unit,
                parties=_party_inputs(parties),
                field=data["field"],
                amount_fen=f.yuan_to_fen(data.get("amount")),
                urgency=data["urgency"],
                source=Source.SCREENING if report is not None else Source.WALK_IN,
                room=room,
                screening_report=report,
                prior_appeals=data.get("prior_appeals") or 0,
            )
        except MediationError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("已受理，纠纷编号 %(code)s。") % {"code": dispute.code})
            return redirect("mediation:dispute_detail", pk=dispute.pk)
    return render(request, "mediation/dispute_new.html", {"form": form, "parties": parties, "report": report, "has_rooms": rooms.exists()})


@staff_required
def dispute_from_appeal(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """转人民调解: the appeal's petitioners become applicants; other parties are added here."""
    from zhucheng.appeals.selectors import appeal_get_for_user

    try:
        appeal = appeal_get_for_user(request.user, appeal_id)
    except NotVisible as exc:
        raise Http404(_("没有找到该诉求，或它不在您的管辖范围内。")) from exc
    existing = selectors.dispute_for_appeal(request.user, appeal.pk)
    if existing is not None:
        messages.info(request, _("该诉求已转入人民调解。"))
        return redirect("mediation:dispute_detail", pk=existing.pk)
    rooms = selectors.rooms_visible_to(request.user).filter(is_active=True).order_by("unit__path", "code")
    form = f.FromAppealForm(request.POST or None, rooms=rooms, initial={"title": appeal.title, "facts": appeal.description})
    others = f.forms.formset_factory(f.PartyForm, extra=2)(request.POST or None, prefix="p", initial=None)
    petitioners = [
        {"name": mask_name(p.name), "phone": mask_phone(p.phone), "id_number": mask_id_number(p.id_number)} for p in appeal.petitioners.all()
    ]
    if request.method == "POST" and form.is_valid() and others.is_valid():
        data = form.cleaned_data
        try:
            dispute = services.dispute_create_from_appeal(
                actor=request.user,
                appeal_id=appeal.pk,
                title=data["title"],
                facts=data["facts"],
                field=data["field"],
                amount_fen=f.yuan_to_fen(data.get("amount")),
                room=data.get("room"),
                parties=services.appeal_parties(appeal) + _party_inputs(others),
            )
        except MediationError as exc:
            if exc.code == "exists":
                messages.info(request, exc.message)
                return redirect("mediation:dispute_list")
            _apply_error(form, exc)
        else:
            messages.success(request, _("已转入人民调解，纠纷编号 %(code)s。") % {"code": dispute.code})
            return redirect("mediation:dispute_detail", pk=dispute.pk)
    return render(
        request, "mediation/from_appeal.html", {"appeal": appeal, "form": form, "others": others, "petitioners": petitioners}
    )


@staff_required
def agreement_pdf(request: HttpRequest, pk: int) -> FileResponse:
    """The agreement PDF, only to those who may see its dispute; every download is audited."""
    try:
        agreement = selectors.agreement_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该协议书。")) from exc
    if not agreement.pdf or not agreement.pdf.storage.exists(agreement.pdf.name):
        agreement = outcomes.agreement_render(agreement=agreement)
    audit_record(actor=request.user, act="mediation.agreement_download", obj=agreement)
    return FileResponse(agreement.pdf.open("rb"), as_attachment=True, filename=f"{agreement.dispute.code}-{agreement.pk}.pdf", content_type="application/pdf")


# --- rooms and mediators -------------------------------------------------------------------------


@staff_required
def room_list(request: HttpRequest) -> HttpResponse:
    rooms = selectors.rooms_visible_to(request.user).order_by("unit__path", "code")
    q = request.GET.get("q", "").strip()[:40]
    if q:
        rooms = rooms.filter(name__contains=q)
    page = Paginator(rooms, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "mediation/room_list.html", {"page": page, "q": q})


@staff_required
def room_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        room = selectors.room_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该调解室。")) from exc
    offset = _int(request.GET.get("week"))
    monday = selectors.week_start(offset=offset)
    sessions = selectors.room_week(room, monday)
    days = [(monday + timedelta(days=i), [s for s in sessions if timezone.localtime(s.starts_at).date() == monday + timedelta(days=i)]) for i in range(7)]
    disputes = selectors.disputes_list(request.user, status="open", room=room)[:50]
    return render(
        request,
        "mediation/room_detail.html",
        {"room": room, "days": days, "monday": monday, "sunday": monday + timedelta(days=6), "offset": offset, "disputes": disputes, "today": timezone.localdate()},
    )


@staff_required
def mediator_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.mediators_visible_to(request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "mediation/mediator_list.html", {"page": page})


# --- boards --------------------------------------------------------------------------------------


@staff_required
def risk_board(request: HttpRequest) -> HttpResponse:
    level = request.GET.get("level", "")
    if level not in RiskLevel.values:
        level = ""
    page = Paginator(selectors.risk_board(request.user, level=level), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "mediation/risk_board.html",
        {"page": page, "level": level, "counts": selectors.risk_counts(request.user), "levels": RiskLevel.choices, "high_at": risk.HIGH_AT},
    )


def _district_choice(request: HttpRequest) -> OrgUnit | None:
    raw = request.GET.get("district", "")
    if not raw:
        return None
    return units_for(request.user).filter(pk=_int(raw, 0, 0, 10**12), kind=OrgUnitKind.DISTRICT).first()


@staff_required
def coverage(request: HttpRequest) -> HttpResponse:
    month = f.month_or_today(request.GET.get("month"))
    district = _district_choice(request)
    rows = list(selectors.coverage_board(request.user, month, district=district)[:500])
    districts = units_for(request.user).filter(kind=OrgUnitKind.DISTRICT).order_by("code")
    prev_month = (month - timedelta(days=1)).replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return render(
        request,
        "mediation/coverage.html",
        {
            "month": month,
            "prev_month": prev_month,
            "next_month": next_month,
            "rows": rows,
            "totals": selectors.coverage_totals(request.user, month, district=district),
            "district": district,
            "districts": districts,
            "my_reports": list(selectors.my_grid_reports(request.user, month)),
        },
    )


@staff_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        rnd = selectors.round_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该排查轮次。")) from exc
    reports = list(rnd.reports.select_related("grid", "grid__parent", "reported_by").order_by("state", "grid__path"))
    return render(
        request,
        "mediation/round_detail.html",
        {
            "round": rnd,
            "reports": reports,
            "pending": sum(1 for r in reports if r.state == ReportState.PENDING),
            "can_close": rnd.state == RoundState.OPEN and permissions.has_role_over(request.user, rnd.unit, permissions.MANAGER_ROLES),
            "report_form": f.ScreeningReportForm(),
            "error": None,
        },
    )


@require_POST
@staff_required
def round_close(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        rnd = selectors.round_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该排查轮次。")) from exc
    try:
        screening.round_close(actor=request.user, round=rnd)
    except MediationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("本轮排查已结束。"))
    return redirect("mediation:round_detail", pk=rnd.pk)


@require_POST
@staff_required
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        report = selectors.report_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该排查报告。")) from exc
    form = f.ScreeningReportForm(request.POST, prefix=f"s{report.pk}")
    back = request.POST.get("next") or ""
    if form.is_valid():
        d = form.cleaned_data
        try:
            screening.report_submit(
                actor=request.user, report=report, found=d["found"], disputes_found=d.get("disputes_found") or 0, risks_found=d.get("risks_found") or 0, note=d.get("note") or ""
            )
        except MediationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(grid)s 的排查情况已上报。") % {"grid": report.grid.name})
    else:
        messages.error(request, _("请选择排查结果。"))
    if back == "round":
        return redirect("mediation:round_detail", pk=report.round_id)
    if back == "mine":
        return redirect("mediation:mine")
    return redirect(f"{_url('mediation:coverage')}?month={report.round.month:%Y-%m}")


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


@staff_required
def metrics_page(request: HttpRequest) -> HttpResponse:
    form = f.MetricsForm(request.GET or None)
    today = timezone.localdate()
    by, date_from, date_to = "committee", date(today.year, 1, 1), today + timedelta(days=1)
    if form.is_valid():
        by = form.cleaned_data.get("by") or by
        date_from = form.cleaned_data.get("date_from") or date_from
        date_to = form.cleaned_data.get("date_to") or date_to
    roots = unit_roots_for(request.user)
    root = roots[0] if len(roots) == 1 else None
    if by == "unit" and root is None:
        by = "committee"
    rows = metrics_mod.metrics(request.user, date_from=date_from, date_to=date_to, by=by, root=root if by == "unit" else None)
    total = metrics_mod.summary(request.user, date_from=date_from, date_to=date_to)
    return render(
        request,
        "mediation/metrics.html",
        {"form": form, "rows": rows, "total": total, "by": by, "date_from": date_from, "date_to": date_to, "root": root},
    )
