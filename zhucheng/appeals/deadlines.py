"""Statutory deadlines (办理时限) of appeals: due dates on the working-day calendar, the paused clock, the sweep.

Day-based periods end at the end of their last day (23:59:59.999999 Asia/Shanghai, stored in UTC).
Working days are counted after the start day; a calendar-day period whose last day is a rest day
ends on the next working day (期间届满的最后一日是法定休假日的，以法定休假日后的第一日为期间届满的日期).
Hour-based periods are plain wall time. ``sweep`` reminds handlers of appeals due soon and
escalates overdue ones to the supervisors (督办); it is idempotent and runs every 15 minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.caches import clear_on_change
from zhucheng.core.calendar import add_calendar_days, add_working_days, working_days_between
from zhucheng.core.notify import notify
from zhucheng.places.models import PATH_SEP, Membership, Role

from .errors import AppealError
from .models import (
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    DayCount,
    DeadlinePolicy,
    Pause,
    Review,
    Status,
    Supervision,
    SupervisionKind,
)

__all__ = [
    "SweepReport",
    "current_due",
    "due_after",
    "extended_due",
    "is_due_soon",
    "is_overdue",
    "objection_due",
    "pause",
    "policy_for",
    "refresh_due_at",
    "register_due",
    "reply_due",
    "resume",
    "review_due",
    "review_request_until",
    "sweep",
]

logger = logging.getLogger("zhucheng.appeals.deadlines")

SWEEP_BATCH = 500
# A supervision raised by the sweep gives the handler this many working days.
ESCALATION_WORKING_DAYS = 3


# --- policies ---------------------------------------------------------------------------------


def _pick_policy(policies: Iterable[DeadlinePolicy], kind: str, urgency: str) -> DeadlinePolicy | None:
    by_key = {(p.kind, p.urgency): p for p in policies}
    return by_key.get((kind, urgency)) or by_key.get((kind, ""))


# The active policies, read once per ``POLICY_TTL`` seconds per process (every intake and every
# page of deadlines asks for one); a policy saved or deleted here clears them at once, and other
# processes see the change within the TTL. Bulk ``update()`` calls must call ``clear_cache()``.
POLICY_TTL = 60.0
_policies: tuple[float, list[DeadlinePolicy]] | None = None


def clear_cache(**_: Any) -> None:
    """Forget the cached policies (signal receiver; tests call it after rolling data back)."""
    global _policies
    _policies = None


clear_on_change(clear_cache, DeadlinePolicy, uid="appeals.deadlines")


def active_policies() -> list[DeadlinePolicy]:
    global _policies
    now = monotonic()
    held = _policies
    if held is not None and held[0] > now:
        return held[1]
    policies = list(DeadlinePolicy.objects.filter(is_active=True))
    _policies = (now + POLICY_TTL, policies)
    return policies


def policy_for(appeal: Appeal) -> DeadlinePolicy:
    """The active policy for the appeal's kind and urgency, else the kind's policy for any urgency."""
    candidates = [p for p in active_policies() if p.kind == appeal.kind and p.urgency in (appeal.urgency, "")]
    policy = _pick_policy(candidates, appeal.kind, appeal.urgency)
    if policy is None:
        raise AppealError(
            _("没有适用于“%(kind)s”的办理时限，请管理员在“办理时限”中设置。") % {"kind": appeal.get_kind_display()},
            code="no_policy",
        )
    return policy


# --- due-date arithmetic --------------------------------------------------------------------------


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _local(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, _tz())
    return moment.astimezone(_tz())


def _end_of_day(day: date) -> datetime:
    """The last instant of a local day, as an aware UTC datetime."""
    return datetime.combine(day, time.max, tzinfo=_tz()).astimezone(UTC)


def due_after(start: datetime, amount: int, unit: str) -> datetime:
    """When a period of ``amount`` ``unit`` (a ``DayCount`` value) that starts at ``start`` runs out."""
    if unit == DayCount.HOURS:
        return _local(start).astimezone(UTC) + timedelta(hours=amount)
    day = _local(start).date()
    if unit == DayCount.WORKING:
        result = add_working_days(day, amount)
    elif unit == DayCount.CALENDAR:
        result = add_calendar_days(day, amount)
    else:
        raise ValueError(f"unknown day count {unit!r}")
    if result.provisional:
        logger.info("deadline %s rests on an unpublished holiday arrangement", result.date)
    return _end_of_day(result.date)


def register_due(appeal: Appeal, start: datetime) -> datetime:
    """受理期限: decide whether to register (petitions: 15 days)."""
    policy = policy_for(appeal)
    return due_after(start, policy.register_amount, policy.register_unit)


def reply_due(appeal: Appeal, start: datetime) -> datetime:
    """答复期限: handle and reply (petitions: 60 days; hotline: 24 h urgent, 5 working days ordinary)."""
    policy = policy_for(appeal)
    return due_after(start, policy.reply_amount, policy.reply_unit)


def objection_due(appeal: Appeal, start: datetime) -> datetime:
    """退单期限: a department may object to an assignment within a few working days."""
    return due_after(start, policy_for(appeal).objection_working_days, DayCount.WORKING)


def review_due(appeal: Appeal, start: datetime) -> datetime:
    """复查/复核 decision deadline (30 days for petitions)."""
    return due_after(start, policy_for(appeal).review_decide_days, DayCount.CALENDAR)


def review_request_until(appeal: Appeal) -> datetime | None:
    """Until when the petitioner may ask for a review: the reply time plus the policy's days."""
    if appeal.replied_at is None:
        return None
    return due_after(appeal.replied_at, policy_for(appeal).review_request_days, DayCount.CALENDAR)


