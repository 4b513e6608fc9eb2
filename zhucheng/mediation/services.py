"""Every write to a dispute before its outcome: intake (direct, from an appeal, from screening), parties,
assignment and conflicts of interest, sessions, threats, follow-ups and hand-over (处置).

One function per act, keyword-only, in one transaction, permission-checked against the actor's posts
over the dispute's unit, audited (``mediation.*``). Outcomes (agreement, failure, withdrawal,
fulfilment) are in ``outcomes.py``; risk in ``risk.py``; screening rounds in ``screening.py``.
A dispute that came from an appeal reports its progress into that appeal's public timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.core.notify import notify
from zhucheng.places.models import OrgUnit
from zhucheng.places.selectors import NotVisible

from . import permissions
from .errors import MediationError
from .models import (
    OPEN_STATUSES,
    Attendance,
    Committee,
    ConflictDeclaration,
    Dispute,
    DisputeField,
    DisputeStatus,
    FollowUp,
    FollowUpState,
    GridReport,
    Mediator,
    Party,
    PartySide,
    Room,
    Session,
    SessionStatus,
    Source,
    Urgency,
)
from .models import (
    Sequence as CodeSequence,
)

logger = logging.getLogger("zhucheng.mediation")

# act → statuses it may start from.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "assign": OPEN_STATUSES,
    "add_party": OPEN_STATUSES,
    "declare_conflict": OPEN_STATUSES,
    "schedule": (DisputeStatus.MEDIATING, DisputeStatus.REOPENED),
    "agree": (DisputeStatus.MEDIATING, DisputeStatus.REOPENED),
    "fail": OPEN_STATUSES,
    "withdraw": OPEN_STATUSES,
    "hand_over": (*OPEN_STATUSES, DisputeStatus.AGREED),
    "record_threat": (*OPEN_STATUSES, DisputeStatus.AGREED),
    "follow_up": (*OPEN_STATUSES, DisputeStatus.AGREED),
}
ACT_NAMES = {
    "assign": gettext_lazy("指派调解员"),
    "add_party": gettext_lazy("添加当事人"),
    "declare_conflict": gettext_lazy("利益冲突声明"),
    "schedule": gettext_lazy("安排调解"),
    "agree": gettext_lazy("达成调解协议"),
    "fail": gettext_lazy("调解不成"),
    "withdraw": gettext_lazy("撤回"),
    "hand_over": gettext_lazy("移交处置"),
    "record_threat": gettext_lazy("记录危害风险"),
    "follow_up": gettext_lazy("添加跟进任务"),
}
MAX_SESSION_HOURS = 8
# Sessions booked this close to "now" are still accepted (the page was opened a moment ago).
PAST_GRACE = timedelta(minutes=5)


# --- shared steps --------------------------------------------------------------------------


def now() -> datetime:
    return timezone.now()


def require(ok: bool, message: str | None = None) -> None:
    if not ok:
        raise MediationError(message or _("您没有权限对该纠纷执行此操作。"), code="forbidden")


def clean_text(value: str | None, field: str, label: str, *, limit: int = 4000, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise MediationError(_("请填写%(label)s。") % {"label": label}, code="required", field=field)
    if len(value) > limit:
        raise MediationError(_("%(label)s不能超过 %(n)d 字。") % {"label": label, "n": limit}, code="too_long", field=field)
    return value


def next_number(name: str, year: int) -> int:
    """The next number of a per-year counter, taken under this transaction's row lock."""
    updated = CodeSequence.objects.filter(name=name, year=year).update(last=F("last") + 1)
    if not updated:
        CodeSequence.objects.get_or_create(name=name, year=year, defaults={"last": 0})
        CodeSequence.objects.filter(name=name, year=year).update(last=F("last") + 1)
    return CodeSequence.objects.get(name=name, year=year).last


def lock(dispute: Dispute) -> Dispute:
    """Re-read the dispute under a row lock (two staff acting at once see each other's result)."""
    return Dispute.objects.select_for_update(of=("self",)).select_related("unit", "mediator", "room", "appeal").get(pk=dispute.pk)


