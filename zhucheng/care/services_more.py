"""Writes beyond enrolments: video-link bookings and their usage log, home activities with attendance,
proxy-parent pairings (meetings, periodic review), and homeless cases handed between departments.

Same habits as ``services``: keyword-only acts, one transaction, permission-checked, audited (``care.*``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.places.models import Department, OrgUnit, Role
from zhucheng.places.selectors import scope_for, scoped

from . import access
from .errors import CareError
from .models_more import (
    BookingState,
    CareHome,
    HomeActivity,
    HomeAttendance,
    HomelessAgency,
    HomelessCase,
    HomelessHandOff,
    HomelessOutcome,
    LinkBooking,
    LinkPoint,
    ProxyMeeting,
    ProxyPairing,
    ProxyParent,
    ProxyReview,
)
from .services import age_on, clean_phone, clean_text, has_role_over, is_system, require, today

PAST_GRACE = timedelta(minutes=10)
REVIEW_DAYS = 90  # proxy-parent pairings are reviewed every quarter
STAFF_ROLES = frozenset({Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.SUPERVISOR, Role.LEADER, Role.ADMIN})


def _person_in_scope(actor: Any, person: Any) -> bool:
    from zhucheng.registry.models import Person

    return is_system(actor) or scoped(Person.objects.filter(pk=person.pk), actor).exists()


# --- video-link bookings ---------------------------------------------------------------------


def slot_problem(point: LinkPoint, starts_at: datetime) -> str | None:
    """Why ``starts_at`` is not a bookable slot of the point (closed day, outside hours, not on a slot boundary)."""
    local = timezone.localtime(starts_at)
    if str(local.isoweekday()) not in point.open_days:
        return _("联系点当天不开放。")
    opens = local.replace(hour=point.opens_at.hour, minute=point.opens_at.minute, second=0, microsecond=0)
    minutes = (local - opens).total_seconds() / 60
    end = local + timedelta(minutes=point.slot_minutes)
    if minutes < 0 or end.time() > point.closes_at or end.date() != local.date():
        return _("请在开放时间 %(a)s–%(b)s 内预约。") % {"a": point.opens_at.strftime("%H:%M"), "b": point.closes_at.strftime("%H:%M")}
    if minutes % point.slot_minutes:
        return _("请选择整时段（每 %(n)d 分钟一个时段）。") % {"n": point.slot_minutes}
    return None


def slots_of(point: LinkPoint, day: date) -> list[datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, point.opens_at, tzinfo=tz)
    out = []
    t = start
    while (t + timedelta(minutes=point.slot_minutes)).time() <= point.closes_at and t.date() == day:
        out.append(t)
        t += timedelta(minutes=point.slot_minutes)
    return out if str(day.isoweekday()) in point.open_days else []


@transaction.atomic
def booking_create(
    *,
    actor: Any,
    point: LinkPoint,
    starts_at: datetime,
    person: Any,
    family_name: str,
    family_relation: str,
    family_phone: str,
    family_place: str = "",
) -> LinkBooking:
    """亲情联系预约: staff book a slot for an elderly person or a child; a slot taken is refused (locked check + unique index)."""
    point = LinkPoint.objects.select_for_update().select_related("unit").get(pk=point.pk)
    require(has_role_over(actor, point.unit, STAFF_ROLES), _("该联系点不在您的管辖范围内。"))
    require(_person_in_scope(actor, person), _("该人员不在您的管辖范围内。"))
    if not point.is_active:
        raise CareError(_("该联系点已停用。"), field="point")
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    if starts_at < timezone.now() - PAST_GRACE:
        raise CareError(_("不能预约过去的时间。"), code="past", field="starts_at")
    problem = slot_problem(point, starts_at)
    if problem:
        raise CareError(problem, code="closed", field="starts_at")
    family_name = clean_text(family_name, "family_name", _("亲属姓名"), limit=60)
    family_relation = clean_text(family_relation, "family_relation", _("关系"), limit=30)
    family_phone = clean_phone(family_phone, "family_phone")
    taken = _("该时段（%(t)s）已被预约，请换一个时段。") % {"t": timezone.localtime(starts_at).strftime("%m-%d %H:%M")}
    if LinkBooking.objects.filter(point=point, starts_at=starts_at).exclude(state=BookingState.CANCELLED).exists():
        raise CareError(taken, code="double_booked", field="starts_at")
    try:
        with transaction.atomic():
            booking = LinkBooking.objects.create(
                point=point, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=point.slot_minutes), person=person,
                family_name=family_name, family_relation=family_relation, family_phone=family_phone,
                family_place=(family_place or "").strip()[:100], booked_by=actor,
            )
    except IntegrityError:
        raise CareError(taken, code="double_booked", field="starts_at") from None
    audit_record(actor=actor, act="care.booking", obj=booking, changed_fields=["starts_at", "person", "family_phone"])
    return booking


@transaction.atomic
def booking_cancel(*, actor: Any, booking: LinkBooking, reason: str = "") -> LinkBooking:
    booking = LinkBooking.objects.select_for_update().select_related("point__unit").get(pk=booking.pk)
    require(has_role_over(actor, booking.point.unit, STAFF_ROLES))
    if booking.state != BookingState.BOOKED:
        raise CareError(_("只有未使用的预约可以取消。"), code="invalid_transition")
    booking.state = BookingState.CANCELLED
    booking.save(update_fields=["state", "updated_at"])
    audit_record(actor=actor, act="care.booking_cancel", obj=booking, changed_fields=["state"], reason=reason)
    return booking


@transaction.atomic
def booking_log(*, actor: Any, booking: LinkBooking, used: bool, minutes: int | None = None, note: str = "") -> LinkBooking:
    """使用登记: the call took place (with its length) or nobody came."""
    booking = LinkBooking.objects.select_for_update().select_related("point__unit").get(pk=booking.pk)
    require(has_role_over(actor, booking.point.unit, STAFF_ROLES))
    if booking.state != BookingState.BOOKED:
        raise CareError(_("该预约已登记或已取消。"), code="invalid_transition")
    if booking.starts_at > timezone.now() + PAST_GRACE:
        raise CareError(_("预约时间还没到，不能登记使用情况。"), code="too_early")
    if used:
        if not minutes or not 1 <= int(minutes) <= 240:
            raise CareError(_("请填写通话时长（1–240 分钟）。"), code="required", field="minutes")
        booking.state, booking.used_minutes = BookingState.USED, int(minutes)
    else:
        booking.state, booking.used_minutes = BookingState.NO_SHOW, None
    booking.usage_note = (note or "").strip()[:200]
    booking.save(update_fields=["state", "used_minutes", "usage_note", "updated_at"])
    audit_record(actor=actor, act="care.booking_log", obj=booking, changed_fields=["state", "used_minutes"])
    return booking


# --- homes -----------------------------------------------------------------------------------------


@transaction.atomic
def activity_record(*, actor: Any, home: CareHome, held_on: date, title: str, description: str = "", attendees: Iterable[Any] = ()) -> HomeActivity:
    """活动登记: an activity held at a children's or women's home, with who attended."""
    require(has_role_over(actor, home.unit, STAFF_ROLES), _("该关爱之家不在您的管辖范围内。"))
    if held_on > today():
        raise CareError(_("活动日期不能晚于今天。"), code="invalid", field="held_on")
    people = list(attendees)
    for p in people:
        require(_person_in_scope(actor, p), _("参加人“%(n)s”不在您的管辖范围内。") % {"n": p.name})
    activity = HomeActivity.objects.create(
        home=home, held_on=held_on, title=clean_text(title, "title", _("活动名称"), limit=100),
        description=clean_text(description, "description", _("内容"), required=False), recorded_by=actor,
    )
    HomeAttendance.objects.bulk_create([HomeAttendance(activity=activity, person=p) for p in {p.pk: p for p in people}.values()])
    audit_record(actor=actor, act="care.activity", obj=activity, changed_fields=["attendance"], reason=f"n={len(people)}")
    return activity


# --- proxy parents ------------------------------------------------------------------------------


@transaction.atomic
def pairing_create(*, actor: Any, parent: ProxyParent, child: Any, started_on: date | None = None) -> ProxyPairing:
    """结对: a proxy parent takes on a child (under 18) of the same area; one active pairing per child."""
    on = started_on or today()
    unit = child.unit
    require(has_role_over(actor, unit, access.MANAGE_ROLES), _("该儿童不在您的管辖范围内。"))
    if not parent.is_active:
        raise CareError(_("该代理家长已不在岗。"), field="parent")
    age = age_on(child.birth_date, on)
    if age is None or age >= 18:
        raise CareError(_("结对对象须为未成年人。"), code="not_child", field="child")
    if ProxyPairing.objects.select_for_update().filter(child=child, ended_on__isnull=True).exists():
        raise CareError(_("该儿童已有代理家长。"), code="duplicate", field="child")
    pairing = ProxyPairing.objects.create(parent=parent, child=child, unit=unit, started_on=on, review_due_on=on + timedelta(days=REVIEW_DAYS))
    audit_record(actor=actor, act="care.pairing", obj=pairing, changed_fields=["parent", "child"])
    return pairing


@transaction.atomic
def meeting_log(*, actor: Any, pairing: ProxyPairing, met_on: date, note: str) -> ProxyMeeting:
    require(has_role_over(actor, pairing.unit, STAFF_ROLES))
    if pairing.ended_on is not None:
        raise CareError(_("该结对已解除。"), code="not_active")
    if met_on > today() or met_on < pairing.started_on:
        raise CareError(_("见面日期须在结对之后、今天之前。"), code="invalid", field="met_on")
    meeting = ProxyMeeting.objects.create(pairing=pairing, met_on=met_on, note=clean_text(note, "note", _("情况")))
    audit_record(actor=actor, act="care.pairing_meeting", obj=meeting)
    return meeting


@transaction.atomic
def pairing_review(*, actor: Any, pairing: ProxyPairing, keep: bool, note: str, reviewed_on: date | None = None) -> ProxyReview:
    """定期评议: keep the pairing (next review in a quarter) or end it."""
    pairing = ProxyPairing.objects.select_for_update().select_related("unit").get(pk=pairing.pk)
    require(has_role_over(actor, pairing.unit, access.MANAGE_ROLES))
    if pairing.ended_on is not None:
        raise CareError(_("该结对已解除。"), code="not_active")
    on = reviewed_on or today()
    review = ProxyReview.objects.create(pairing=pairing, reviewed_on=on, keep=keep, note=clean_text(note, "note", _("评议意见")), reviewed_by=actor)
    if keep:
        pairing.review_due_on = on + timedelta(days=REVIEW_DAYS)
    else:
        pairing.ended_on, pairing.end_reason = on, review.note[:200]
    pairing.save(update_fields=["review_due_on", "ended_on", "end_reason", "updated_at"])
    audit_record(actor=actor, act="care.pairing_review", obj=pairing, changed_fields=["review_due_on"] if keep else ["ended_on"])
    return review


# --- homeless assistance ------------------------------------------------------------------------

# What each side reads and writes beyond the shared part (where, when, what was seen, who holds it, outcome).
SIDE_FIELDS: dict[str, tuple[str, ...]] = {
    "civil_affairs": ("name_given", "person", "assistance_notes", "health_notes", "outcome_note", "handoff_notes"),
    "police": ("name_given", "person", "identity_notes"),
    "health": ("name_given", "health_notes"),
    "city_management": (),
}
WRITABLE: dict[str, tuple[str, ...]] = {
    "civil_affairs": ("name_given", "assistance_notes"),
    "police": ("name_given", "identity_notes"),
    "health": ("health_notes",),
    "city_management": (),
}
ALL_FIELDS = tuple(sorted({f for fs in SIDE_FIELDS.values() for f in fs}))


def sides_of(user: Any) -> set[str]:
    """The homeless-assistance sides of the user's departments."""
    scope = scope_for(user)
    if not scope.department_ids:
        return set()
    return set(HomelessAgency.objects.filter(department_id__in=scope.department_ids).values_list("side", flat=True))


