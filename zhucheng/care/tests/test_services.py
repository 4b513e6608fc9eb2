"""Enrolment acts: consent required (and a guardian's for a child or an adult without capacity), withdrawal
hides everything, assessment sets the risk and the visit interval, overdue computation, visits raising an
appeal or a referral, services, grants and scoping."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from zhucheng.appeals.models import Appeal
from zhucheng.care import selectors, services
from zhucheng.care.errors import CareError
from zhucheng.care.models import CarePlan, Enrolment, EnrolmentState, Referral, RiskLevel
from zhucheng.core.models import AuditEvent
from zhucheng.places.selectors import NotVisible

from .conftest import consent, days_ago, enrol, guardian_consent

pytestmark = pytest.mark.django_db


def test_consent_is_required_to_enrol(care: Any) -> None:
    for bad, field in ((None, "given_by"), (consent(given_by=""), "given_by"), (consent(form=""), "form"), (consent(withdrawal_method=""), "withdrawal_method")):
        with pytest.raises(CareError) as exc:
            services.enrolment_create(actor=care.city.worker_a, person=care.old_a, category=care.elderly, consent=bad, carer=care.city.grid_worker_a)
        assert exc.value.field == field
    assert not Enrolment.objects.exists()
    e = enrol(care, actor=care.city.worker_a)
    assert e.consent.withdrawal_method.startswith("致电社区")
    assert e.plan.interval_days == 30
    assert AuditEvent.objects.filter(act="care.enrol", object_id=str(e.pk)).exists()


def test_child_and_adult_without_capacity_need_a_guardian(care: Any) -> None:
    with pytest.raises(CareError) as exc:
        enrol(care, care.child_a, actor=care.city.worker_a)
    assert exc.value.code == "guardian_required"
    with pytest.raises(CareError) as exc:
        enrol(care, care.adult_a, actor=care.city.worker_a, consent=consent(lacks_capacity=True))
    assert exc.value.code == "guardian_required"
    with pytest.raises(CareError) as exc:
        enrol(care, care.child_a, actor=care.city.worker_a, consent=consent(given_by="guardian"))
    assert exc.value.field == "guardian_name"
    e = enrol(care, care.child_a, actor=care.city.worker_a, consent=guardian_consent())
    assert e.consent.guardian_name == "王大山"
    assert e.consent.guardian_phone == "13912340000"


def test_enrolment_scope_duplicate_and_carer(care: Any) -> None:
    with pytest.raises(CareError) as exc:
        enrol(care, care.old_b, actor=care.city.worker_a)  # other community
    assert exc.value.code == "forbidden"
    with pytest.raises(CareError) as exc:
        enrol(care, care.old_a, actor=care.city.worker_a, carer=care.city.worker_b)  # carer with no post there
    assert exc.value.field == "carer"
    enrol(care, actor=care.city.worker_a)
    with pytest.raises(CareError) as exc:
        enrol(care, actor=care.city.worker_a)
    assert exc.value.code == "duplicate"
    v = enrol(care, care.adult_a, actor=care.city.worker_a, carer=None, volunteer_name="刘志愿", volunteer_phone="13700001111")
    assert "刘志愿" in v.carer_label


def test_sensitive_category_needs_a_grant_to_enrol(care: Any) -> None:
    with pytest.raises(CareError) as exc:
        enrol(care, care.adult_a, care.mental, actor=care.city.worker_a)
    assert exc.value.code == "forbidden"
    e = enrol(care, care.adult_a, care.mental, actor=care.granted)
    assert e.category.is_sensitive


def test_withdrawal_ends_enrolment_and_hides_details(care: Any) -> None:
    e = enrol(care, actor=care.city.worker_a)
    services.visit_record(actor=care.city.grid_worker_a, enrolment=e, visited_on=timezone.localdate(), kind="home", situation="身体尚可")
    assert selectors.enrolment_get_for_user(care.city.worker_a, e.pk) == e
    services.consent_withdraw(actor=care.city.worker_a, enrolment=e, via="本人来电")
    e.refresh_from_db()
    assert e.state == EnrolmentState.WITHDRAWN and e.ended_on == timezone.localdate()
    for user in (care.city.worker_a, care.city.grid_worker_a, care.city.supervisor):
        with pytest.raises(NotVisible):
            selectors.enrolment_get_for_user(user, e.pk)
        assert not selectors.enrolments_search(user, state="").filter(pk=e.pk).exists()
        assert selectors.enrolments_for_person(user, care.old_a) == []
    with pytest.raises(CareError):
        services.visit_record(actor=None, enrolment=e, visited_on=timezone.localdate(), kind="home", situation="x")
    assert AuditEvent.objects.filter(act="care.consent_withdraw", object_id=str(e.pk), reason="本人来电").exists()
    # A new enrolment is possible after withdrawal (with fresh consent).
    assert enrol(care, actor=care.city.worker_a).state == EnrolmentState.ACTIVE


def test_assessment_sets_risk_and_interval(care: Any) -> None:
    e = enrol(care, actor=care.city.worker_a)
    a = services.assessment_record(actor=care.city.grid_worker_a, enrolment=e, answers=[1, 2, 1])
    assert (a.score, a.risk_level) == (11, RiskLevel.HIGH)
    plan = CarePlan.objects.get(enrolment=e)
    assert plan.interval_days == 7
    assert plan.next_due_on >= e.enrolled_on + timedelta(days=7)
    a = services.assessment_record(actor=care.city.grid_worker_a, enrolment=e, answers=[1, 0, 0])
    assert a.risk_level == RiskLevel.MEDIUM
    assert CarePlan.objects.get(enrolment=e).interval_days == 15
    with pytest.raises(CareError) as exc:
        services.assessment_record(actor=care.city.grid_worker_a, enrolment=e, answers=[1, 9, 0])
    assert exc.value.field == "q1"
    with pytest.raises(CareError):
        services.assessment_record(actor=care.city.grid_worker_a, enrolment=e, answers=[1])


def test_overdue_visit_computation(care: Any, settings: Any) -> None:
    """Due = last visit (or enrolment) + interval calendar days, rolled to the next working day; overdue after that."""
    from zhucheng.core.calendar import add_calendar_days, is_working_day

    start = days_ago(40)
    e = enrol(care, actor=None, enrolled_on=start)
    due = CarePlan.objects.get(enrolment=e).next_due_on
    assert due == add_calendar_days(start, 30).date and is_working_day(due)
    assert due >= start + timedelta(days=30)
    assert list(selectors.overdue_for_carer(care.city.grid_worker_a)) == [e]
    assert selectors.overdue_in(care.city.worker_a).filter(pk=e.pk).exists()
    assert not selectors.overdue_in(care.city.worker_b).exists()  # scoping
    # The day before it is due, it is not overdue; on the due day itself neither.
    assert not selectors.overdue_for_carer(care.city.grid_worker_a, on=due).exists()
    assert selectors.overdue_for_carer(care.city.grid_worker_a, on=due + timedelta(days=1)).exists()
    # A late visit counts as late, and moves the next due date.
    v = services.visit_record(actor=care.city.grid_worker_a, enrolment=e, visited_on=timezone.localdate(), kind="phone", situation="电话问候，一切正常")
    assert v.due_on == due and not v.on_time
    assert not selectors.overdue_for_carer(care.city.grid_worker_a).exists()
    assert CarePlan.objects.get(enrolment=e).next_due_on == add_calendar_days(timezone.localdate(), 30).date
    rows = {r.label: r for r in selectors.overdue_by_carer(care.city.worker_a)}
    assert rows["张网格"].active == 1 and rows["张网格"].overdue == 0


def test_visit_raises_appeal_and_referral_in_one_step(care: Any) -> None:
    e = enrol(care, care.adult_a, care.mental, actor=care.granted, carer=care.granted)
    v = services.visit_record(
        actor=care.granted, enrolment=e, visited_on=timezone.localdate(), kind="home", situation="家中漏雨",
        needs="屋顶漏雨需要维修", raise_appeal=True, refer_to=care.city.other_department, referral_note="申请临时救助",
    )
    appeal = Appeal.objects.get(pk=v.appeal_id)
    assert appeal.channel == "grid" and appeal.unit_id == care.city.grid_a.pk
    assert "精神" not in appeal.title + appeal.description  # the category never travels with it
    ref = Referral.objects.get(visit=v)
    assert ref.department == care.city.other_department and ref.note == "申请临时救助"
    with pytest.raises(CareError):
        services.visit_record(actor=care.granted, enrolment=e, visited_on=timezone.localdate(), kind="home", situation="x", raise_appeal=True)


def test_visit_permissions(care: Any) -> None:
    e = enrol(care, actor=care.city.worker_a)
    with pytest.raises(CareError) as exc:
        services.visit_record(actor=care.city.worker_b, enrolment=e, visited_on=timezone.localdate(), kind="home", situation="x")
    assert exc.value.code == "forbidden"
    with pytest.raises(CareError) as exc:
        services.visit_record(actor=care.city.grid_worker_a, enrolment=e, visited_on=timezone.localdate() + timedelta(days=1), kind="home", situation="x")
    assert exc.value.field == "visited_on"
    s = enrol(care, care.adult_a, care.mental, actor=care.granted)
    with pytest.raises(CareError):  # the grid worker is not granted the sensitive category
        services.visit_record(actor=care.city.grid_worker_a, enrolment=s, visited_on=timezone.localdate(), kind="home", situation="x")


def test_referral_answered_by_the_department(care: Any) -> None:
    e = enrol(care, actor=care.city.worker_a)
    v = services.visit_record(actor=care.city.grid_worker_a, enrolment=e, visited_on=timezone.localdate(), kind="home", situation="x",
                              needs="需要轮椅", refer_to=care.city.department)
    ref = v.referrals.get()
    assert selectors.referrals_visible_to(care.city.handler).filter(pk=ref.pk).exists()
    assert not selectors.referrals_visible_to(care.city.worker_b).exists()
    with pytest.raises(CareError):
        services.referral_answer(actor=care.city.worker_b, referral=ref, answer="已办")
    services.referral_answer(actor=care.city.handler, referral=ref, answer="已配发轮椅")
    ref.refresh_from_db()
    assert ref.state == "done"


def test_services_totals(care: Any) -> None:
    e = enrol(care, actor=care.city.worker_a)
    services.service_record(actor=care.city.worker_a, enrolment=e, kind="rehabilitation", description="白内障复明手术", provider="市第一人民医院", delivered_on=days_ago(3), amount_fen=350_000)
    services.service_record(actor=care.city.worker_a, enrolment=e, kind="aid", description="助听器", provider="市残联", delivered_on=days_ago(2), amount_fen=120_000)
    assert selectors.services_total_for_person(care.city.worker_a, care.old_a) == {"count": 2, "amount_fen": 470_000}
    assert selectors.services_total_for_person(care.city.worker_b, care.old_a) == {"count": 0, "amount_fen": 0}
    with pytest.raises(CareError) as exc:
        services.service_record(actor=care.city.worker_a, enrolment=e, kind="aid", description="x", provider="y", delivered_on=days_ago(1), amount_fen=-1)
    assert exc.value.field == "amount_fen"


def test_review_moves_the_review_date(care: Any) -> None:
    e = enrol(care, actor=None, enrolled_on=date(2026, 1, 31))
    assert e.review_on == date(2026, 7, 31)
    services.enrolment_review(actor=care.city.worker_a, enrolment=e, note="情况稳定", reviewed_on=date(2026, 8, 31))
    e.refresh_from_db()
    assert (e.reviewed_on, e.review_on) == (date(2026, 8, 31), date(2027, 2, 28))
    with pytest.raises(CareError):
        services.enrolment_review(actor=care.city.grid_worker_a, enrolment=e, note="x")  # grid workers do not review


def test_grants_need_a_leader_and_a_sensitive_category(care: Any) -> None:
    with pytest.raises(CareError):
        services.grant_create(actor=care.city.worker_a, category=care.mental, unit=care.city.community_a, role="grid_worker", reason="x")
    with pytest.raises(CareError):
        services.grant_create(actor=None, category=care.elderly, unit=care.city.community_a, role="grid_worker", reason="x")
    e = enrol(care, care.adult_a, care.mental, actor=care.granted)
    assert not selectors.enrolments_visible_to(care.city.grid_worker_a).filter(pk=e.pk).exists()
    g = services.grant_create(actor=None, category=care.mental, unit=care.city.community_a, role="grid_worker", reason="精防协管")
    from zhucheng.care import access

    access.forget(care.city.grid_worker_a)
    assert selectors.enrolments_visible_to(care.city.grid_worker_a).filter(pk=e.pk).exists()
    # A role grant in community A does nothing for the same role elsewhere.
    assert not selectors.enrolments_visible_to(care.city.worker_b).filter(pk=e.pk).exists()
    services.grant_revoke(actor=None, grant=g, reason="岗位调整")
    access.forget(care.city.grid_worker_a)
    assert not selectors.enrolments_visible_to(care.city.grid_worker_a).filter(pk=e.pk).exists()