def check_move(dispute: Dispute, act: str) -> None:
    if dispute.status not in TRANSITIONS[act]:
        raise MediationError(
            _("纠纷当前状态“%(status)s”下不能%(act)s。") % {"status": dispute.get_status_display(), "act": ACT_NAMES[act]},
            code="invalid_transition",
        )


def local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def actor_label(actor: Any) -> str:
    if actor is None:
        return _("系统")
    return str(getattr(actor, "display_name", "") or actor.get_username())


def appeal_note(actor: Any, dispute: Dispute, text: str) -> None:
    """Post the mediation's progress into the linked appeal's public timeline.

    The appeal's own service decides who may write there; a mediator who does not work the
    appeal is not refused the mediation act for that: the note is then written by the system,
    naming the mediation. It never carries party names or identifiers.
    """
    if dispute.appeal_id is None:
        return
    from zhucheng.appeals.errors import AppealError
    from zhucheng.appeals.services import appeal_add_note

    appeal = dispute.appeal
    assert appeal is not None
    body = _("【人民调解 %(code)s】%(text)s") % {"code": dispute.code, "text": text}
    try:
        appeal_add_note(actor=actor, appeal=appeal, text=body, is_public=True)
    except AppealError as exc:
        if exc.code != "forbidden":
            raise
        appeal_add_note(actor=None, appeal=appeal, text=body, is_public=True)


def notify_parties(dispute: Dispute, text: str) -> int:
    """SMS to every party (and representative) with a phone; after commit, never blocking the act."""
    sent = 0
    for party in dispute.parties.all():
        for phone in {party.phone, party.representative_phone} - {""}:
            notify(channel="sms", address=phone, text=text)
            sent += 1
    return sent


# --- intake ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyInput:
    name: str
    side: str = PartySide.APPLICANT
    phone: str = ""
    id_number: str = ""
    address: str = ""
    is_organisation: bool = False
    representative_name: str = ""
    representative_role: str = ""
    representative_phone: str = ""


def _clean_party(p: PartyInput) -> Party:
    name = clean_text(p.name, "parties", _("当事人姓名"), limit=100)
    if p.side not in PartySide.values:
        raise MediationError(_("当事人身份无效。"), field="parties")
    return Party(
        side=p.side,
        name=name,
        is_organisation=p.is_organisation,
        id_number="".join((p.id_number or "").split()).upper(),
        phone="".join((p.phone or "").split()),
        address=(p.address or "").strip()[:200],
        representative_name=(p.representative_name or "").strip()[:60],
        representative_role=(p.representative_role or "").strip()[:30],
        representative_phone="".join((p.representative_phone or "").split()),
    )


def _committee_for(field: str, room: Room | None) -> Committee | None:
    """The committee of the field (the eight professional ones), else the room's."""
    committee = Committee.objects.filter(field=field, is_active=True).order_by("code").first()
    if committee is None and room is not None:
        committee = room.committee
    return committee