def fields_for(user: Any, case: HomelessCase) -> set[str]:
    """Beyond the shared part, the fields this user may see on this case."""
    if user is None or scope_for(user).everything:
        return set(ALL_FIELDS)
    out: set[str] = set()
    for side in sides_of(user):
        out.update(SIDE_FIELDS[side])
    return out


def _next_code(year: int) -> str:
    n = HomelessCase.objects.filter(code__startswith=f"LL{year}-").count() + 1
    while HomelessCase.objects.filter(code=f"LL{year}-{n:05d}").exists():
        n += 1
    return f"LL{year}-{n:05d}"


def _holds(actor: Any, case: HomelessCase) -> bool:
    return is_system(actor) or scope_for(actor).everything or case.holder_id in scope_for(actor).department_ids


@transaction.atomic
def homeless_open(
    *, actor: Any, found_at: datetime, found_place: str, unit: OrgUnit, description: str, holder: Department | None = None,
    sex: str = "", apparent_age: str = "", name_given: str = "",
) -> HomelessCase:
    """发现登记: a department with a side (or staff of the unit) records a person found; the case starts with ``holder``."""
    scope = scope_for(actor)
    mine = list(Department.objects.filter(pk__in=scope.department_ids, care_homeless_side__isnull=False)) if actor is not None else []
    require(is_system(actor) or scope.everything or bool(mine) or has_role_over(actor, unit, STAFF_ROLES), _("您没有登记流浪救助个案的权限。"))
    holder = holder or (mine[0] if mine else None)
    if holder is None or not HomelessAgency.objects.filter(department=holder).exists():
        raise CareError(_("请选择承办部门（民政、公安、城管或卫健）。"), code="required", field="holder")
    if found_at > timezone.now() + PAST_GRACE:
        raise CareError(_("发现时间不能晚于现在。"), code="invalid", field="found_at")
    # Code taken under a lock on the sequence of this year's cases (the row count can race otherwise).
    list(HomelessCase.objects.select_for_update().filter(code__startswith=f"LL{timezone.localtime(found_at).year}-").values_list("pk"))
    case = HomelessCase.objects.create(
        code=_next_code(timezone.localtime(found_at).year), found_at=found_at, unit=unit,
        found_place=clean_text(found_place, "found_place", _("发现地点"), limit=200),
        description=clean_text(description, "description", _("现场情况")), sex=sex[:1], apparent_age=apparent_age[:20],
        name_given=name_given.strip()[:60], holder=holder, created_by=actor,
    )
    HomelessHandOff.objects.create(case=case, from_department=None, to_department=holder, note=str(_("发现登记")), by=actor)
    audit_record(actor=actor, act="care.homeless_open", obj=case, changed_fields=["found_at", "holder"])
    return case


