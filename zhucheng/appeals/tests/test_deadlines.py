"""Deadlines: statutory periods on the working-day calendar (National Day 2025/2026), pause, extension, the sweep."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from zhucheng.appeals import deadlines
from zhucheng.appeals.deadlines import SweepReport
from zhucheng.appeals.errors import AppealError
from zhucheng.appeals.models import (
    Appeal,
    AppealEvent,
    DeadlinePolicy,
    Pause,
    Review,
    Status,
    Supervision,
)
from zhucheng.core import notify as notify_module
from zhucheng.core.calendar import is_working_day
from zhucheng.core.models import AuditEvent
from zhucheng.places.models import Membership, Role
from zhucheng.places.services import membership_grant, unit_create

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
_codes = itertools.count(1)


def at(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SH)


def eod(y: int, m: int, d: int) -> datetime:
    """The end of a day in Beijing time: where day-based periods end."""
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=SH)


def make(city: Any, **kw: Any) -> Appeal:
    fields: dict[str, Any] = {
        "code": f"GY2026-T{next(_codes):06d}",
        "channel": "hotline",
        "title": "路灯不亮",
        "description": "中华北路123号门口路灯坏了一个月。",
        "unit": city.grid_a,
        "submitted_at": at(2026, 9, 30),
    }
    fields.update(kw)
    return Appeal.objects.create(**fields)


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def outbox(settings: Any, monkeypatch: Any) -> Iterator[list[notify_module.Message]]:
    """Messages sent through ``core.notify``: the SMS channel is swapped for the memory channel."""
    settings.ZHUCHENG_NOTIFY_CHANNELS = ["sms", "memory"]
    monkeypatch.setitem(notify_module.CHANNELS, "sms", notify_module.MemoryChannel)
    notify_module.MemoryChannel.sent.clear()
    yield notify_module.MemoryChannel.sent
    notify_module.MemoryChannel.sent.clear()


# --- the calendar the tests rely on --------------------------------------------------------------


def test_the_project_calendar_has_national_day_2025_and_2026(db: Any) -> None:
    # 2026: 1–7 October off, Saturday 10 October worked. 2025: 1–8 October off, Saturday 11 October worked.
    assert [is_working_day(at(2026, 10, d).date()) for d in range(1, 13)] == [False] * 7 + [True, True, True, False, True]
    assert [is_working_day(at(2025, 10, d).date()) for d in range(1, 15)] == [False] * 8 + [True, True, True, False, True, True]


# --- policies ------------------------------------------------------------------------------------


def test_policy_for_matches_kind_and_urgency_then_falls_back(city: Any) -> None:
    urgent = make(city, kind="appeal", urgency="urgent")
    normal = make(city, kind="appeal", urgency="normal")
    petition_urgent = make(city, kind="petition", urgency="urgent", channel="letter")
    assert (deadlines.policy_for(urgent).reply_amount, deadlines.policy_for(urgent).reply_unit) == (24, "hours")
    assert (deadlines.policy_for(normal).reply_amount, deadlines.policy_for(normal).reply_unit) == (5, "working")
    petition_policy = deadlines.policy_for(petition_urgent)
    assert (petition_policy.urgency, petition_policy.register_amount, petition_policy.reply_amount) == ("", 15, 60)
    assert (petition_policy.extension_max, petition_policy.review_request_days, petition_policy.review_decide_days) == (
        30,
        30,
        30,
    )

    # An inactive policy does not apply: the kind's general policy does.
    DeadlinePolicy.objects.filter(kind="appeal", urgency="urgent").update(is_active=False)
    deadlines.clear_cache()  # a bulk update sends no signal: the policy cache is told by hand
    assert deadlines.policy_for(urgent).reply_unit == "working"

    DeadlinePolicy.objects.filter(kind="petition").delete()
    with pytest.raises(AppealError) as err:
        deadlines.policy_for(petition_urgent)
    assert err.value.code == "no_policy"


# --- arithmetic ----------------------------------------------------------------------------------


def test_due_after_units_end_of_day_and_utc() -> None:
    start = at(2026, 3, 2, 14, 30)  # a Monday
    assert deadlines.due_after(start, 24, "hours") == at(2026, 3, 3, 14, 30)
    assert deadlines.due_after(start, 3, "working") == eod(2026, 3, 5)  # the start day does not count
    assert deadlines.due_after(start, 15, "calendar") == eod(2026, 3, 17)
    due = deadlines.due_after(start, 1, "working")
    assert due.utcoffset() == timedelta(0)
    assert (due.hour, due.minute, due.microsecond) == (15, 59, 999999)  # 23:59:59.999999 in Beijing
    with pytest.raises(ValueError):
        deadlines.due_after(start, 1, "fortnights")


def test_five_working_days_across_national_day_2026(city: Any) -> None:
    appeal = make(city, kind="appeal", urgency="normal")
    # Registered on the eve of Golden Week: 8, 9, 10 (worked Saturday), 12, 13 October.
    assert deadlines.reply_due(appeal, at(2026, 9, 30, 17, 45)) == eod(2026, 10, 13)
    # Started during the holiday: the same five working days.
    assert deadlines.reply_due(appeal, at(2026, 10, 3, 11)) == eod(2026, 10, 13)
    # One working day to register, from the eve of the holiday: the first day back.
    assert deadlines.register_due(appeal, at(2026, 9, 30, 23, 30)) == eod(2026, 10, 8)
    # Round trip through the database keeps the last microsecond of the day.
    appeal.reply_due = deadlines.reply_due(appeal, at(2026, 9, 30))
    appeal.save(update_fields=["reply_due"])
    appeal.refresh_from_db()
    assert appeal.reply_due == eod(2026, 10, 13)


def test_five_working_days_across_national_day_2025(city: Any) -> None:
    appeal = make(city, kind="appeal", urgency="normal", submitted_at=at(2025, 9, 30))
    # 2025: off 1–8 October; 9, 10, 11 (worked Saturday), 13, 14 October.
    assert deadlines.reply_due(appeal, at(2025, 9, 30, 10)) == eod(2025, 10, 14)
    # Sunday 28 September 2025 was a working day (调休): from Saturday the 27th, one working day is the 28th.
    assert deadlines.due_after(at(2025, 9, 27), 1, "working") == eod(2025, 9, 28)


def test_petition_periods_ending_in_a_holiday_roll_to_the_next_working_day(city: Any) -> None:
    petition = make(city, kind="petition", channel="letter")
    # 15 days to decide: 18 Sept + 15 = 3 Oct (holiday) → 8 Oct 2026.
    assert deadlines.register_due(petition, at(2026, 9, 18, 16)) == eod(2026, 10, 8)
    # 2025: 20 Sept + 15 = 5 Oct (holiday) → 9 Oct.
    assert deadlines.register_due(petition, at(2025, 9, 20)) == eod(2025, 10, 9)
    # 60 days to reply: 2 Aug + 60 = 1 Oct (holiday) → 8 Oct 2026.
    assert deadlines.reply_due(petition, at(2026, 8, 2)) == eod(2026, 10, 8)
    # Ending on a worked Saturday (10 Oct 2026) stays there; ending on an ordinary Saturday rolls to Monday.
    assert deadlines.register_due(petition, at(2026, 9, 25)) == eod(2026, 10, 10)
    assert deadlines.register_due(petition, at(2026, 3, 6)) == eod(2026, 3, 23)
    # A period ending on an ordinary working day is not moved: 2 Mar + 15 = Tuesday 17 Mar.
    assert deadlines.register_due(petition, at(2026, 3, 2)) == eod(2026, 3, 17)


def test_urgent_appeals_have_24_hours_even_on_a_holiday(city: Any) -> None:
    urgent = make(city, kind="appeal", urgency="urgent")
    start = at(2026, 10, 1, 9, 15)
    assert deadlines.reply_due(urgent, start) == at(2026, 10, 2, 9, 15)
    assert deadlines.register_due(urgent, start) == at(2026, 10, 1, 11, 15)


def test_objection_review_and_review_request_deadlines(city: Any) -> None:
    petition = make(city, kind="petition", channel="letter")
    # 5 working days to object, from 29 Sept 2026: 30 Sept, 8, 9, 10, 12 Oct.
    assert deadlines.objection_due(petition, at(2026, 9, 29)) == eod(2026, 10, 12)
    # Review decided within 30 days: 5 Sept + 30 = 5 Oct (holiday) → 8 Oct.
    assert deadlines.review_due(petition, at(2026, 9, 5)) == eod(2026, 10, 8)
    assert deadlines.review_request_until(petition) is None
    petition.replied_at = at(2026, 9, 1, 15)  # + 30 = 1 Oct → 8 Oct
    assert deadlines.review_request_until(petition) == eod(2026, 10, 8)


# --- the current due date ------------------------------------------------------------------------


def test_current_due_follows_the_status(city: Any) -> None:
    appeal = make(city, register_due=eod(2026, 10, 8), reply_due=eod(2026, 10, 13))
    expected = {
        Status.SUBMITTED: eod(2026, 10, 8),
        Status.REGISTERED: eod(2026, 10, 13),
        Status.ASSIGNED: eod(2026, 10, 13),
        Status.IN_PROGRESS: eod(2026, 10, 13),
        Status.REPLIED: None,
        Status.FEEDBACK: None,
        Status.CLOSED: None,
        Status.DECLINED: None,
        Status.MERGED: None,
        Status.UNDER_REVIEW: None,  # no open review yet
    }
    for status, due in expected.items():
        appeal.status = status
        deadlines.refresh_due_at(appeal)
        assert appeal.due_at == due, status
    Review.objects.create(appeal=appeal, level=1, reason="不服", requested_at=at(2026, 11, 2), due_at=eod(2026, 12, 2))
    appeal.status = Status.UNDER_REVIEW
    assert deadlines.current_due(appeal) == eod(2026, 12, 2)
    # Decided reviews no longer count; an open re-review does.
    Review.objects.filter(appeal=appeal).update(decided_at=at(2026, 11, 20))
    assert deadlines.current_due(appeal) is None
    Review.objects.create(appeal=appeal, level=2, reason="仍不服", requested_at=at(2026, 11, 25), due_at=eod(2026, 12, 25))
    assert deadlines.current_due(appeal) == eod(2026, 12, 25)


def test_current_due_of_an_unsaved_appeal_needs_no_query(city: Any, django_assert_num_queries: Any) -> None:
    appeal = Appeal(status=Status.SUBMITTED, register_due=eod(2026, 10, 8))
    with django_assert_num_queries(0):
        deadlines.refresh_due_at(appeal)
    assert appeal.due_at == eod(2026, 10, 8)


def test_overdue_and_due_soon(city: Any) -> None:
    now = at(2026, 10, 9, 9)
    soon = make(city, status=Status.IN_PROGRESS, due_at=now + timedelta(hours=23))  # normal appeal: 24 h window
    later = make(city, status=Status.IN_PROGRESS, due_at=now + timedelta(hours=25))
    late = make(city, status=Status.IN_PROGRESS, due_at=now - timedelta(minutes=1))
    closed = make(city, status=Status.CLOSED, due_at=now - timedelta(days=3))
    assert deadlines.is_due_soon(soon, now) and not deadlines.is_overdue(soon, now)
    assert not deadlines.is_due_soon(later, now) and not deadlines.is_overdue(later, now)
    assert deadlines.is_overdue(late, now) and not deadlines.is_due_soon(late, now)
    assert not deadlines.is_overdue(closed, now)
    # A petition's window is 72 hours.
    petition = make(city, kind="petition", channel="letter", status=Status.IN_PROGRESS, due_at=now + timedelta(hours=60))
    assert deadlines.is_due_soon(petition, now)
    # Paused: neither overdue nor due soon.
    for appeal in (soon, late):
        appeal.paused_at = now - timedelta(days=1)
        assert not deadlines.is_overdue(appeal, now) and not deadlines.is_due_soon(appeal, now)


# --- pause and resume ----------------------------------------------------------------------------


def test_pause_over_the_holiday_costs_a_working_day_policy_nothing(city: Any) -> None:
    # Registered Monday 28 Sept 2026: 29, 30 Sept, 8, 9, 10 Oct.
    appeal = make(city, status=Status.IN_PROGRESS, submitted_at=at(2026, 9, 28))
    appeal.register_due = deadlines.register_due(appeal, at(2026, 9, 28))
    appeal.reply_due = deadlines.reply_due(appeal, at(2026, 9, 28))
    deadlines.refresh_due_at(appeal)
    assert appeal.reply_due == eod(2026, 10, 10)
    row = deadlines.pause(appeal, reason="materials", note="请补充照片", now=at(2026, 10, 1, 10))
    assert appeal.paused_at == at(2026, 10, 1, 10) and "补充材料" in appeal.pause_reason and "请补充照片" in appeal.pause_reason
    assert (row.reason, row.note, row.started_at, row.ended_at) == ("materials", "请补充照片", at(2026, 10, 1, 10), None)
    assert appeal.due_at == eod(2026, 10, 10)  # frozen, still shown
    deadlines.resume(appeal, now=at(2026, 10, 7, 16))
    assert appeal.reply_due == eod(2026, 10, 10) and appeal.due_at == eod(2026, 10, 10)
    assert appeal.register_due == eod(2026, 9, 29)
    assert appeal.paused_at is None and appeal.pause_reason == ""
    row.refresh_from_db()
    assert row.ended_at == at(2026, 10, 7, 16)


def test_the_same_pause_moves_a_calendar_day_policy_by_the_wall_time(city: Any) -> None:
    petition = make(city, kind="petition", channel="letter", status=Status.IN_PROGRESS, submitted_at=at(2026, 9, 28))
    petition.reply_due = deadlines.reply_due(petition, at(2026, 9, 28))
    deadlines.refresh_due_at(petition)
    before = petition.reply_due
    assert before == eod(2026, 11, 27)
    deadlines.pause(petition, reason="hearing", now=at(2026, 10, 1, 10))
    deadlines.resume(petition, now=at(2026, 10, 7, 16))
    assert petition.reply_due == before + timedelta(days=6, hours=6)
    assert petition.due_at == petition.reply_due


def test_pause_on_working_days_moves_by_the_working_days_lost(city: Any) -> None:
    appeal = make(city, status=Status.IN_PROGRESS, reply_due=eod(2026, 10, 16), due_at=eod(2026, 10, 16))
    deadlines.pause(appeal, reason="materials", now=at(2026, 10, 12, 9))  # Monday
    deadlines.resume(appeal, now=at(2026, 10, 14, 9))  # Wednesday: the 13th and 14th lost
    assert appeal.reply_due == eod(2026, 10, 20)
    # A pause within one day loses no working day.
    deadlines.pause(appeal, reason="materials", now=at(2026, 10, 15, 9))
    deadlines.resume(appeal, now=at(2026, 10, 15, 17))
    assert appeal.reply_due == eod(2026, 10, 20)
    assert Pause.objects.filter(appeal=appeal, ended_at__isnull=False).count() == 2


def test_pause_of_an_urgent_appeal_moves_by_hours(city: Any) -> None:
    urgent = make(city, urgency="urgent", status=Status.ASSIGNED, reply_due=at(2026, 10, 2, 9, 15))
    deadlines.pause(urgent, reason="materials", now=at(2026, 10, 1, 20))
    deadlines.resume(urgent, now=at(2026, 10, 1, 23, 30))
    assert urgent.reply_due == at(2026, 10, 2, 12, 45)


def test_resume_moves_the_open_review_deadline(city: Any) -> None:
    petition = make(city, kind="petition", channel="letter", status=Status.UNDER_REVIEW, reply_due=eod(2026, 8, 1))
    review = Review.objects.create(appeal=petition, level=1, reason="不服", requested_at=at(2026, 9, 1), due_at=eod(2026, 10, 8))
    deadlines.refresh_due_at(petition)
    assert petition.due_at == eod(2026, 10, 8)
    deadlines.pause(petition, reason="hearing", now=at(2026, 9, 20, 9))
    deadlines.resume(petition, now=at(2026, 9, 23, 9))
    review.refresh_from_db()
    assert review.due_at == eod(2026, 10, 11) and petition.due_at == eod(2026, 10, 11)
    assert petition.reply_due == eod(2026, 8, 4)


def test_pause_and_resume_refusals(city: Any) -> None:
    appeal = make(city, status=Status.IN_PROGRESS, reply_due=eod(2026, 10, 16))
    with pytest.raises(AppealError) as err:
        deadlines.resume(appeal, now=at(2026, 10, 12))
    assert err.value.code == "invalid_transition"
    with pytest.raises(AppealError) as err:
        deadlines.pause(appeal, reason="lunch", now=at(2026, 10, 12))
    assert (err.value.code, err.value.field) == ("required", "reason")
    deadlines.pause(appeal, reason="materials", now=at(2026, 10, 12))
    with pytest.raises(AppealError) as err:
        deadlines.pause(appeal, reason="hearing", now=at(2026, 10, 13))
    assert err.value.code == "invalid_transition"
    assert Pause.objects.filter(appeal=appeal).count() == 1


# --- extension -------------------------------------------------------------------------------------


def test_extension_counts_from_the_reply_deadline(city: Any) -> None:
    petition = make(city, kind="petition", channel="letter", status=Status.IN_PROGRESS, reply_due=eod(2026, 9, 2))
    assert deadlines.extended_due(petition, 30) == eod(2026, 10, 8)  # 2 Sept + 30 = 2 Oct (holiday) → 8 Oct
    assert deadlines.extended_due(petition, 10) == eod(2026, 9, 14)  # 12 Sept is a Saturday → Monday
    normal = make(city, status=Status.IN_PROGRESS, reply_due=eod(2026, 9, 30))
    assert deadlines.extended_due(normal, 5) == eod(2026, 10, 13)
    urgent = make(city, urgency="urgent", status=Status.IN_PROGRESS, reply_due=at(2026, 10, 1, 9))
    assert deadlines.extended_due(urgent, 24) == at(2026, 10, 2, 9)


@pytest.mark.parametrize(
    ("kind", "urgency", "days"), [("petition", "normal", 31), ("appeal", "normal", 6), ("appeal", "urgent", 25)]
)
def test_too_long_extension_is_refused(city: Any, kind: str, urgency: str, days: int) -> None:
    appeal = make(city, kind=kind, urgency=urgency, status=Status.IN_PROGRESS, reply_due=eod(2026, 9, 2))
    with pytest.raises(AppealError) as err:
        deadlines.extended_due(appeal, days)
    assert (err.value.code, err.value.field) == ("extension_too_long", "days")
    assert "延期不得超过" in err.value.message
    with pytest.raises(AppealError) as err:
        deadlines.extended_due(appeal, 0)
    assert err.value.field == "days"


# --- the sweep --------------------------------------------------------------------------------------


def _staff(username: str, phone: str = "") -> Any:
    from zhucheng.accounts.models import User

    user = User(username=username, display_name=username, phone=phone)
    user.set_password("correct-horse-battery")
    user.save()
    return user


def _code_in(text: str) -> str:
    found = re.search(r"GY2026-T\d+", text)
    assert found, text
    return found.group(0)


def _by_address(messages: list[notify_module.Message]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in messages:
        assert m.channel == "sms"
        out.setdefault(m.address, []).append(m.text)
    return out


NOW = at(2026, 10, 9, 9)  # a Friday, the day after Golden Week


@pytest.fixture
def scene(city: Any) -> dict[str, Any]:
    """A department with handlers of every sort, supervisors over and beside the appeals, and appeals in every state."""
    no_phone = _staff("handler_no_phone")
    membership_grant(actor=None, user=no_phone, role=Role.DEPARTMENT_HANDLER, department=city.department)
    former = _staff("handler_former", "13800000011")
    membership_grant(actor=None, user=former, role=Role.DEPARTMENT_HANDLER, department=city.department)
    Membership.objects.filter(user=former).update(is_active=False)
    other = _staff("handler_other", "13800000012")
    membership_grant(actor=None, user=other, role=Role.DEPARTMENT_HANDLER, department=city.other_department)
    sup_b = _staff("supervisor_b", "13800000013")
    membership_grant(actor=None, user=sup_b, role=Role.SUPERVISOR, unit=city.community_b)
    dept = city.department
    return {
        "soon_dept": make(city, status=Status.IN_PROGRESS, department=dept, due_at=NOW + timedelta(hours=10)),
        "soon_unit": make(city, status=Status.SUBMITTED, due_at=NOW + timedelta(hours=5)),
        "overdue": make(city, status=Status.ASSIGNED, department=dept, due_at=NOW - timedelta(hours=1)),
        "petition_soon": make(
            city, kind="petition", channel="letter", status=Status.IN_PROGRESS, department=dept, due_at=NOW + timedelta(hours=48)
        ),
        "normal_30h": make(city, status=Status.IN_PROGRESS, department=dept, due_at=NOW + timedelta(hours=30)),
        "paused": make(
            city, status=Status.IN_PROGRESS, department=dept, due_at=NOW - timedelta(days=2), paused_at=NOW - timedelta(days=3)
        ),
        "closed": make(city, status=Status.CLOSED, department=dept, due_at=NOW - timedelta(days=2)),
        "replied": make(city, status=Status.REPLIED, department=dept, due_at=NOW - timedelta(days=2)),
        "far": make(city, status=Status.IN_PROGRESS, department=dept, due_at=NOW + timedelta(days=5)),
        "in_b": make(city, status=Status.SUBMITTED, unit=city.grid_b, due_at=NOW + timedelta(hours=3)),
    }


def test_sweep_reminds_and_escalates_the_right_people_once(
    city: Any, scene: dict[str, Any], outbox: list[notify_module.Message], django_capture_on_commit_callbacks: Any
) -> None:
    audits_before = AuditEvent.objects.filter(act="appeals.escalate").count()
    with django_capture_on_commit_callbacks(execute=True):
        report = deadlines.sweep(now=NOW)
    assert report == SweepReport(reminded=4, escalated=1)

    got = _by_address(outbox)
    # Department handler with a phone: both department appeals due soon; nothing about the overdue one.
    handler_texts = got.pop(city.handler.phone)
    assert len(handler_texts) == 2 and all("将于" in t for t in handler_texts)
    assert {scene["soon_dept"].code, scene["petition_soon"].code} == {_code_in(t) for t in handler_texts}
    # No department: the community staff over the appeal's unit, each for their own community.
    assert [scene["soon_unit"].code in t for t in got.pop(city.worker_a.phone)] == [True]
    assert [scene["in_b"].code in t for t in got.pop(city.worker_b.phone)] == [True]
    # Escalation goes to the district supervisor over the appeal, not to community B's supervisor.
    sup_texts = got.pop(city.supervisor.phone)
    assert len(sup_texts) == 1 and scene["overdue"].code in sup_texts[0] and "督办" in sup_texts[0]
    assert got == {}, "no one else is told (former handler, other department, phoneless, supervisor of B)"

    for name in ("soon_dept", "soon_unit", "petition_soon", "in_b"):
        appeal = Appeal.objects.get(pk=scene[name].pk)
        assert appeal.reminded_at == NOW and appeal.escalated_at is None, name
    for name in ("normal_30h", "paused", "closed", "replied", "far"):
        appeal = Appeal.objects.get(pk=scene[name].pk)
        assert appeal.reminded_at is None and appeal.escalated_at is None, name

    overdue = Appeal.objects.get(pk=scene["overdue"].pk)
    assert overdue.escalated_at == NOW and overdue.version == 1  # bookkeeping does not make open pages stale
    sup = Supervision.objects.get(appeal=overdue)
    assert (sup.kind, sup.is_escalation, sup.by, sup.created_at, sup.closed_at) == ("supervision", True, None, NOW, None)
    # Three working days from Friday 9 Oct 2026: Saturday 10 (worked), Monday 12, Tuesday 13.
    assert sup.due_at == eod(2026, 10, 13)
    assert "超过办理期限" in sup.instructions
    event = AppealEvent.objects.get(appeal=overdue, act="escalate")
    assert event.is_public is False and event.at == NOW
    audits = AuditEvent.objects.filter(act="appeals.escalate")
    assert audits.count() == audits_before + 1
    assert audits.get().object_id == str(overdue.pk)
    assert Supervision.objects.count() == 1

    # A second sweep at the same moment does nothing at all.
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=NOW) == SweepReport(reminded=0, escalated=0)
    assert outbox == []
    assert Supervision.objects.count() == 1 and AuditEvent.objects.filter(act="appeals.escalate").count() == audits_before + 1
    assert AppealEvent.objects.filter(act="escalate").count() == 1

    # A day later: three reminded ones are overdue (escalated once each; the petition still has a day),
    # and the 30-hour one is now due soon.
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=NOW + timedelta(days=1)) == SweepReport(reminded=1, escalated=3)
    assert Appeal.objects.get(pk=scene["normal_30h"].pk).reminded_at == NOW + timedelta(days=1)
    assert Appeal.objects.get(pk=scene["petition_soon"].pk).escalated_at is None
    assert Supervision.objects.filter(is_escalation=True).count() == 4
    # B's escalation goes to both the district supervisor and B's own supervisor.
    b_alerts = [m.address for m in outbox if scene["in_b"].code in m.text and "督办" in m.text]
    assert sorted(b_alerts) == sorted([city.supervisor.phone, "13800000013"])
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=NOW + timedelta(days=1)) == SweepReport(reminded=0, escalated=0)


def test_sweep_falls_back_to_admins_when_no_supervisor_covers_the_unit(
    city: Any, outbox: list[notify_module.Message], django_capture_on_commit_callbacks: Any
) -> None:
    Membership.objects.filter(user=city.supervisor).update(is_active=False)
    admin = _staff("city_admin", "13800000020")
    membership_grant(actor=None, user=admin, role=Role.ADMIN, unit=city.city)
    elsewhere = unit_create(actor=None, code="990102", name="云岩区", kind="district", parent=city.city, boundary=None)
    far_admin = _staff("far_admin", "13800000021")
    membership_grant(actor=None, user=far_admin, role=Role.ADMIN, unit=elsewhere)
    overdue = make(city, status=Status.IN_PROGRESS, department=city.department, due_at=NOW - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=NOW).escalated == 1
    assert [(m.address, overdue.code in m.text) for m in outbox] == [("13800000020", True)]


def test_sweep_reminder_queries_do_not_grow_with_the_number_of_appeals(city: Any, outbox: list[notify_module.Message]) -> None:
    def batch(n: int) -> None:
        for _ in range(n):
            make(city, status=Status.IN_PROGRESS, department=city.department, due_at=NOW + timedelta(hours=3))
            make(city, status=Status.SUBMITTED, due_at=NOW + timedelta(hours=3))

    batch(2)
    with CaptureQueriesContext(connection) as few:
        assert deadlines.sweep(now=NOW).reminded == 4
    batch(15)
    with CaptureQueriesContext(connection) as many:
        assert deadlines.sweep(now=NOW).reminded == 30
    assert len(many.captured_queries) == len(few.captured_queries)


def test_sweep_works_in_batches(city: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(deadlines, "SWEEP_BATCH", 2)
    for _ in range(5):
        make(city, status=Status.IN_PROGRESS, department=city.department, due_at=NOW + timedelta(hours=3))
    assert deadlines.sweep(now=NOW) == SweepReport(reminded=5, escalated=0)
    assert not Appeal.objects.filter(reminded_at__isnull=True).exists()


# --- command, task, schedule ---------------------------------------------------------------------------


def test_sweep_deadlines_command(city: Any, outbox: list[notify_module.Message]) -> None:
    make(city, status=Status.IN_PROGRESS, department=city.department, due_at=NOW + timedelta(hours=3))
    make(city, status=Status.IN_PROGRESS, department=city.department, due_at=NOW - timedelta(hours=3))
    out = StringIO()
    call_command("sweep_deadlines", "--now", "2026-10-09T09:00", stdout=out)  # naive: Beijing time
    assert out.getvalue().strip() == "临期提醒 1 件，超期升级督办 1 件。"
    out = StringIO()
    call_command("sweep_deadlines", "--now", "2026-10-09T01:00:00+00:00", stdout=out)
    assert out.getvalue().strip() == "临期提醒 0 件，超期升级督办 0 件。"
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("sweep_deadlines", "--now", "next friday")


def test_celery_task_and_beat_schedule(city: Any) -> None:
    from django.utils import timezone

    from zhucheng.appeals.tasks import sweep_deadlines_task
    from zhucheng.celery import app

    overdue = make(city, status=Status.IN_PROGRESS, department=city.department, due_at=timezone.now() - timedelta(hours=1))
    assert sweep_deadlines_task() == {"reminded": 0, "escalated": 1}
    assert Appeal.objects.get(pk=overdue.pk).escalated_at is not None
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == "zhucheng.appeals.tasks.sweep_deadlines_task"]
    assert len(entries) == 1
    assert entries[0]["schedule"].minute == {0, 15, 30, 45}