@transaction.atomic
def dispute_create(
    *,
    actor: Any,
    title: str,
    facts: str,
    unit: OrgUnit,
    parties: Sequence[PartyInput],
    field: str = DisputeField.OTHER,
    amount_fen: int | None = None,
    urgency: str = Urgency.NORMAL,
    source: str = Source.WALK_IN,
    room: Room | None = None,
    appeal: Any = None,
    screening_report: GridReport | None = None,
    prior_appeals: int = 0,
    received_at: datetime | None = None,
) -> Dispute:
    """受理纠纷: validate, number, record the parties; the first risk assessment follows at once."""
    require(
        permissions.has_role_over(actor, unit, permissions.INTAKE_ROLES),
        _("您不能在该区划受理纠纷。"),
    )
    title = clean_text(title, "title", _("纠纷事项"), limit=120)
    facts = clean_text(facts, "facts", _("纠纷事实"))
    if field not in DisputeField.values:
        raise MediationError(_("纠纷类型无效。"), field="field")
    if urgency not in Urgency.values:
        raise MediationError(_("紧急程度无效。"), field="urgency")
    if source not in Source.values:
        raise MediationError(_("来源无效。"), field="source")
    if amount_fen is not None and amount_fen < 0:
        raise MediationError(_("争议金额不能为负数。"), field="amount")
    if not parties:
        raise MediationError(_("请至少填写一名当事人。"), code="required", field="parties")
    cleaned = [_clean_party(p) for p in parties]
    if room is not None and not room.is_active:
        raise MediationError(_("该调解室已停用。"), field="room")
    if source == Source.SCREENING and screening_report is None:
        raise MediationError(_("排查发现的纠纷须关联排查报告。"), field="screening_report")
    at = received_at or now()
    year = timezone.localtime(at).year
    dispute = Dispute.objects.create(
        code=f"TJ{year}-{next_number('dispute', year):06d}",
        title=title,
        facts=facts,
        field=field,
        amount_fen=amount_fen,
        urgency=urgency,
        source=source,
        appeal=appeal,
        screening_report=screening_report,
        unit=unit,
        room=room,
        committee=_committee_for(field, room),
        prior_appeals=max(int(prior_appeals or 0), 0),
        received_at=at,
        received_by=acting_user(actor),
    )
    for party in cleaned:
        party.dispute = dispute
    Party.objects.bulk_create(cleaned)
    audit_record(
        actor=actor,
        act="mediation.dispute_create",
        obj=dispute,
        changed_fields=["title", "facts", "field", "unit", "parties", "source"] + (["appeal"] if appeal is not None else []),
        reason=source,
    )
    from .risk import risk_assess

    risk_assess(actor=None, dispute=dispute, note=_("受理时自动评估"))
    dispute.refresh_from_db()
    return dispute


@transaction.atomic
def dispute_create_from_appeal(
    *,
    actor: Any,
    appeal_id: Any,
    title: str = "",
    facts: str = "",
    field: str = DisputeField.OTHER,
    parties: Sequence[PartyInput] | None = None,
    amount_fen: int | None = None,
    room: Room | None = None,
    urgency: str = "",
) -> Dispute:
    """转人民调解: one act makes a dispute of an appeal; both stay linked and the appeal's timeline says so.

    Parties default to the appeal's petitioners (their contacts copied, still encrypted).
    """
    from zhucheng.appeals.selectors import appeal_get_for_user

    try:
        appeal = appeal_get_for_user(actor, appeal_id) if actor is not None else _appeal_for_system(appeal_id)
    except NotVisible as exc:
        raise MediationError(_("没有找到该诉求，或它不在您的管辖范围内。"), code="not_found", field="appeal") from exc
    existing = Dispute.objects.filter(appeal=appeal).first()
    if existing is not None:
        raise MediationError(
            _("该诉求已转入人民调解（纠纷编号 %(code)s）。") % {"code": existing.code}, code="exists", field="appeal"
        )
    if parties is None:
        parties = appeal_parties(appeal)
    dispute = dispute_create(
        actor=actor,
        title=title or appeal.title,
        facts=facts or appeal.description,
        unit=appeal.grid or appeal.unit,
        parties=parties,
        field=field,
        amount_fen=amount_fen,
        urgency=urgency or appeal.urgency,
        source=Source.APPEAL,
        room=room,
        appeal=appeal,
        prior_appeals=appeal.repeats.count() if hasattr(appeal, "repeats") else 0,
    )
    appeal_note(actor, dispute, _("已转入人民调解，调解进展将在此同步。"))
    return dispute