@transaction.atomic
def homeless_update(*, actor: Any, case: HomelessCase, changes: Mapping[str, Any]) -> HomelessCase:
    """Each side writes its own part (police: identity; health: health; civil affairs: assistance), while holding the case."""
    case = HomelessCase.objects.select_for_update().get(pk=case.pk)
    require(_holds(actor, case), _("只有当前承办部门可以补充该个案。"))
    if case.outcome:
        raise CareError(_("该个案已办结。"), code="closed")
    allowed = set(ALL_FIELDS) if is_system(actor) or scope_for(actor).everything else {f for s in sides_of(actor) for f in WRITABLE[s]}
    changed = []
    for name, value in changes.items():
        if name not in allowed or name == "person":
            raise CareError(_("您所在部门不能填写该项。"), code="forbidden", field=name)
        setattr(case, name, (value or "").strip()[:4000 if name.endswith("notes") else 60])
        changed.append(name)
    case.save()
    audit_record(actor=actor, act="care.homeless_update", obj=case, changed_fields=changed)
    return case


@transaction.atomic
def homeless_hand_off(*, actor: Any, case: HomelessCase, to_department: Department, note: str) -> HomelessCase:
    """移交: the holder passes the case to another side, saying what was done and why."""
    case = HomelessCase.objects.select_for_update().get(pk=case.pk)
    require(_holds(actor, case), _("只有当前承办部门可以移交该个案。"))
    if case.outcome:
        raise CareError(_("该个案已办结。"), code="closed")
    if to_department.pk == case.holder_id:
        raise CareError(_("不能移交给本部门。"), code="invalid", field="to_department")
    if not HomelessAgency.objects.filter(department=to_department).exists():
        raise CareError(_("接收部门须为民政、公安、城管或卫健之一。"), code="invalid", field="to_department")
    HomelessHandOff.objects.create(case=case, from_department_id=case.holder_id, to_department=to_department, note=clean_text(note, "note", _("移交说明")), by=actor)
    case.holder = to_department
    case.save(update_fields=["holder", "updated_at"])
    audit_record(actor=actor, act="care.homeless_hand_off", obj=case, changed_fields=["holder"])
    return case


@transaction.atomic
def homeless_close(*, actor: Any, case: HomelessCase, outcome: str, note: str, on: date | None = None) -> HomelessCase:
    """办结: returned home, placed in care, or medical treatment."""
    case = HomelessCase.objects.select_for_update().get(pk=case.pk)
    require(_holds(actor, case), _("只有当前承办部门可以办结该个案。"))
    if case.outcome:
        raise CareError(_("该个案已办结。"), code="closed")
    if outcome not in HomelessOutcome.values:
        raise CareError(_("请选择办结结果。"), code="required", field="outcome")
    case.outcome, case.outcome_on, case.outcome_note = outcome, on or today(), clean_text(note, "note", _("办结说明"))
    case.save(update_fields=["outcome", "outcome_on", "outcome_note", "updated_at"])
    audit_record(actor=actor, act="care.homeless_close", obj=case, changed_fields=["outcome"])
    return case