def extended_due(appeal: Appeal, days: int) -> datetime:
    """The reply deadline after an approved extension of ``days`` (in the policy's extension unit)."""
    policy = policy_for(appeal)
    if days < 1:
        raise AppealError(_("延期天数至少为 1。"), code="invalid", field="days")
    if days > policy.extension_max:
        raise AppealError(
            _("延期不得超过 %(n)s（%(unit)s）。") % {"n": policy.extension_max, "unit": policy.get_extension_unit_display()},
            code="extension_too_long",
            field="days",
        )
    # An extension lengthens the current period; only a case with no period yet counts from now.
    base = appeal.reply_due or timezone.now()
    return due_after(base, days, policy.extension_unit)


# --- the current due date ----------------------------------------------------------------------------


def _open_review(appeal: Appeal) -> Review | None:
    if appeal.pk is None:
        return None
    return appeal.reviews.filter(decided_at__isnull=True).order_by("-level").first()


def current_due(appeal: Appeal) -> datetime | None:
    """The deadline the appeal is working against in its present status (None when nothing is due)."""
    if appeal.status == Status.SUBMITTED:
        return appeal.register_due
    if appeal.status in (Status.REGISTERED, Status.ASSIGNED, Status.IN_PROGRESS):
        return appeal.reply_due
    if appeal.status == Status.UNDER_REVIEW:
        review = _open_review(appeal)
        return review.due_at if review is not None else None
    return None


def refresh_due_at(appeal: Appeal) -> None:
    """Set ``appeal.due_at`` from the status and the stored due dates (the caller saves)."""
    appeal.due_at = current_due(appeal)


def _deadline_passed(appeal: Appeal, now: datetime) -> bool:
    return appeal.due_at is not None and appeal.due_at < now


def is_overdue(appeal: Appeal, now: datetime) -> bool:
    """Open, not paused and past its current deadline."""
    return appeal.status in OPEN_STATUSES and not appeal.is_paused and _deadline_passed(appeal, now)


def is_due_soon(appeal: Appeal, now: datetime, *, policy: DeadlinePolicy | None = None) -> bool:
    """Open, not paused, not yet overdue, and due within the policy's reminder window."""
    if appeal.status not in OPEN_STATUSES or appeal.is_paused or appeal.due_at is None or appeal.due_at < now:
        return False
    policy = policy or policy_for(appeal)
    return appeal.due_at < now + timedelta(hours=policy.due_soon_hours)


# --- the paused clock -------------------------------------------------------------------------------


def pause(appeal: Appeal, *, reason: str, note: str = "", now: datetime) -> Pause:
    """Stop the clock (waiting on the petitioner's materials or a hearing); due dates stay frozen until ``resume``."""
    if appeal.is_paused:
        raise AppealError(_("该诉求已暂停计时。"), code="invalid_transition")
    if reason not in Pause.Reason.values:
        raise AppealError(_("请选择暂停原因。"), code="required", field="reason")
    note = (note or "").strip()
    # Stored in the source language, like the rest of the record, whoever's language the actor uses.
    with translation.override(settings.LANGUAGE_CODE):
        label = str(Pause.Reason(reason).label)
    row = Pause.objects.create(appeal=appeal, reason=reason, note=note[:200], started_at=now)
    appeal.paused_at = now
    appeal.pause_reason = (f"{label}：{note}" if note else label)[:200]
    refresh_due_at(appeal)
    return row


def _shift(due: datetime | None, unit: str, started: datetime, ended: datetime) -> datetime | None:
    """Move a frozen due date by the time the clock stood still, counted the way the period is."""
    if due is None:
        return None
    if unit == DayCount.WORKING:
        lost = working_days_between(_local(started).date(), _local(ended).date())
        if lost <= 0:
            return due
        local_due = _local(due)
        moved = add_working_days(local_due.date(), lost).date
        return datetime.combine(moved, local_due.timetz()).astimezone(UTC)
    return due + max(ended - started, timedelta(0))