def _appeal_for_system(appeal_id: Any) -> Any:
    from zhucheng.appeals.models import Appeal

    try:
        return Appeal.objects.select_related("unit", "grid").get(pk=appeal_id)
    except (Appeal.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


def appeal_parties(appeal: Any) -> list[PartyInput]:
    """The appeal's petitioners as parties (applicants), contacts carried over."""
    return [
        PartyInput(name=p.name or _("诉求人"), side=PartySide.APPLICANT, phone=p.phone, id_number=p.id_number, address=p.address)
        for p in appeal.petitioners.all()
    ]


@transaction.atomic
def party_add(*, actor: Any, dispute: Dispute, party: PartyInput) -> Party:
    dispute = lock(dispute)
    check_move(dispute, "add_party")
    require(permissions.can_work(actor, dispute))
    row = _clean_party(party)
    row.dispute = dispute
    row.save()
    audit_record(actor=actor, act="mediation.party_add", obj=dispute, changed_fields=["parties"])
    return row


# --- assignment ----------------------------------------------------------------------------------


def mediator_load(mediator: Mediator) -> int:
    return Dispute.objects.filter(mediator=mediator, status__in=OPEN_STATUSES).count()


@transaction.atomic
def conflict_declare(*, actor: Any, dispute: Dispute, mediator: Mediator, has_conflict: bool, note: str = "") -> ConflictDeclaration:
    """利益冲突声明: recorded either way; a declared conflict takes the mediator off the dispute."""
    dispute = lock(dispute)
    check_move(dispute, "declare_conflict")
    own = mediator.user_id is not None and mediator.user_id == getattr(actor, "pk", None)
    require(own or permissions.has_role_over(actor, dispute.unit, permissions.CASE_ROLES))
    note = clean_text(note, "note", _("说明"), limit=1000, required=has_conflict)
    declaration = ConflictDeclaration.objects.create(
        dispute=dispute,
        mediator=mediator,
        has_conflict=has_conflict,
        note=note,
        declared_at=now(),
        declared_by=acting_user(actor),
    )
    changed = ["conflicts"]
    if has_conflict and dispute.mediator_id == mediator.pk:
        dispute.mediator = None
        dispute.status = DisputeStatus.RECEIVED if dispute.status == DisputeStatus.MEDIATING else dispute.status
        dispute.save(update_fields=["mediator", "status", "updated_at"])
        changed += ["mediator", "status"]
    audit_record(actor=actor, act="mediation.conflict_declare", obj=dispute, changed_fields=changed, reason=str(has_conflict))
    return declaration


@transaction.atomic
def dispute_assign(*, actor: Any, dispute: Dispute, mediator: Mediator, room: Room | None = None, reason: str = "") -> Dispute:
    """指派调解员 (and optionally the room): refused for a declared conflict, an inactive or fully loaded mediator."""
    dispute = lock(dispute)
    check_move(dispute, "assign")
    require(permissions.has_role_over(actor, dispute.unit, permissions.CASE_ROLES), _("您不能为该纠纷指派调解员。"))
    mediator = Mediator.objects.select_for_update().get(pk=mediator.pk)
    if not mediator.is_active:
        raise MediationError(_("该调解员不在岗。"), field="mediator")
    if ConflictDeclaration.objects.filter(dispute=dispute, mediator=mediator, has_conflict=True).exists():
        raise MediationError(_("该调解员已声明与本纠纷存在利益冲突，不能承办。"), code="conflict", field="mediator")
    if dispute.mediator_id != mediator.pk and mediator_load(mediator) >= mediator.max_load:
        raise MediationError(
            _("该调解员在办纠纷已达上限（%(n)d 件），请另选调解员。") % {"n": mediator.max_load}, code="overloaded", field="mediator"
        )
    if room is not None and not room.is_active:
        raise MediationError(_("该调解室已停用。"), field="room")
    changed = ["mediator", "assigned_at"]
    dispute.mediator = mediator
    dispute.assigned_at = now()
    if dispute.status == DisputeStatus.RECEIVED:
        dispute.status = DisputeStatus.MEDIATING
        changed.append("status")
    if room is not None:
        dispute.room = room
        changed.append("room")
    dispute.save(update_fields=[*changed, "updated_at"])
    audit_record(actor=actor, act="mediation.dispute_assign", obj=dispute, changed_fields=changed, reason=reason)
    appeal_note(actor, dispute, _("已指派人民调解员承办。"))
    return dispute


# --- sessions ------------------------------------------------------------------------------------


def _check_opening_hours(room: Room, starts_at: datetime, ends_at: datetime) -> None:
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    if start.date() != end.date():
        raise MediationError(_("调解须在同一天内开始和结束。"), field="ends_at")
    if str(start.isoweekday()) not in room.open_days:
        raise MediationError(_("调解室“%(room)s”当天不开放。") % {"room": room.name}, code="closed", field="starts_at")
    if start.time() < room.opens_at or end.time() > room.closes_at:
        raise MediationError(
            _("调解室“%(room)s”的开放时间为 %(open)s–%(close)s。")
            % {"room": room.name, "open": room.opens_at.strftime("%H:%M"), "close": room.closes_at.strftime("%H:%M")},
            code="closed",
            field="starts_at",
        )


def _overlapping(qs: Any, starts_at: datetime, ends_at: datetime) -> Session | None:
    """The first live session in ``qs`` overlapping [starts_at, ends_at) (touching ends do not overlap)."""
    return (
        qs.filter(status__in=[SessionStatus.SCHEDULED, SessionStatus.HELD], starts_at__lt=ends_at, ends_at__gt=starts_at)
        .order_by("starts_at")
        .first()
    )


@transaction.atomic
def session_schedule(
    *,
    actor: Any,
    dispute: Dispute,
    room: Room,
    starts_at: datetime,
    ends_at: datetime,
    mediator: Mediator | None = None,
    party_ids: Iterable[int] | None = None,
    other_attendees: Iterable[tuple[str, str]] = (),
    remind: bool = True,
) -> Session:
    """安排调解: a room and a mediator for a time range; double-booking either is refused.

    Race-safe: the room's and the mediator's rows are locked (always in that order, so two
    bookings never deadlock) before the overlap check, so of two concurrent bookings of the same
    slot the second sees the first and is refused.
    """
    dispute = lock(dispute)
    check_move(dispute, "schedule")
    require(permissions.can_work(actor, dispute))
    mediator = mediator or dispute.mediator
    if mediator is None:
        raise MediationError(_("请先指派调解员。"), code="no_mediator", field="mediator")
    if starts_at >= ends_at:
        raise MediationError(_("结束时间须晚于开始时间。"), field="ends_at")
    if ends_at - starts_at > timedelta(hours=MAX_SESSION_HOURS):
        raise MediationError(_("一次调解不能超过 %(n)d 小时。") % {"n": MAX_SESSION_HOURS}, field="ends_at")
    if starts_at < now() - PAST_GRACE:
        raise MediationError(_("不能安排在过去的时间。"), field="starts_at")
    room = Room.objects.select_for_update().get(pk=room.pk)
    mediator = Mediator.objects.select_for_update().get(pk=mediator.pk)
    if not room.is_active:
        raise MediationError(_("该调解室已停用。"), field="room")
    if not mediator.is_active:
        raise MediationError(_("该调解员不在岗。"), field="mediator")
    if ConflictDeclaration.objects.filter(dispute=dispute, mediator=mediator, has_conflict=True).exists():
        raise MediationError(_("该调解员已声明与本纠纷存在利益冲突，不能承办。"), code="conflict", field="mediator")
    _check_opening_hours(room, starts_at, ends_at)
    clash = _overlapping(Session.objects.filter(room=room), starts_at, ends_at)
    if clash is not None:
        raise MediationError(
            _("调解室“%(room)s”在 %(start)s–%(end)s 已有安排，请换一个时段或调解室。")
            % {"room": room.name, "start": local(clash.starts_at), "end": timezone.localtime(clash.ends_at).strftime("%H:%M")},
            code="double_booked",
            field="starts_at",
        )
    clash = _overlapping(Session.objects.filter(mediator=mediator), starts_at, ends_at)
    if clash is not None:
        raise MediationError(
            _("调解员%(name)s在 %(start)s–%(end)s 已有调解安排，请换一个时段。")
            % {"name": mediator.name, "start": local(clash.starts_at), "end": timezone.localtime(clash.ends_at).strftime("%H:%M")},
            code="double_booked",
            field="starts_at",
        )
    session = Session.objects.create(
        dispute=dispute,
        room=room,
        mediator=mediator,
        starts_at=starts_at,
        ends_at=ends_at,
        scheduled_by=acting_user(actor),
    )
    parties = list(dispute.parties.all())
    wanted = {p.pk for p in parties} if party_ids is None else set(party_ids)
    rows = [Attendance(session=session, party=p, role=p.get_side_display()) for p in parties if p.pk in wanted]
    rows += [Attendance(session=session, name=n.strip()[:60], role=r.strip()[:30]) for n, r in other_attendees if n.strip()]
    Attendance.objects.bulk_create(rows)
    if dispute.room_id is None:
        dispute.room = room
        dispute.save(update_fields=["room", "updated_at"])
    if remind:
        notify_parties(
            dispute,
            _("【筑城】您参与的纠纷调解定于 %(start)s 在%(room)s（%(address)s）进行，请准时参加。如需改期，请联系调解室。")
            % {"start": local(starts_at), "room": room.name, "address": room.address or room.unit.name},
        )
    audit_record(actor=actor, act="mediation.session_schedule", obj=session, changed_fields=["room", "mediator", "starts_at", "ends_at"])
    appeal_note(actor, dispute, _("已安排调解，时间 %(start)s。") % {"start": local(starts_at)})
    return session


@transaction.atomic
def session_cancel(*, actor: Any, session: Session, reason: str) -> Session:
    session = Session.objects.select_for_update(of=("self",)).select_related("dispute__unit", "dispute__mediator").get(pk=session.pk)
    require(permissions.can_work(actor, session.dispute))
    if session.status != SessionStatus.SCHEDULED:
        raise MediationError(_("只能取消尚未举行的调解。"), code="invalid_transition")
    reason = clean_text(reason, "reason", _("取消原因"), limit=500)
    session.status = SessionStatus.CANCELLED
    session.save(update_fields=["status", "updated_at"])
    notify_parties(session.dispute, _("【筑城】原定 %(start)s 的纠纷调解已取消，调解室将另行通知。") % {"start": local(session.starts_at)})
    audit_record(actor=actor, act="mediation.session_cancel", obj=session, changed_fields=["status"], reason=reason)
    return session


@transaction.atomic
def session_record(*, actor: Any, session: Session, present: Iterable[int], minutes: str) -> Session:
    """记录调解: who attended (attendance ids) and the minutes; the session is then held."""
    session = Session.objects.select_for_update(of=("self",)).select_related("dispute__unit", "dispute__mediator").get(pk=session.pk)
    require(permissions.can_work(actor, session.dispute))
    if session.status == SessionStatus.CANCELLED:
        raise MediationError(_("该调解已取消。"), code="invalid_transition")
    if session.starts_at > now():
        raise MediationError(_("调解尚未开始，不能记录。"), code="too_early")
    minutes = clean_text(minutes, "minutes", _("调解笔录"), limit=20000)
    here = set(present)
    for row in session.attendances.all():
        row.present = row.pk in here
        row.save(update_fields=["present"])
    session.minutes = minutes
    session.status = SessionStatus.HELD
    session.held_at = now()
    session.save(update_fields=["minutes", "status", "held_at", "updated_at"])
    audit_record(actor=actor, act="mediation.session_record", obj=session, changed_fields=["minutes", "status", "attendances"])
    return session


# --- risk inputs, follow-up, hand-over -----------------------------------------------------------


@transaction.atomic
def threat_record(*, actor: Any, dispute: Dispute, note: str) -> Dispute:
    """记录危害风险: staff record a threat of harm to self or others; the dispute is re-assessed at once."""
    dispute = lock(dispute)
    check_move(dispute, "record_threat")
    require(permissions.has_role_over(actor, dispute.unit, permissions.INTAKE_ROLES) or permissions.is_dispute_mediator(actor, dispute))
    note = clean_text(note, "note", _("情况记录"), limit=2000)
    dispute.threat_recorded_at = now()
    dispute.threat_note = note
    dispute.save(update_fields=["threat_recorded_at", "threat_note", "updated_at"])
    audit_record(actor=actor, act="mediation.threat_record", obj=dispute, changed_fields=["threat_recorded_at", "threat_note"])
    from .risk import risk_assess

    risk_assess(actor=None, dispute=dispute, note=_("记录危害风险后重新评估"))
    dispute.refresh_from_db()
    return dispute


@transaction.atomic
def followup_create(*, actor: Any, dispute: Dispute, title: str, owner: Any, due_on: date, term: Any = None) -> FollowUp:
    """跟进任务: an owner who can act on the dispute, and a due date."""
    dispute = lock(dispute)
    check_move(dispute, "follow_up")
    require(permissions.can_work(actor, dispute))
    title = clean_text(title, "title", _("任务"), limit=200)
    if owner is None:
        raise MediationError(_("请选择负责人。"), code="required", field="owner")
    if not (permissions.has_role_over(owner, dispute.unit, permissions.CASE_ROLES) or permissions.is_dispute_mediator(owner, dispute)):
        raise MediationError(_("负责人须是该纠纷所在区划的工作人员或承办调解员。"), field="owner")
    if due_on < timezone.localdate():
        raise MediationError(_("完成期限不能早于今天。"), field="due_on")
    task = FollowUp.objects.create(
        dispute=dispute,
        title=title,
        owner=owner,
        due_on=due_on,
        term=term,
        created_by=acting_user(actor),
    )
    audit_record(actor=actor, act="mediation.followup_create", obj=task, changed_fields=["title", "owner", "due_on"])
    return task


@transaction.atomic
def followup_complete(*, actor: Any, followup: FollowUp, note: str) -> FollowUp:
    task = FollowUp.objects.select_for_update(of=("self",)).select_related("dispute__unit", "dispute__mediator").get(pk=followup.pk)
    require(task.owner_id == getattr(actor, "pk", None) or permissions.can_work(actor, task.dispute))
    if task.state != FollowUpState.OPEN:
        raise MediationError(_("该任务已结束。"), code="invalid_transition")
    task.note = clean_text(note, "note", _("情况说明"), limit=2000)
    task.state = FollowUpState.DONE
    task.done_at = now()
    task.save(update_fields=["note", "state", "done_at", "updated_at"])
    audit_record(actor=actor, act="mediation.followup_complete", obj=task, changed_fields=["state", "note"])
    return task


def cancel_open_followups(dispute: Dispute, reason: str) -> int:
    return FollowUp.objects.filter(dispute=dispute, state=FollowUpState.OPEN).update(
        state=FollowUpState.CANCELLED, note=reason, updated_at=now()
    )


@transaction.atomic
def dispute_hand_over(*, actor: Any, dispute: Dispute, body: str, reason: str) -> Dispute:
    """处置: hand the dispute to the competent body; open follow-ups end with it."""
    dispute = lock(dispute)
    check_move(dispute, "hand_over")
    require(permissions.has_role_over(actor, dispute.unit, permissions.MANAGER_ROLES), _("只有社区工作人员、督办人员或领导可以移交处置。"))
    dispute.handed_over_to = clean_text(body, "body", _("移交单位"), limit=120)
    dispute.handover_reason = clean_text(reason, "reason", _("移交理由"), limit=2000)
    dispute.status = DisputeStatus.HANDED_OVER
    dispute.concluded_at = now()
    dispute.save(update_fields=["handed_over_to", "handover_reason", "status", "concluded_at", "updated_at"])
    cancel_open_followups(dispute, _("纠纷已移交处置"))
    audit_record(actor=actor, act="mediation.hand_over", obj=dispute, changed_fields=["status", "handed_over_to"], reason=dispute.handover_reason)
    appeal_note(actor, dispute, _("已移交%(body)s依法处置。") % {"body": dispute.handed_over_to})
    return dispute
