"""The dispute page (thin): what it shows, one form per act the user may do now, and the POST handler
that hands each act to its service. Refused acts come back on the same page with the errors, status 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhucheng.core.masking import mask_id_number, mask_phone

from . import forms as f
from . import outcomes, permissions, risk, selectors, services
from .errors import MediationError
from .models import (
    OPEN_STATUSES,
    AgreementState,
    AgreementTerm,
    Dispute,
    DisputeStatus,
    FollowUp,
    FollowUpState,
    Mediator,
    Referral,
    Session,
    SessionStatus,
    TermResult,
)
from .views import _apply_error, _dispute_or_404, staff_required


def _detail_context(request: HttpRequest, dispute: Dispute, bound: dict[str, Any] | None = None) -> dict[str, Any]:
    bound = bound or {}
    user = request.user
    parties = list(dispute.parties.all())
    sessions = selectors.dispute_sessions(dispute)
    agreements = selectors.agreements_of(dispute)
    can_work = permissions.can_work(user, dispute)
    can_manage = permissions.has_role_over(user, dispute.unit, permissions.MANAGER_ROLES)
    can_assign = permissions.has_role_over(user, dispute.unit, permissions.CASE_ROLES)
    rooms = selectors.rooms_for_dispute(dispute)
    mediators = selectors.mediators_for_dispute(dispute).order_by("name")
    status = dispute.status
    open_ = status in OPEN_STATUSES
    schedulable = status in (DisputeStatus.MEDIATING, DisputeStatus.REOPENED)
    upcoming = [s for s in sessions if s.status == SessionStatus.SCHEDULED]
    ctx: dict[str, Any] = {
        "dispute": dispute,
        "parties": [
            {
                "party": p,
                "phone": mask_phone(p.phone),
                "id_number": mask_id_number(p.id_number),
                "rep_phone": mask_phone(p.representative_phone),
            }
            for p in parties
        ],
        "sessions": sessions,
        "agreements": agreements,
        "assessment": selectors.latest_assessment(dispute),
        "conflicts": list(dispute.conflicts.select_related("mediator").order_by("declared_at")),
        "followups": list(dispute.followups.select_related("owner").order_by("state", "due_on")),
        "suggestions": selectors.mediator_suggestions(dispute) if open_ and can_assign else [],
        "can_work": can_work,
        "can_assign": can_assign and open_,
        "can_manage": can_manage,
        "open": open_,
        "schedulable": schedulable and can_work,
        "today": timezone.localdate(),
        "now": timezone.now(),
        "pending_terms": [t for a in agreements for t in a.terms.all() if t.result == TermResult.PENDING],
        "risk_high_at": risk.HIGH_AT,
        "risk_medium_at": risk.MEDIUM_AT,
        "referrals": Referral.choices,
    }
    if can_assign and open_:
        ctx["assign_form"] = bound.get("assign") or f.AssignForm(mediators=mediators, rooms=rooms)
    me = selectors.mediator_of(user)
    if open_ and (can_assign or me is not None):
        own = mediators.filter(pk=me.pk) if me is not None else mediators.none()
        ctx["conflict_form"] = bound.get("conflict") or f.ConflictForm(mediators=mediators if can_assign else own)
    if can_work and schedulable:
        ctx["schedule_form"] = bound.get("schedule") or f.ScheduleForm(rooms=rooms, parties=parties, initial={"room": dispute.room_id})
        ctx["agreement_form"] = bound.get("agree") or f.AgreementForm(initial={"facts": dispute.facts})
        ctx["terms"] = bound.get("terms") or f.TermFormSet(prefix="t", form_kwargs={"parties": parties})
    if can_work and open_:
        ctx["party_form"] = bound.get("add_party") or f.PartyForm(prefix="np")
        ctx["fail_form"] = bound.get("fail") or f.FailForm()
        ctx["withdraw_form"] = bound.get("withdraw") or f.WithdrawForm()
    if can_work:
        ctx["record_forms"] = [
            (s, bound.get(f"record-{s.pk}") or f.RecordSessionForm(attendances=s.attendances.all(), prefix=f"r{s.pk}"))
            for s in upcoming
            if s.starts_at <= timezone.now()
        ]
        ctx["cancel_forms"] = [
            (s, bound.get(f"cancel-{s.pk}") or f.CancelSessionForm(prefix=f"c{s.pk}")) for s in upcoming
        ]
        ctx["check_forms"] = [
            (t, bound.get(f"check-{t.pk}") or f.TermCheckForm(prefix=f"k{t.pk}")) for t in ctx["pending_terms"]
        ]
        ctx["judicial_forms"] = [
            (a, bound.get(f"judicial-{a.pk}") or f.JudicialForm(prefix=f"j{a.pk}"))
            for a in agreements
            if a.judicial_requested_on is None and a.state != AgreementState.BREACHED
        ]
        ctx["done_forms"] = {
            t.pk: bound.get(f"done-{t.pk}") or f.FollowUpDoneForm(prefix=f"d{t.pk}")
            for t in ctx["followups"]
            if t.state == FollowUpState.OPEN
        }
        if status in services.TRANSITIONS["follow_up"]:
            ctx["followup_form"] = bound.get("follow_up") or f.FollowUpForm(owners=f.followup_owners(dispute))
        ctx["risk_form"] = bound.get("assess") or f.NoteForm(prefix="ra")
    if status in services.TRANSITIONS["record_threat"] and (
        can_work or permissions.has_role_over(user, dispute.unit, permissions.INTAKE_ROLES)
    ):
        ctx["threat_form"] = bound.get("record_threat") or f.ThreatForm(prefix="th")
    if can_manage and status in services.TRANSITIONS["hand_over"]:
        ctx["handover_form"] = bound.get("hand_over") or f.HandOverForm(prefix="ho")
    return ctx


@staff_required
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = _dispute_or_404(request, pk)
    return render(request, "mediation/dispute_detail.html", _detail_context(request, dispute))


# One handler per act: (bound forms by key) or None when it succeeded.
Handler = Callable[[HttpRequest, Dispute], "dict[str, Any] | None"]


def _act_assign(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    form = f.AssignForm(request.POST, mediators=selectors.mediators_for_dispute(dispute), rooms=selectors.rooms_for_dispute(dispute))
    if form.is_valid():
        try:
            services.dispute_assign(
                actor=request.user, dispute=dispute, mediator=form.cleaned_data["mediator"], room=form.cleaned_data.get("room"), reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("已指派调解员。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"assign": form}


def _act_conflict(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    form = f.ConflictForm(request.POST, mediators=Mediator.objects.filter(is_active=True))
    if form.is_valid():
        try:
            services.conflict_declare(
                actor=request.user, dispute=dispute, mediator=form.cleaned_data["mediator"], has_conflict=form.cleaned_data["has_conflict"], note=form.cleaned_data["note"]
            )
            messages.success(request, _("已记录利益冲突声明。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"conflict": form}


def _act_schedule(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    form = f.ScheduleForm(request.POST, rooms=selectors.rooms_for_dispute(dispute), parties=list(dispute.parties.all()))
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.session_schedule(
                actor=request.user,
                dispute=dispute,
                room=d["room"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                party_ids=[int(x) for x in d["parties"]],
                other_attendees=form.other_attendees(),
            )
            messages.success(request, _("已安排调解，并已短信通知当事人。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"schedule": form}


def _session_of(dispute: Dispute, raw: Any) -> Session:
    try:
        return dispute.sessions.get(pk=int(raw))
    except (Session.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404 from exc


def _act_record(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    session = _session_of(dispute, request.POST.get("session_id"))
    form = f.RecordSessionForm(request.POST, attendances=session.attendances.all(), prefix=f"r{session.pk}")
    if form.is_valid():
        try:
            services.session_record(
                actor=request.user, session=session, present=[int(x) for x in form.cleaned_data["present"]], minutes=form.cleaned_data["minutes"]
            )
            messages.success(request, _("已记录调解情况。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {f"record-{session.pk}": form}


def _act_cancel(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    session = _session_of(dispute, request.POST.get("session_id"))
    form = f.CancelSessionForm(request.POST, prefix=f"c{session.pk}")
    if form.is_valid():
        try:
            services.session_cancel(actor=request.user, session=session, reason=form.cleaned_data["reason"])
            messages.success(request, _("已取消该次调解，并已通知当事人。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {f"cancel-{session.pk}": form}


def _act_add_party(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    form = f.PartyForm(request.POST, prefix="np")
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.party_add(
                actor=request.user,
                dispute=dispute,
                party=services.PartyInput(
                    name=d["name"], side=d["side"], phone=d["phone"], id_number=d["id_number"], address=d["address"],
                    is_organisation=d["is_organisation"], representative_name=d["representative_name"],
                    representative_role=d["representative_role"], representative_phone=d["representative_phone"],
                ),
            )
            messages.success(request, _("已添加当事人。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"add_party": form}


def _act_agree(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    parties = list(dispute.parties.all())
    form = f.AgreementForm(request.POST)
    terms = f.TermFormSet(request.POST, prefix="t", form_kwargs={"parties": parties})
    if form.is_valid() and terms.is_valid():
        items = [
            outcomes.TermInput(
                text=t["text"], due_on=t.get("due_on"), amount_fen=f.yuan_to_fen(t.get("amount")), obligor_id=t.get("obligor")
            )
            for t in (fm.cleaned_data for fm in terms.forms)
            if t and (t.get("text") or "").strip()
        ]
        try:
            agreement = outcomes.agreement_create(
                actor=request.user, dispute=dispute, facts=form.cleaned_data["facts"], terms=items, signed_on=form.cleaned_data["signed_on"]
            )
            messages.success(request, _("已生成人民调解协议书 %(number)s。") % {"number": agreement.number})
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"agree": form, "terms": terms}


def _act_fail(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    form = f.FailForm(request.POST)
    if form.is_valid():
        try:
            outcomes.dispute_fail(actor=request.user, dispute=dispute, referral=form.cleaned_data["referral"], guidance=form.cleaned_data["guidance"])
            messages.success(request, _("已记录调解不成，并已将指引告知当事人。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"fail": form}


def _act_withdraw(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    form = f.WithdrawForm(request.POST)
    if form.is_valid():
        try:
            outcomes.dispute_withdraw(actor=request.user, dispute=dispute, reason=form.cleaned_data["reason"])
            messages.success(request, _("已记录撤回。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"withdraw": form}


def _act_judicial(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    try:
        agreement = dispute.agreements.get(pk=int(request.POST.get("agreement_id", "")))
    except (ValueError, TypeError, dispute.agreements.model.DoesNotExist) as exc:
        raise Http404 from exc
    form = f.JudicialForm(request.POST, prefix=f"j{agreement.pk}")
    if form.is_valid():
        try:
            outcomes.agreement_request_judicial(
                actor=request.user, agreement=agreement, court=form.cleaned_data["court"], requested_on=form.cleaned_data["requested_on"]
            )
            messages.success(request, _("已记录司法确认申请。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {f"judicial-{agreement.pk}": form}


def _act_check(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    try:
        term = AgreementTerm.objects.get(pk=int(request.POST.get("term_id", "")), agreement__dispute=dispute)
    except (ValueError, TypeError, AgreementTerm.DoesNotExist) as exc:
        raise Http404 from exc
    form = f.TermCheckForm(request.POST, prefix=f"k{term.pk}")
    if form.is_valid():
        try:
            outcomes.term_check(actor=request.user, term=term, fulfilled=form.cleaned_data["fulfilled"], note=form.cleaned_data["note"])
            messages.success(request, _("已记录履行情况。") if form.cleaned_data["fulfilled"] else _("已记录未履行，纠纷重新进入调解。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {f"check-{term.pk}": form}


def _act_follow_up(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    owners = f.followup_owners(dispute)
    form = f.FollowUpForm(request.POST, owners=owners)
    if form.is_valid():
        owner = next((u for u in owners if u.pk == form.cleaned_data["owner"]), None)
        try:
            services.followup_create(actor=request.user, dispute=dispute, title=form.cleaned_data["title"], owner=owner, due_on=form.cleaned_data["due_on"])
            messages.success(request, _("已添加跟进任务。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"follow_up": form}


def _act_done(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    try:
        task = dispute.followups.get(pk=int(request.POST.get("followup_id", "")))
    except (ValueError, TypeError, FollowUp.DoesNotExist) as exc:
        raise Http404 from exc
    form = f.FollowUpDoneForm(request.POST, prefix=f"d{task.pk}")
    if form.is_valid():
        try:
            services.followup_complete(actor=request.user, followup=task, note=form.cleaned_data["note"])
            messages.success(request, _("跟进任务已完成。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {f"done-{task.pk}": form}


def _act_assess(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    form = f.NoteForm(request.POST, prefix="ra")
    if form.is_valid():
        try:
            a = risk.risk_assess(actor=request.user, dispute=dispute, note=form.cleaned_data["note"])
            messages.success(request, _("已重新评估：%(score).0f 分（%(level)s）。") % {"score": a.score, "level": a.get_level_display()})
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"assess": form}


def _act_threat(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    form = f.ThreatForm(request.POST, prefix="th")
    if form.is_valid():
        try:
            services.threat_record(actor=request.user, dispute=dispute, note=form.cleaned_data["note"])
            messages.success(request, _("已记录，风险已重新评估。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"record_threat": form}


def _act_hand_over(request: HttpRequest, dispute: Dispute) -> dict[str, Any] | None:
    form = f.HandOverForm(request.POST, prefix="ho")
    if form.is_valid():
        try:
            services.dispute_hand_over(actor=request.user, dispute=dispute, body=form.cleaned_data["body"], reason=form.cleaned_data["reason"])
            messages.success(request, _("已移交处置。"))
            return None
        except MediationError as exc:
            _apply_error(form, exc)
    return {"hand_over": form}


ACTS: dict[str, Handler] = {
    "assign": _act_assign,
    "conflict": _act_conflict,
    "schedule": _act_schedule,
    "record": _act_record,
    "cancel": _act_cancel,
    "add_party": _act_add_party,
    "agree": _act_agree,
    "fail": _act_fail,
    "withdraw": _act_withdraw,
    "judicial": _act_judicial,
    "check": _act_check,
    "follow_up": _act_follow_up,
    "done": _act_done,
    "assess": _act_assess,
    "record_threat": _act_threat,
    "hand_over": _act_hand_over,
}


def _shown(ctx: dict[str, Any], form: Any) -> bool:
    for value in ctx.values():
        if value is form:
            return True
        if isinstance(value, list) and any(isinstance(v, tuple) and form in v for v in value):
            return True
        if isinstance(value, dict) and any(v is form for v in value.values()):
            return True
    return False


@require_POST
@staff_required
def dispute_act(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    dispute = _dispute_or_404(request, pk)
    handler = ACTS.get(act)
    if handler is None:
        raise Http404
    bound = handler(request, dispute)
    if bound is None:
        return redirect("mediation:dispute_detail", pk=dispute.pk)
    dispute = _dispute_or_404(request, pk)
    ctx = _detail_context(request, dispute, bound)
    ctx["failed_act"] = act
    # A form the page no longer offers (the dispute moved on meanwhile) cannot show its errors: say them here.
    for form in bound.values():
        if not _shown(ctx, form):
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
    return render(request, "mediation/dispute_detail.html", ctx, status=400)


