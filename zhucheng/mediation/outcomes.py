"""How a mediation ends, and what follows an agreement: the agreement and its PDF, failure with a referral
and the guidance the parties receive, withdrawal, the request for judicial confirmation, and the
fulfilment checks on the agreed dates (a breach reopens the dispute).

Same rules as ``services``: one act per function, in one transaction, checked and audited.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.core.notify import notify

from . import pdf, permissions
from .errors import MediationError
from .models import (
    Agreement,
    AgreementState,
    AgreementTerm,
    Dispute,
    DisputeField,
    DisputeStatus,
    FollowUp,
    FollowUpState,
    Referral,
    Session,
    SessionStatus,
    TermResult,
)
from .services import (
    appeal_note,
    cancel_open_followups,
    check_move,
    clean_text,
    local,
    lock,
    next_number,
    notify_parties,
    now,
    require,
)

logger = logging.getLogger("zhucheng.mediation")

# 人民调解法 第三十三条: the parties may apply jointly within 30 days of the agreement taking effect.
JUDICIAL_CONFIRMATION_DAYS = 30
REMIND_AHEAD = timedelta(hours=24)


@dataclass(frozen=True)
class TermInput:
    text: str
    due_on: date | None = None
    amount_fen: int | None = None
    obligor_id: int | None = None


def _store_pdf(agreement: Agreement) -> None:
    content = pdf.render_agreement(agreement)
    year = agreement.signed_on.year
    if agreement.pdf:
        agreement.pdf.delete(save=False)
    agreement.pdf.save(f"{year}/{agreement.dispute.code}-{agreement.pk}.pdf", ContentFile(content), save=False)
    agreement.pdf_sha256 = hashlib.sha256(content).hexdigest()
    agreement.save(update_fields=["pdf", "pdf_sha256", "updated_at"])


@transaction.atomic
def agreement_create(
    *, actor: Any, dispute: Dispute, facts: str, terms: Sequence[TermInput], signed_on: date | None = None
) -> Agreement:
    """达成协议: the agreement with its terms, its PDF stored under MEDIA_ROOT, and the dispute agreed.

    A term without a deadline is performed at signing; when every term is, the dispute is
    resolved at once.
    """
    dispute = lock(dispute)
    check_move(dispute, "agree")
    require(permissions.can_work(actor, dispute))
    facts = clean_text(facts, "facts", _("纠纷主要事实、争议事项"), limit=8000)
    today = timezone.localdate()
    signed_on = signed_on or today
    if signed_on > today:
        raise MediationError(_("签订日期不能晚于今天。"), field="signed_on")
    if not terms:
        raise MediationError(_("请至少填写一项协议内容。"), code="required", field="terms")
    party_ids = set(dispute.parties.values_list("pk", flat=True))
    at = now()
    year = signed_on.year
    agreement = Agreement.objects.create(
        dispute=dispute,
        # Stored and printed on the agreement: never translated.
        number=f"（{year}）筑调协字第{next_number('agreement', year):05d}号",
        facts=facts,
        signed_on=signed_on,
        created_by=acting_user(actor),
    )
    rows = []
    for seq, term in enumerate(terms, start=1):
        text = clean_text(term.text, "terms", _("协议内容"), limit=2000)
        if term.due_on is not None and term.due_on < signed_on:
            raise MediationError(_("第 %(n)d 项的履行期限早于签订日期。") % {"n": seq}, field="terms")
        if term.amount_fen is not None and term.amount_fen < 0:
            raise MediationError(_("第 %(n)d 项的金额不能为负数。") % {"n": seq}, field="terms")
        if term.obligor_id is not None and term.obligor_id not in party_ids:
            raise MediationError(_("第 %(n)d 项的履行人不是本纠纷的当事人。") % {"n": seq}, field="terms")
        performed = term.due_on is None
        rows.append(
            AgreementTerm(
                agreement=agreement,
                seq=seq,
                text=text,
                obligor_id=term.obligor_id,
                amount_fen=term.amount_fen,
                due_on=term.due_on,
                result=TermResult.FULFILLED if performed else TermResult.PENDING,
                checked_at=at if performed else None,
                check_note=_("签订协议时当场履行") if performed else "",
            )
        )
    AgreementTerm.objects.bulk_create(rows)
    fields = ["status", "agreed_at"]
    dispute.status = DisputeStatus.AGREED
    dispute.agreed_at = at
    if all(r.result == TermResult.FULFILLED for r in rows):
        agreement.state = AgreementState.FULFILLED
        agreement.save(update_fields=["state", "updated_at"])
        dispute.status = DisputeStatus.FULFILLED
        dispute.concluded_at = at
        fields.append("concluded_at")
    dispute.save(update_fields=[*fields, "updated_at"])
    _store_pdf(agreement)
    audit_record(actor=actor, act="mediation.agreement_create", obj=agreement, changed_fields=["facts", "terms", "pdf"])
    last_due = max((r.due_on for r in rows if r.due_on), default=None)
    appeal_note(
        actor,
        dispute,
        _("调解达成协议（协议书编号 %(number)s），最后履行期限 %(due)s。") % {"number": agreement.number, "due": last_due or _("当场履行")},
    )
    notify_parties(
        dispute,
        _("【筑城】您参与的纠纷已达成人民调解协议（%(number)s），请按约定履行。可自协议生效之日起三十日内共同向人民法院申请司法确认。")
        % {"number": agreement.number},
    )
    return agreement


@transaction.atomic
def agreement_render(*, agreement: Agreement) -> Agreement:
    """Write the PDF again (a restored database whose media folder was lost); the content is the same."""
    agreement = Agreement.objects.select_for_update(of=("self",)).select_related("dispute").get(pk=agreement.pk)
    _store_pdf(agreement)
    return agreement


def default_guidance(referral: str, field: str) -> str:
    """The plain-words guidance parties receive for each route (staff may edit it before sending)."""
    texts: dict[str, str] = {
        Referral.LABOUR_ARBITRATION: _(
            "可自知道或者应当知道其权利被侵害之日起一年内，向用人单位所在地的劳动人事争议仲裁委员会申请仲裁；对仲裁裁决不服的，可依法向人民法院起诉。"
        ),
        Referral.ARBITRATION: _("当事人之间有仲裁协议的，可依照仲裁协议向约定的仲裁委员会申请仲裁。"),
        Referral.COURT: _("可依法向有管辖权的人民法院提起诉讼；经济困难的，可向法律援助机构申请法律援助。"),
        Referral.ADMINISTRATIVE: _("可向依法负有处理职责的行政机关申请处理。"),
        Referral.OTHER: _("可通过其他合法途径解决，调解室可提供咨询。"),
    }
    if referral == Referral.COURT and field == DisputeField.TRAFFIC:
        return _("可就赔偿事项向事故发生地或被告住所地人民法院提起诉讼，诉讼时效一般为三年。")
    return texts.get(referral, texts[Referral.OTHER])


@transaction.atomic
def dispute_fail(*, actor: Any, dispute: Dispute, referral: str, guidance: str = "") -> Dispute:
    """调解不成: the route the parties are referred to and the guidance they receive (sent to them)."""
    dispute = lock(dispute)
    check_move(dispute, "fail")
    require(permissions.can_work(actor, dispute))
    if referral not in Referral.values:
        raise MediationError(_("请选择引导途径。"), code="required", field="referral")
    guidance = clean_text(guidance or default_guidance(referral, dispute.field), "guidance", _("告知当事人的指引"), limit=2000)
    dispute.status = DisputeStatus.FAILED
    dispute.referral = referral
    dispute.referral_guidance = guidance
    dispute.concluded_at = now()
    dispute.save(update_fields=["status", "referral", "referral_guidance", "concluded_at", "updated_at"])
    audit_record(actor=actor, act="mediation.dispute_fail", obj=dispute, changed_fields=["status", "referral", "referral_guidance"])
    route = dispute.get_referral_display()
    notify_parties(dispute, _("【筑城】您参与的纠纷未能调解成功。指引（%(route)s）：%(text)s") % {"route": route, "text": guidance[:200]})
    appeal_note(actor, dispute, _("调解未能达成协议，已告知当事人通过%(route)s解决：%(text)s") % {"route": route, "text": guidance})
    return dispute


@transaction.atomic
def dispute_withdraw(*, actor: Any, dispute: Dispute, reason: str) -> Dispute:
    """撤回: a party withdraws (or all agree to stop); the reason is recorded."""
    dispute = lock(dispute)
    check_move(dispute, "withdraw")
    require(permissions.can_work(actor, dispute))
    dispute.withdrawn_reason = clean_text(reason, "reason", _("撤回理由"), limit=2000)
    dispute.status = DisputeStatus.WITHDRAWN
    dispute.concluded_at = now()
    dispute.save(update_fields=["withdrawn_reason", "status", "concluded_at", "updated_at"])
    Session.objects.filter(dispute=dispute, status=SessionStatus.SCHEDULED).update(status=SessionStatus.CANCELLED, updated_at=now())
    audit_record(actor=actor, act="mediation.dispute_withdraw", obj=dispute, changed_fields=["status", "withdrawn_reason"])
    appeal_note(actor, dispute, _("当事人撤回调解申请，调解终止。"))
    return dispute


@transaction.atomic
def agreement_request_judicial(*, actor: Any, agreement: Agreement, court: str, requested_on: date) -> Agreement:
    """申请司法确认: recorded with the court and the date, within 30 days of the agreement."""
    agreement = Agreement.objects.select_for_update(of=("self",)).select_related("dispute__unit", "dispute__mediator").get(pk=agreement.pk)
    require(permissions.can_work(actor, agreement.dispute))
    court = clean_text(court, "court", _("受理法院"), limit=100)
    if requested_on < agreement.signed_on or requested_on > timezone.localdate():
        raise MediationError(_("申请日期须在签订日期和今天之间。"), field="requested_on")
    if (requested_on - agreement.signed_on).days > JUDICIAL_CONFIRMATION_DAYS:
        raise MediationError(
            _("司法确认须自协议生效之日起 %(n)d 日内申请。") % {"n": JUDICIAL_CONFIRMATION_DAYS}, code="too_late", field="requested_on"
        )
    agreement.judicial_court = court
    agreement.judicial_requested_on = requested_on
    agreement.save(update_fields=["judicial_court", "judicial_requested_on", "updated_at"])
    audit_record(actor=actor, act="mediation.judicial_request", obj=agreement, changed_fields=["judicial_court", "judicial_requested_on"])
    appeal_note(actor, agreement.dispute, _("当事人已向%(court)s申请司法确认。") % {"court": court})
    return agreement


@transaction.atomic
def term_check(*, actor: Any, term: AgreementTerm, fulfilled: bool, note: str = "") -> AgreementTerm:
    """履行回访: record whether a term was performed. A breach reopens the dispute for mediation;
    the last term performed resolves it."""
    term = AgreementTerm.objects.select_related("agreement").get(pk=term.pk)
    dispute = lock(term.agreement.dispute)
    term = AgreementTerm.objects.select_for_update(of=("self",)).select_related("agreement").get(pk=term.pk)
    agreement = term.agreement
    require(permissions.can_work(actor, dispute))
    if term.result != TermResult.PENDING:
        raise MediationError(_("该条款的履行情况已记录。"), code="invalid_transition")
    if dispute.status not in (DisputeStatus.AGREED, DisputeStatus.REOPENED):
        raise MediationError(_("纠纷当前状态下不能记录履行情况。"), code="invalid_transition")
    note = clean_text(note, "note", _("核实情况"), limit=2000, required=not fulfilled)
    at = now()
    term.result = TermResult.FULFILLED if fulfilled else TermResult.BREACHED
    term.checked_at = at
    term.checked_by = acting_user(actor)
    term.check_note = note
    term.save(update_fields=["result", "checked_at", "checked_by", "check_note"])
    FollowUp.objects.filter(term=term, state=FollowUpState.OPEN).update(state=FollowUpState.DONE, done_at=at, note=note, updated_at=at)
    changed = ["result"]
    if not fulfilled:
        agreement.state = AgreementState.BREACHED
        agreement.save(update_fields=["state", "updated_at"])
        if dispute.status == DisputeStatus.AGREED:
            dispute.status = DisputeStatus.REOPENED
            dispute.reopened_at = at
            dispute.reopened_count += 1
            dispute.concluded_at = None
            dispute.save(update_fields=["status", "reopened_at", "reopened_count", "concluded_at", "updated_at"])
            changed += ["status", "reopened_count"]
            appeal_note(actor, dispute, _("协议第 %(n)d 项未按期履行，纠纷已重新进入调解。") % {"n": term.seq})
    elif not agreement.terms.exclude(result=TermResult.FULFILLED).exists():
        agreement.state = AgreementState.FULFILLED
        agreement.save(update_fields=["state", "updated_at"])
        if dispute.status == DisputeStatus.AGREED:
            dispute.status = DisputeStatus.FULFILLED
            dispute.concluded_at = at
            dispute.save(update_fields=["status", "concluded_at", "updated_at"])
            cancel_open_followups(dispute, _("协议已全部履行"))
            changed.append("status")
            appeal_note(actor, dispute, _("调解协议已全部履行，纠纷化解。"))
    audit_record(actor=actor, act="mediation.term_check", obj=term.agreement, changed_fields=changed, reason=f"term {term.seq}: {term.result}")
    if not fulfilled:
        from .risk import risk_assess

        risk_assess(actor=None, dispute=dispute, note=_("协议未履行后重新评估"))
    return term


# --- the sweep -----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    checks_opened: int = 0
    reminders_sent: int = 0


def _owner_of(dispute: Dispute) -> Any:
    if dispute.mediator_id and dispute.mediator and dispute.mediator.user_id:
        return dispute.mediator.user
    return dispute.received_by


def _open_check(term_id: int, today: date) -> bool:
    """Open the fulfilment check of one term due by ``today`` (one transaction, row locked)."""
    with transaction.atomic():
        term = (
            AgreementTerm.objects.select_for_update(of=("self",))
            .select_related("agreement__dispute__mediator__user", "agreement__dispute__received_by")
            .filter(pk=term_id, check_opened_at__isnull=True, result=TermResult.PENDING)
            .first()
        )
        if term is None:
            return False
        dispute = term.agreement.dispute
        term.check_opened_at = now()
        term.save(update_fields=["check_opened_at"])
        owner = _owner_of(dispute)
        if owner is not None:
            FollowUp.objects.get_or_create(
                term=term,
                defaults={
                    "dispute": dispute,
                    "title": _("履行回访：核实协议第 %(n)d 项（期限 %(due)s）的履行情况") % {"n": term.seq, "due": term.due_on},
                    "owner": owner,
                    "due_on": today,
                },
            )
            if owner.phone:
                notify(
                    channel="sms",
                    address=owner.phone,
                    text=_("【筑城】纠纷 %(code)s 的调解协议第 %(n)d 项今日到期，请回访核实履行情况。") % {"code": dispute.code, "n": term.seq},
                )
        audit_record(actor=None, act="mediation.check_open", obj=term.agreement, changed_fields=["check_opened_at"], reason=f"term {term.seq}")
        return True


def _remind(session_id: int, at: datetime) -> bool:
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("room__unit", "dispute")
            .filter(pk=session_id, reminded_at__isnull=True, status=SessionStatus.SCHEDULED)
            .first()
        )
        if session is None:
            return False
        notify_parties(
            session.dispute,
            _("【筑城】提醒：您参与的纠纷调解将于 %(start)s 在%(room)s（%(address)s）进行，请准时参加。")
            % {"start": local(session.starts_at), "room": session.room.name, "address": session.room.address or session.room.unit.name},
        )
        session.reminded_at = at
        session.save(update_fields=["reminded_at"])
        return True


def sweep(*, at: datetime | None = None) -> SweepReport:
    """Open the fulfilment checks of terms due by today, and remind parties of tomorrow's sessions.

    Idempotent: a term's check is opened once (``check_opened_at``), a session reminded once.
    """
    at = at or now()
    today = timezone.localdate(at)
    report = SweepReport()
    due = AgreementTerm.objects.filter(
        result=TermResult.PENDING,
        check_opened_at__isnull=True,
        due_on__lte=today,
        agreement__dispute__status__in=[DisputeStatus.AGREED, DisputeStatus.REOPENED],
    ).values_list("pk", flat=True)
    for term_id in list(due):
        report.checks_opened += _open_check(term_id, today)
    upcoming = Session.objects.filter(
        status=SessionStatus.SCHEDULED, reminded_at__isnull=True, starts_at__gt=at, starts_at__lte=at + REMIND_AHEAD
    ).values_list("pk", flat=True)
    for session_id in list(upcoming):
        report.reminders_sent += _remind(session_id, at)
    return report