def resume(appeal: Appeal, *, now: datetime) -> None:
    """Restart the clock: the stored due dates move by the paused time; the pause row is closed.

    Hour and calendar-day periods move by the elapsed wall time; working-day periods by the
    working days that passed while paused, so a pause over a holiday costs nothing. The open
    review's deadline moves too (and is saved here); the appeal itself is saved by the caller.
    """
    if not appeal.is_paused or appeal.paused_at is None:
        raise AppealError(_("该诉求未暂停计时。"), code="invalid_transition")
    started = appeal.paused_at
    policy = policy_for(appeal)
    appeal.register_due = _shift(appeal.register_due, policy.register_unit, started, now)
    appeal.reply_due = _shift(appeal.reply_due, policy.reply_unit, started, now)
    review = _open_review(appeal)
    if review is not None:
        review.due_at = _shift(review.due_at, DayCount.CALENDAR, started, now) or review.due_at
        review.save(update_fields=["due_at"])
    appeal.pauses.filter(ended_at__isnull=True).update(ended_at=now)
    appeal.paused_at = None
    appeal.pause_reason = ""
    refresh_due_at(appeal)


# --- the sweep ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    reminded: int
    escalated: int


def _prefixes(path: str) -> list[str]:
    """``/a/b/c/`` → ``/a/``, ``/a/b/``, ``/a/b/c/``: the paths of a unit and its ancestors."""
    return [path[: i + 1] for i, ch in enumerate(path) if ch == PATH_SEP and i > 0]


class _Recipients:
    """Who is told about an appeal; memberships are read once per sweep, not once per appeal."""

    UNIT_ROLES = (Role.COMMUNITY_STAFF, Role.SUPERVISOR, Role.ADMIN)

    def __init__(self) -> None:
        self._by_department: dict[int, list[Any]] = {}
        self._by_unit: dict[tuple[str, str], list[Any]] | None = None

    def _unit_posts(self) -> dict[tuple[str, str], list[Any]]:
        if self._by_unit is None:
            self._by_unit = {}
            rows = Membership.objects.active().filter(role__in=self.UNIT_ROLES, unit__isnull=False).select_related("user", "unit")
            for m in rows:
                assert m.unit is not None
                self._by_unit.setdefault((m.role, m.unit.path), []).append(m.user)
        return self._by_unit

    def _covering(self, role: str, path: str) -> list[Any]:
        posts = self._unit_posts()
        return [u for prefix in _prefixes(path) for u in posts.get((role, prefix), [])]

    def handlers(self, appeal: Appeal) -> list[Any]:
        """The lead department's handlers; without a department, the community staff over the appeal's unit."""
        if appeal.department_id is not None:
            if appeal.department_id not in self._by_department:
                rows = Membership.objects.active().filter(role=Role.DEPARTMENT_HANDLER, department_id=appeal.department_id)
                self._by_department[appeal.department_id] = [m.user for m in rows.select_related("user")]
            return _reachable(self._by_department[appeal.department_id])
        return _reachable(self._covering(Role.COMMUNITY_STAFF, appeal.unit.path))

    def supervisors(self, appeal: Appeal) -> list[Any]:
        """Supervisors over the appeal's unit; where there are none, the administrators over it."""
        return _reachable(self._covering(Role.SUPERVISOR, appeal.unit.path) or self._covering(Role.ADMIN, appeal.unit.path))


def _reachable(users: Iterable[Any]) -> list[Any]:
    """Active users with a phone, each once."""
    seen: set[int] = set()
    out = []
    for user in users:
        if user.pk in seen or not user.is_active or not user.phone:
            continue
        seen.add(user.pk)
        out.append(user)
    return out


