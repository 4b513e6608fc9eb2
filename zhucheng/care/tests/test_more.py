"""Video-link bookings (conflicts refused by the locked check and by the database), the usage log, home activities,
proxy-parent pairings, homeless cases seen per side, and the metrics' small-count suppression."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhucheng.care import metrics, selectors_more, services, services_more
from zhucheng.care.errors import CareError
from zhucheng.care.models import BookingState, CareHome, HomelessAgency, LinkBooking, LinkPoint, ProxyParent
from zhucheng.places.models import Department, Role
from zhucheng.places.services import membership_grant

from .conftest import days_ago, enrol

pytestmark = pytest.mark.django_db


def next_open_day() -> datetime:
    day = timezone.localdate() + timedelta(days=1)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


@pytest.fixture
def point(care: Any) -> LinkPoint:
    return LinkPoint.objects.create(code="P1", name="中华社区亲情联系点", unit=care.city.community_a, address="中华北路1号", equipment="电脑、摄像头、耳麦")


def book(care: Any, point: LinkPoint, at: datetime, **kw: Any) -> LinkBooking:
    args = {"person": care.old_a, "family_name": "李建华", "family_relation": "儿子", "family_phone": "13512345678", "family_place": "浙江宁波"}
    args.update(kw)
    return services_more.booking_create(actor=care.city.worker_a, point=point, starts_at=at, **args)


def test_booking_and_double_booking(care: Any, point: LinkPoint) -> None:
    at = next_open_day()
    b = book(care, point, at)
    assert b.family_phone == "13512345678" and b.family_phone_hash
    with pytest.raises(CareError) as exc:
        book(care, point, at, person=care.child_a)
    assert exc.value.code == "double_booked"
    for bad, code in ((at.replace(hour=7), "closed"), (at.replace(minute=10), "closed"), (at - timedelta(days=3), "past")):
        with pytest.raises(CareError) as exc:
            book(care, point, bad)
        assert exc.value.code == code
    services_more.booking_cancel(actor=care.city.worker_a, booking=b)
    assert book(care, point, at).state == BookingState.BOOKED  # a cancelled slot is free again
    with pytest.raises(CareError):
        services_more.booking_create(actor=care.city.worker_b, point=point, starts_at=at + timedelta(minutes=30), person=care.old_a,
                                     family_name="x", family_relation="y", family_phone="13512345678")


def test_the_database_refuses_a_double_booking_too(care: Any, point: LinkPoint) -> None:
    """The partial unique index, on SQLite and PostgreSQL alike (what catches a race the check cannot see)."""
    at = next_open_day()
    fields = {"point": point, "starts_at": at, "ends_at": at + timedelta(minutes=30), "person": care.old_a, "family_name": "a",
              "family_relation": "b", "family_phone": "13512345678"}
    LinkBooking.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        LinkBooking.objects.create(**fields)
    LinkBooking.objects.create(**{**fields, "state": BookingState.CANCELLED})  # cancelled rows do not count


def test_usage_log(care: Any, point: LinkPoint) -> None:
    at = next_open_day()
    b = book(care, point, at)
    with pytest.raises(CareError) as exc:
        services_more.booking_log(actor=care.city.worker_a, booking=b, used=True, minutes=20)
    assert exc.value.code == "too_early"
    LinkBooking.objects.filter(pk=b.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(CareError):
        services_more.booking_log(actor=care.city.worker_a, booking=b, used=True, minutes=None)
    services_more.booking_log(actor=care.city.worker_a, booking=b, used=True, minutes=25, note="和儿子视频，老人很高兴")
    b.refresh_from_db()
    assert (b.state, b.used_minutes) == (BookingState.USED, 25)
    rows = metrics.link_usage(care.city.worker_a, root=care.city.city, date_from=days_ago(2), date_to=timezone.localdate() + timedelta(days=30))
    assert [(r.bookings, r.used, r.minutes) for r in rows] == [(1, 1, 25)]
    assert metrics.link_usage(care.city.worker_b, root=care.city.city, date_from=days_ago(2), date_to=timezone.localdate() + timedelta(days=30)) == []


def test_home_activity_and_attendance(care: Any) -> None:
    home = CareHome.objects.create(kind="children", name="金东留守儿童之家", unit=care.city.community_a, address="金东路5号", keeper="周老师")
    a = services_more.activity_record(actor=care.city.worker_a, home=home, held_on=timezone.localdate(), title="周末作业辅导", attendees=[care.child_a, care.child_a])
    assert list(a.attendance.values_list("person__name", flat=True)) == ["王小明"]
    with pytest.raises(CareError):
        services_more.activity_record(actor=care.city.worker_b, home=home, held_on=timezone.localdate(), title="x")
    assert not selectors_more.homes_visible_to(care.city.worker_b).exists()


def test_proxy_parent_pairing_meetings_and_review(care: Any) -> None:
    parent = ProxyParent.objects.create(name="黄秀梅", unit=care.city.community_a, occupation="小学教师")
    with pytest.raises(CareError) as exc:
        services_more.pairing_create(actor=care.city.worker_a, parent=parent, child=care.old_a)
    assert exc.value.code == "not_child"
    p = services_more.pairing_create(actor=care.city.worker_a, parent=parent, child=care.child_a, started_on=days_ago(100))
    assert p.review_due_on == days_ago(10)
    with pytest.raises(CareError):
        services_more.pairing_create(actor=care.city.worker_a, parent=parent, child=care.child_a)
    services_more.meeting_log(actor=care.city.grid_worker_a, pairing=p, met_on=days_ago(5), note="一起做手工，孩子开朗了")
    assert list(selectors_more.pairings_review_due(care.city.worker_a)) == [p]
    services_more.pairing_review(actor=care.city.worker_a, pairing=p, keep=True, note="孩子与代理妈妈关系融洽")
    p.refresh_from_db()
    assert p.review_due_on == timezone.localdate() + timedelta(days=90)
    assert not selectors_more.pairings_review_due(care.city.worker_a).exists()
    services_more.pairing_review(actor=care.city.worker_a, pairing=p, keep=False, note="父母返乡")
    p.refresh_from_db()
    assert p.ended_on == timezone.localdate()


@pytest.fixture
def agencies(care: Any) -> dict[str, Any]:
    from zhucheng.accounts.models import User

    out: dict[str, Any] = {}
    for code, name, side in (("H1", "市民政局救助站", "civil_affairs"), ("H2", "市公安局", "police"), ("H3", "市城市管理局", "city_management"), ("H4", "市卫生健康委员会", "health")):
        d = Department.objects.create(code=code, name=name)
        HomelessAgency.objects.create(department=d, side=side)
        u = User.objects.create(username=f"dept_{side}", display_name=name)
        membership_grant(actor=None, user=u, role=Role.DEPARTMENT_HANDLER, department=d)
        out[side] = (d, u)
    return out


def test_homeless_case_hand_offs_and_what_each_side_sees(care: Any, agencies: dict[str, Any]) -> None:
    cm_dept, cm = agencies["city_management"]
    police_dept, police = agencies["police"]
    health_dept, health = agencies["health"]
    ca_dept, ca = agencies["civil_affairs"]
    case = services_more.homeless_open(actor=cm, found_at=timezone.now() - timedelta(hours=2), found_place="中华北路地下通道",
                                       unit=care.city.grid_a, description="一名老年男子夜宿通道，衣着单薄")
    assert case.holder == cm_dept and case.code.startswith("LL")
    with pytest.raises(CareError):
        services_more.homeless_update(actor=cm, case=case, changes={"health_notes": "x"})
    services_more.homeless_hand_off(actor=cm, case=case, to_department=police_dept, note="请核实身份")
    services_more.homeless_update(actor=police, case=case, changes={"name_given": "刘某", "identity_notes": "经比对为毕节市七星关区人"})
    with pytest.raises(CareError):
        services_more.homeless_update(actor=cm, case=case, changes={"name_given": "x"})  # no longer holds it
    services_more.homeless_hand_off(actor=police, case=case, to_department=health_dept, note="有咳嗽发热，送医")
    services_more.homeless_update(actor=health, case=case, changes={"health_notes": "肺部感染，住院治疗 5 天"})
    services_more.homeless_hand_off(actor=health, case=case, to_department=ca_dept, note="已康复出院")
    services_more.homeless_update(actor=ca, case=case, changes={"assistance_notes": "联系家属，购票护送返乡"})
    services_more.homeless_close(actor=ca, case=case, outcome="returned_home", note="家属在毕节站接回")
    case.refresh_from_db()
    views = {side: selectors_more.homeless_case_view(u, case) for side, (_, u) in agencies.items()}
    assert "identity_notes" in views["police"] and "health_notes" not in views["police"]
    assert "health_notes" in views["health"] and "identity_notes" not in views["health"]
    assert "name_given" not in views["city_management"] and "health_notes" not in views["city_management"]
    assert views["civil_affairs"]["assistance_notes"] == "联系家属，购票护送返乡" and "identity_notes" not in views["civil_affairs"]
    assert [h["to"] for h in views["city_management"]["handoffs"]] == [cm_dept, police_dept, health_dept, ca_dept]
    # Every side that held the case sees it; staff of another community do not.
    for _, u in agencies.values():
        assert selectors_more.homeless_cases_visible_to(u).filter(pk=case.pk).exists()
    assert selectors_more.homeless_cases_visible_to(care.city.worker_a).filter(pk=case.pk).exists()
    assert not selectors_more.homeless_cases_visible_to(care.city.worker_b).exists()
    assert not selectors_more.homeless_cases_visible_to(care.city.handler).exists()
    with pytest.raises(CareError):
        services_more.homeless_hand_off(actor=ca, case=case, to_department=police_dept, note="x")  # closed


def test_small_counts_are_suppressed(care: Any) -> None:
    from zhucheng.places.services import membership_grant as grant

    grant(actor=None, user=care.granted, role=Role.GRID_WORKER, unit=care.city.grid_a)
    adults = [care.adult_a]
    from .conftest import person

    for i in range(5):
        adults.append(person(f"测试{i}", care.city.grid_a, care.adult_a.birth_date, 20 + i))
    root = care.city.city
    enrol(care, care.adult_a, care.mental, actor=None)

    def mental_total() -> Any:
        t = metrics.enrolled_by_category_and_unit(care.city.supervisor, root=root)
        return t.total[t.columns.index(care.mental)]

    assert mental_total() == metrics.SUPPRESSED
    table = metrics.enrolled_by_category_and_unit(care.city.supervisor, root=root)
    assert table.chart()["values"][table.columns.index(care.mental)] is None
    for p in adults[1:4]:
        enrol(care, p, care.mental, actor=None)
    assert mental_total() == metrics.SUPPRESSED  # 4
    enrol(care, adults[4], care.mental, actor=None)
    assert mental_total() == 5
    # Ordinary categories are exact, even when small; zero of a sensitive category is "<5" too.
    enrol(care, care.old_a, actor=None)
    t = metrics.enrolled_by_category_and_unit(care.city.supervisor, root=root)
    assert t.total[t.columns.index(care.elderly)] == 1
    assert metrics.enrolled_by_category_and_unit(care.city.worker_b, root=root).total[t.columns.index(care.mental)] == metrics.SUPPRESSED
    assert metrics.suppress(0) == metrics.SUPPRESSED and metrics.suppress(4) == "<5" and metrics.suppress(7) == 7


def test_visit_and_service_metrics(care: Any) -> None:
    e = enrol(care, actor=None, enrolled_on=days_ago(60))
    services.visit_record(actor=None, enrolment=e, visited_on=days_ago(50), kind="home", situation="好")  # due +30: on time
    services.visit_record(actor=None, enrolment=e, visited_on=days_ago(2), kind="phone", situation="好")  # due ~ -20: late
    services.service_record(actor=None, enrolment=e, kind="aid", description="轮椅", provider="区残联", delivered_on=days_ago(3), amount_fen=80_000)
    s = enrol(care, care.adult_a, care.mental, actor=None)
    services.service_record(actor=None, enrolment=s, kind="hospitalisation", description="住院救助", provider="市第二人民医院", delivered_on=days_ago(3), amount_fen=300_000)
    period = {"date_from": days_ago(90), "date_to": timezone.localdate() + timedelta(days=1)}
    rows = {r.category.code: r for r in metrics.visits_on_time(care.city.worker_a, root=care.city.city, **period)}
    assert (rows["empty_nest"].visits, rows["empty_nest"].on_time, rows["empty_nest"].rate) == (2, 1, 50.0)
    assert rows["mental"].visits == "<5" and rows["mental"].rate is None
    by_cat = {r.label: r for r in metrics.services_by_category(care.city.worker_a, root=care.city.city, **period)}
    assert (by_cat["空巢老人"].count, by_cat["空巢老人"].amount_fen) == (1, 80_000)
    assert (by_cat["严重精神障碍患者"].count, by_cat["严重精神障碍患者"].amount_fen) == ("<5", None)
    kinds = {r.label: r.amount_fen for r in metrics.services_by_kind(care.city.worker_a, root=care.city.city, **period)}
    assert kinds["住院救助"] == 0 and kinds["辅助器具"] == 80_000  # the sensitive hospitalisation is not in the by-kind table
    units = {r.label: r.amount_fen for r in metrics.services_by_unit(care.city.worker_a, root=care.city.district, **period)}
    assert units == {"中华社区": 80_000, "威清社区": 0}
