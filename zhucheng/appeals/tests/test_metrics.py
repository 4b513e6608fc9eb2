"""Resolution metrics: a hand-built year of appeals with every number known in advance.

The scenario (2025, Asia/Shanghai; "now" is 2026-03-01) covers each formula's edge cases: a
registration still pending past its due date, a paused one, a late decline, a reply overdue
after an unsatisfied rating (counted once), the latest of two ratings, a case without due dates,
a repeat, leader-assigned cases, and submissions either side of the year's local-time bounds.
Every expectation is also checked against the handwritten SQL (``metrics_raw_sql``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from zhucheng.appeals.metrics import Metrics, Ratio, metrics_for, metrics_raw_sql, year_period
from zhucheng.appeals.models import (
    Appeal,
    Assignment,
    Category,
    Feedback,
    Reply,
    Status,
    Supervision,
)

TZ = ZoneInfo("Asia/Shanghai")
H, D = timedelta(hours=1), timedelta(days=1)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=TZ)
START, END = year_period(2025)
_codes = count(1)


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@dataclass
class Spec:
    name: str
    grid: str  # "a" | "b"
    status: str
    submitted: datetime
    category: str | None = None
    dept: str | None = None  # "d1" | "d2"
    register_due: timedelta | datetime | None = D
    registered: timedelta | None = None
    reply_due: timedelta | None = None
    replied: timedelta | None = None
    reply_on_time: bool = True
    closed: timedelta | None = None
    resolved: bool | None = None
    paused: timedelta | None = None
    ratings: list[tuple[str, timedelta]] = field(default_factory=list)
    leader: bool = False
    repeat_of: str | None = None


SPECS = [
    Spec("A1", "a", Status.CLOSED, at(2025, 1, 10), "CG01", "d1", registered=2 * H, reply_due=7 * D, replied=3 * D,
         closed=4 * D, resolved=True, ratings=[("satisfied", 4 * D)], leader=True),
    Spec("A2", "a", Status.CLOSED, at(2025, 1, 20), "CG01", "d1", registered=2 * D, reply_due=7 * D, replied=9 * D,
         reply_on_time=False, closed=12 * D, resolved=False, ratings=[("satisfied", 10 * D), ("unsatisfied", 11 * D)], leader=True),
    Spec("A3", "b", Status.DECLINED, at(2025, 2, 5), "JT03", closed=5 * H),
    Spec("A4", "b", Status.DECLINED, at(2025, 2, 6), "JT03", closed=3 * D),
    Spec("A5", "a", Status.SUBMITTED, at(2025, 12, 20), "CG01"),
    Spec("A6", "a", Status.SUBMITTED, at(2025, 12, 21), paused=5 * H),
    Spec("A7", "a", Status.SUBMITTED, at(2025, 12, 31, 12), register_due=at(2026, 3, 5)),
    Spec("A8", "a", Status.IN_PROGRESS, at(2025, 3, 1), "JT03", "d2", registered=H, reply_due=7 * D),
    Spec("A9", "a", Status.REPLIED, at(2025, 3, 2), "JT03", "d2", registered=H, reply_due=7 * D, replied=2 * D),
    Spec("A10", "a", Status.FEEDBACK, at(2025, 3, 3), "CG01", "d1", registered=H, reply_due=7 * D, replied=2 * D,
         ratings=[("basic", 3 * D)]),
    Spec("A11", "a", Status.MERGED, at(2025, 1, 11), "CG01", closed=H, repeat_of="A1"),
    Spec("A12", "b", Status.UNDER_REVIEW, at(2025, 4, 1), "CG01", "d1", registered=H, reply_due=7 * D, replied=3 * D,
         ratings=[("unsatisfied", 4 * D)], repeat_of="A4"),
    Spec("A13", "a", Status.CLOSED, at(2024, 12, 31, 23), "CG01", "d1", registered=H, reply_due=7 * D, replied=D,
         closed=2 * D, resolved=True),
    Spec("A14", "b", Status.CLOSED, at(2025, 1, 1, 0, 30), "CG01", "d1", registered=H, reply_due=7 * D, replied=2 * D,
         closed=3 * D, resolved=True),
    Spec("A15", "a", Status.CLOSED, at(2025, 5, 1), "JT03", "d2", register_due=None, registered=timedelta(0),
         replied=20 * D, closed=21 * D, resolved=True),
    Spec("A16", "a", Status.IN_PROGRESS, at(2025, 6, 1), "CG01", "d1", registered=H, reply_due=10 * D, replied=2 * D,
         ratings=[("unsatisfied", 3 * D)]),
    Spec("A17", "a", Status.SUBMITTED, at(2026, 1, 1, 0, 0), "CG01"),
]


def _build(city: Any) -> dict[str, Appeal]:
    grids = {"a": city.grid_a, "b": city.grid_b}
    depts = {"d1": city.department, "d2": city.other_department}
    cats = {c.code: c for c in Category.objects.filter(code__in=["CG01", "JT03"])}
    made: dict[str, Appeal] = {}
    for s in SPECS:
        t = s.submitted
        register_due = s.register_due if isinstance(s.register_due, datetime) or s.register_due is None else t + s.register_due
        a = Appeal.objects.create(
            code=f"GY2025-{next(_codes):07d}",
            channel="hotline",
            title=f"测试诉求 {s.name}",
            description="测试用的诉求内容。",
            unit=grids[s.grid],
            grid=grids[s.grid],
            status=s.status,
            category=cats[s.category] if s.category else None,
            department=depts[s.dept] if s.dept else None,
            submitted_at=t,
            register_due=register_due,
            registered_at=t + s.registered if s.registered is not None else None,
            reply_due=t + s.reply_due if s.reply_due is not None else None,
            replied_at=t + s.replied if s.replied is not None else None,
            closed_at=t + s.closed if s.closed is not None else None,
            resolved=s.resolved,
            paused_at=t + s.paused if s.paused is not None else None,
            repeat_of=made[s.repeat_of] if s.repeat_of else None,
        )
        if s.replied is not None:
            Reply.objects.create(appeal=a, outcome="support", text="已处理。", created_at=t + s.replied, on_time=s.reply_on_time)
        for rating, after in s.ratings:
            Feedback.objects.create(appeal=a, department_rating=rating, created_at=t + after)
        if s.leader:
            Supervision.objects.create(appeal=a, kind="leader", leader_name="陈卫东", instructions="包案化解", created_at=t + D)
        made[s.name] = a
    # The handler's department assists on A8 (led by the other department): A8 is in the handler's scope.
    Assignment.objects.create(appeal=made["A8"], department=city.department, role="assist", state="active", assigned_at=at(2025, 3, 1))
    return made


@pytest.fixture
def scenario(city: Any) -> Any:
    _build(city)
    return city


def counts(m: Metrics) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in m.as_dict().items():
        out[name] = value if name == "received" else (value["numerator"], value["denominator"])
    return out


def both(user: Any, **kw: Any) -> Any:
    """The ORM result, after checking that the handwritten SQL gives exactly the same numbers."""
    kw.setdefault("now", NOW)
    orm = metrics_for(user, start=START, end=END, **kw)
    raw = metrics_raw_sql(user, start=START, end=END, **kw)
    assert orm.total == raw.total
    assert [(g.key, g.label, g.metrics) for g in orm.groups] == [(g.key, g.label, g.metrics) for g in raw.groups]
    return orm


def test_every_metric_of_the_year(scenario: Any) -> None:
    m = both(scenario.supervisor).total
    assert counts(m) == {
        "received": 15,  # A13 (31 Dec 23:00) and A17 (1 Jan 00:00 next year) fall outside
        "on_time_registration_rate": (9, 12),  # A2 late, A4 declined late, A5 still waiting past due
        "on_time_reply_rate": (6, 9),  # A2 late reply; A8 overdue, A16 overdue again after return
        "on_time_closure_rate": (3, 4),  # A2 closed after its reply due date
        "resolution_rate": (3, 4),
        "satisfaction_rate": (2, 5),  # A2's latest rating is the unsatisfied one
        "rating_rate": (5, 8),
        "repeat_rate": (2, 15),
        "leader_resolution_rate": (1, 2),
        "answered_rate": (9, 15),
        "concluded_rate": (7, 15),
    }
    assert m.on_time_registration_rate.rate == pytest.approx(0.75)
    assert m.on_time_closure_rate.percent() == "75.0%"


def test_scope_of_a_community_worker_excludes_the_other_community(scenario: Any) -> None:
    m = both(scenario.worker_b).total
    assert counts(m) == {
        "received": 4,  # A3, A4, A12, A14 only
        "on_time_registration_rate": (3, 4),
        "on_time_reply_rate": (2, 2),
        "on_time_closure_rate": (1, 1),
        "resolution_rate": (1, 1),
        "satisfaction_rate": (0, 1),
        "rating_rate": (1, 2),
        "repeat_rate": (1, 4),
        "leader_resolution_rate": (0, 0),
        "answered_rate": (4, 4),
        "concluded_rate": (3, 4),
    }
    assert m.leader_resolution_rate.rate is None and m.leader_resolution_rate.percent() == "—"
    # Asking for community A does not widen the scope.
    assert both(scenario.worker_b, unit=scenario.community_a).total.received == 0
    assert both(scenario.nobody).total.received == 0


def test_department_handler_sees_led_and_assisted_appeals(scenario: Any) -> None:
    m = both(scenario.handler).total
    assert m.received == 7  # A1, A2, A10, A12, A14, A16 led by the department, A8 assisted
    assert (m.leader_resolution_rate.numerator, m.leader_resolution_rate.denominator) == (1, 2)


def test_filters(scenario: Any) -> None:
    sup = scenario.supervisor
    assert both(sup, unit=scenario.community_a).total.received == 11
    assert both(sup, department=scenario.other_department).total.received == 3
    cg = Category.objects.get(code="CG")
    by_parent = both(sup, category=cg).total
    assert by_parent.received == 8
    assert both(sup, category=Category.objects.get(code="JT03")).total.received == 5
    narrow = both(sup, unit=scenario.community_a, category=cg, department=scenario.department).total
    assert narrow.received == 4  # A1, A2, A10, A16


def test_group_by_unit_department_category_month(scenario: Any) -> None:
    sup = scenario.supervisor
    units = both(sup, group_by="unit", unit=scenario.district)
    assert [(g.key, g.label, g.metrics.received) for g in units.groups] == [
        ("990101001", "中华社区", 11),
        ("990101002", "威清社区", 4),
    ]
    assert units.total.received == 15
    assert units.groups[1].metrics == both(scenario.worker_b).total
    # Without a unit: the user's own top unit (the supervisor's district).
    assert [g.key for g in both(sup, group_by="unit").groups] == ["990101001", "990101002"]

    depts = both(sup, group_by="department")
    assert [(g.label, g.metrics.received) for g in depts.groups] == [
        ("市住房和城乡建设局", 6),
        ("市民政局", 3),
        ("未交办", 6),
    ]
    cats = both(sup, group_by="category")
    assert [(g.label, g.metrics.received) for g in cats.groups] == [("城市管理", 8), ("交通出行", 5), ("未分类", 2)]
    cg = cats.groups[0].metrics
    assert (cg.resolution_rate.numerator, cg.resolution_rate.denominator) == (2, 3)  # A1, A14 of A1, A2, A14

    months = both(sup, group_by="month")
    # A14 was submitted at 00:30 on 1 January local time (still 2024 in UTC): it counts in January.
    assert [(g.key, g.metrics.received) for g in months.groups] == [
        ("2025-01", 4),
        ("2025-02", 2),
        ("2025-03", 3),
        ("2025-04", 1),
        ("2025-05", 1),
        ("2025-06", 1),
        ("2025-12", 3),
    ]
    assert months.total == both(sup).total


def test_now_decides_what_is_overdue(scenario: Any) -> None:
    early = both(scenario.supervisor, now=at(2025, 6, 5)).total
    # On 5 June A5's registration is not yet due, and A16's second reply (due 11 June) is not late.
    assert (early.on_time_registration_rate.numerator, early.on_time_registration_rate.denominator) == (9, 11)
    assert (early.on_time_reply_rate.numerator, early.on_time_reply_rate.denominator) == (7, 9)


def test_query_count_does_not_grow_with_rows(scenario: Any, django_assert_max_num_queries: Any) -> None:
    sup = scenario.supervisor
    both(sup, group_by="department")  # warm the user's scope cache
    with django_assert_max_num_queries(2):  # the aggregate, then the labels
        metrics_for(sup, start=START, end=END, now=NOW, group_by="department")
    with django_assert_max_num_queries(1):
        metrics_for(sup, start=START, end=END, now=NOW)


def test_bad_arguments(scenario: Any) -> None:
    with pytest.raises(ValueError, match="group_by"):
        metrics_for(scenario.supervisor, start=START, end=END, group_by="week")
    with pytest.raises(ValueError, match="empty"):
        metrics_for(scenario.supervisor, start=END, end=START)


def test_ratio() -> None:
    assert Ratio(0, 0).rate is None
    assert Ratio(1, 3).rate == pytest.approx(1 / 3)
    assert Ratio(1, 3).percent() == "33.3%"