def _fmt(moment: datetime) -> str:
    return _local(moment).strftime("%Y-%m-%d %H:%M")


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _candidates(now: datetime, soon_hours: int) -> QuerySet[Appeal]:
    """Open, running appeals that are overdue and not escalated, or due soon and not reminded."""
    return Appeal.objects.filter(status__in=OPEN_STATUSES, paused_at__isnull=True, due_at__isnull=False).filter(
        Q(escalated_at__isnull=True, due_at__lt=now)
        | Q(reminded_at__isnull=True, due_at__gte=now, due_at__lt=now + timedelta(hours=soon_hours))
    )


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _locked(qs: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """Lock the batch; rows another sweep holds are skipped rather than handled twice."""
    features = connection.features
    if not features.has_select_for_update:
        return qs
    kwargs: dict[str, Any] = {}
    if features.has_select_for_update_skip_locked:
        kwargs["skip_locked"] = True
    if features.has_select_for_update_of:
        kwargs["of"] = ("self",)
    return qs.select_for_update(**kwargs)


def _escalate(appeal: Appeal, now: datetime, recipients: _Recipients) -> tuple[Supervision, AppealEvent]:
    """The supervision and timeline step (saved by the caller, in bulk), the audit event and the messages."""
    due = appeal.due_at
    assert due is not None
    until = due_after(now, ESCALATION_WORKING_DAYS, DayCount.WORKING)
    instructions = _("系统自动督办：该诉求已超过办理期限（%(due)s）仍未办结，请承办单位于 %(until)s 前办结并报告。") % {
        "due": _fmt(due),
        "until": _fmt(until),
    }
    supervision = Supervision(
        appeal=appeal,
        kind=SupervisionKind.SUPERVISION,
        by=None,
        instructions=instructions,
        created_at=now,
        due_at=until,
        is_escalation=True,
    )
    event = AppealEvent(
        appeal=appeal,
        act="escalate",
        actor=None,
        actor_label=_("系统"),
        department_id=appeal.department_id,
        from_status=appeal.status,
        to_status=appeal.status,
        note=instructions,
        is_public=False,
        at=now,
    )
    audit_record(actor=None, act="appeals.escalate", obj=appeal, changed_fields=["escalated_at"], reason=_fmt(due))
    text = _("【筑城】诉求 %(code)s（%(title)s）已超过办理期限 %(due)s，已自动升级督办，请督促办理。") % {
        "code": appeal.code,
        "title": _short(appeal.title),
        "due": _fmt(due),
    }
    for user in recipients.supervisors(appeal):
        notify(channel="sms", address=user.phone, text=text)
    return supervision, event


def _remind(appeal: Appeal, recipients: _Recipients) -> None:
    assert appeal.due_at is not None
    text = _("【筑城】诉求 %(code)s（%(title)s）将于 %(due)s 到期，请及时办理。") % {
        "code": appeal.code,
        "title": _short(appeal.title),
        "due": _fmt(appeal.due_at),
    }
    for user in recipients.handlers(appeal):
        notify(channel="sms", address=user.phone, text=text)


def sweep(*, now: datetime | None = None) -> SweepReport:
    """Remind the handlers of appeals due soon and escalate overdue ones; a second run does nothing.

    Works in batches, each in its own transaction with its rows locked, so a city's backlog
    neither holds one long transaction nor is handled twice by overlapping runs. Messages are
    queued on commit of their batch. Texts go out (and are stored) in the site's language.
    """
    now = now or timezone.now()
    policies = list(DeadlinePolicy.objects.filter(is_active=True))
    soon_hours = max((p.due_soon_hours for p in policies), default=0)
    recipients = _Recipients()
    reminded = escalated = 0
    ids = list(_candidates(now, soon_hours).order_by("pk").values_list("pk", flat=True))
    with translation.override(settings.LANGUAGE_CODE):
        for chunk in _chunks(ids, SWEEP_BATCH):
            with transaction.atomic():
                batch = list(_locked(_candidates(now, soon_hours).filter(pk__in=chunk).select_related("unit").order_by("pk")))
                to_remind: list[int] = []
                to_escalate: list[int] = []
                supervisions: list[Supervision] = []
                events: list[AppealEvent] = []
                for appeal in batch:
                    if appeal.escalated_at is None and is_overdue(appeal, now):
                        supervision, event = _escalate(appeal, now, recipients)
                        supervisions.append(supervision)
                        events.append(event)
                        to_escalate.append(appeal.pk)
                        continue
                    policy = _pick_policy(policies, appeal.kind, appeal.urgency)
                    if policy is None:
                        logger.warning("appeal %s has no deadline policy; no reminder sent", appeal.code)
                        continue
                    if appeal.reminded_at is None and is_due_soon(appeal, now, policy=policy):
                        _remind(appeal, recipients)
                        to_remind.append(appeal.pk)
                # Bookkeeping, not an edit: the version stays, so staff with the page open are not refused.
                if to_remind:
                    Appeal.objects.filter(pk__in=to_remind).update(reminded_at=now)
                if to_escalate:
                    Supervision.objects.bulk_create(supervisions)
                    AppealEvent.objects.bulk_create(events)
                    Appeal.objects.filter(pk__in=to_escalate).update(escalated_at=now)
                reminded += len(to_remind)
                escalated += len(to_escalate)
    if reminded or escalated:
        logger.info("deadline sweep at %s: %s reminded, %s escalated", now.isoformat(), reminded, escalated)
    return SweepReport(reminded=reminded, escalated=escalated)
