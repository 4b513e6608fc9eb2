"""The mediation pages: every page is scoped (a worker of community B sees nothing of community A),
acts go through the services (a double booking comes back as a form error), create-from-appeal
works from the page, and the list pages do not grow queries with their rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhucheng.accounts.models import AccountKind, User
from zhucheng.mediation import outcomes, screening, services
from zhucheng.mediation.models import Dispute, GridReport, ScreeningRound, Session

from .conftest import PHONE_A, World, as_user, at, make_dispute

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world: World) -> dict[str, Any]:
    """A dispute of community A with a session, an agreement and a follow-up; screening rounds for this month."""
    a = make_dispute(world, title="甲社区欠薪纠纷")
    services.session_schedule(actor=world.mediator_user, dispute=a, room=world.room_a, starts_at=at(1, 9), ends_at=at(1, 10))
    agreed = make_dispute(world, title="甲社区已达成协议")
    agreement = outcomes.agreement_create(
        actor=world.mediator_user, dispute=agreed, facts="事实", terms=[outcomes.TermInput(text="付款", due_on=timezone.localdate() + timedelta(days=9))]
    )
    services.followup_create(actor=world.city.worker_a, dispute=a, title="回访甲方", owner=world.mediator_user, due_on=timezone.localdate())
    screening.rounds_open()
    return {
        "dispute": a,
        "agreement": agreement,
        "round_a": ScreeningRound.objects.get(unit=world.city.community_a),
        "report_a": GridReport.objects.get(grid=world.city.grid_a),
    }


def _pages(world: World, scene: dict[str, Any]) -> dict[str, str]:
    d, r = scene["dispute"], scene["round_a"]
    month = f"?month={r.month:%Y-%m}"
    return {
        "mine": reverse("mediation:mine"),
        "list": reverse("mediation:dispute_list") + "?status=",
        "detail": reverse("mediation:dispute_detail", args=[d.pk]),
        "rooms": reverse("mediation:room_list"),
        "room": reverse("mediation:room_detail", args=[world.room_a.pk]),
        "mediators": reverse("mediation:mediator_list"),
        "risk": reverse("mediation:risk_board"),
        "coverage": reverse("mediation:coverage") + month,
        "round": reverse("mediation:round_detail", args=[r.pk]),
        "metrics": reverse("mediation:metrics") + "?by=room",
        "new": reverse("mediation:dispute_new"),
    }


def test_worker_of_community_b_sees_nothing_of_community_a(world: World, scene: dict[str, Any]) -> None:
    pages = _pages(world, scene)
    d = scene["dispute"]
    secrets = [d.code, "甲社区欠薪纠纷", "中华社区调解室", "杨调解", "吴志愿", "中华社区"]
    b = as_user(world.city.worker_b)
    for name, url in pages.items():
        response = b.get(url)
        if name in ("detail", "room", "round"):
            assert response.status_code == 404, name
            continue
        assert response.status_code == 200, name
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body, (name, secret)
    # Acts, downloads and reports of community A are refused the same way, and change nothing.
    assert b.post(reverse("mediation:dispute_act", args=[d.pk, "withdraw"]), {"reason": "x"}).status_code == 404
    assert b.get(reverse("mediation:agreement_pdf", args=[scene["agreement"].pk])).status_code == 404
    assert b.post(reverse("mediation:round_close", args=[scene["round_a"].pk])).status_code == 404
    assert b.post(reverse("mediation:report_submit", args=[scene["report_a"].pk]), {f"s{scene['report_a'].pk}-found": "0"}).status_code == 404
    assert Dispute.objects.get(pk=d.pk).status == "mediating"
    # ... while their own dispute shows.
    own = make_dispute(world, title="乙社区噪音纠纷", unit=world.city.grid_b, room=world.room_b, actor=world.city.worker_b, assign=False)
    assert own.code in b.get(pages["list"]).content.decode()


@pytest.mark.parametrize("who", ["worker_a", "supervisor", "mediator"])
def test_staff_of_community_a_see_its_pages(world: World, scene: dict[str, Any], who: str) -> None:
    user = world.mediator_user if who == "mediator" else getattr(world.city, who)
    client = as_user(user)
    for name, url in _pages(world, scene).items():
        response = client.get(url)
        assert response.status_code == 200, name
    assert scene["dispute"].code in client.get(_pages(world, scene)["list"]).content.decode()


def test_nobody_residents_and_anonymous(world: World, scene: dict[str, Any]) -> None:
    pages = _pages(world, scene)
    nobody = as_user(world.city.nobody)
    assert nobody.get(pages["detail"]).status_code == 404
    assert scene["dispute"].code not in nobody.get(pages["list"]).content.decode()
    resident = User.objects.create(username="r1", kind=AccountKind.RESIDENT, phone="13700000000")
    assert as_user(resident).get(pages["mine"]).status_code == 403
    anonymous = Client().get(pages["mine"])
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_mediators_week_page_and_dispute_page(world: World, scene: dict[str, Any]) -> None:
    client = as_user(world.mediator_user)
    body = client.get(reverse("mediation:mine")).content.decode()
    assert "本周调解安排" in body or "下一周" in body
    assert "甲社区欠薪纠纷" in body and "回访甲方" in body
    # Sessions of next week are on next week's page.
    body = client.get(reverse("mediation:mine") + "?week=1").content.decode()
    detail = client.get(reverse("mediation:dispute_detail", args=[scene["dispute"].pk])).content.decode()
    # Masked identifiers only.
    assert "139****5678" in detail and PHONE_A not in detail and "520102199003071234" not in detail
    for panel in ("安排调解", "达成协议", "调解不成", "当事人撤回", "重新评估风险"):
        assert panel in detail


def test_scheduling_from_the_page_and_double_booking_as_form_error(world: World, scene: dict[str, Any]) -> None:
    d = scene["dispute"]
    client = as_user(world.mediator_user)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    url = reverse("mediation:dispute_act", args=[d.pk, "schedule"])
    data = {"room": world.room_a.pk, "day": day, "start": "09:00", "end": "10:30", "parties": [str(p.pk) for p in d.parties.all()], "others": "赵翻译，翻译"}
    assert client.post(url, data).status_code == 302
    session = Session.objects.filter(dispute=d).order_by("-id").first()
    assert session is not None and session.attendances.filter(name="赵翻译").exists()
    response = client.post(url, {**data, "start": "10:00", "end": "11:00"})
    assert response.status_code == 400
    assert "已有调解安排" in response.content.decode() or "已有安排" in response.content.decode()
    assert Session.objects.filter(dispute=d).count() == 2  # the one from the scene and the one above


def test_agreement_from_the_page(world: World, scene: dict[str, Any]) -> None:
    d = scene["dispute"]
    client = as_user(world.mediator_user)
    due = (timezone.localdate() + timedelta(days=20)).isoformat()
    data = {
        "facts": "双方确认欠薪数额。",
        "signed_on": timezone.localdate().isoformat(),
        "t-TOTAL_FORMS": "3", "t-INITIAL_FORMS": "0", "t-MIN_NUM_FORMS": "0", "t-MAX_NUM_FORMS": "1000",
        "t-0-text": "公司支付工资 12000 元", "t-0-amount": "12000", "t-0-due_on": due, "t-0-obligor": str(d.parties.get(side="respondent").pk),
        "t-1-text": "", "t-2-text": "",
    }
    response = client.post(reverse("mediation:dispute_act", args=[d.pk, "agree"]), data)
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == "agreed"
    (agreement,) = d.agreements.all()
    assert agreement.terms.get().amount_fen == 1_200_000
    detail = client.get(reverse("mediation:dispute_detail", args=[d.pk])).content.decode()
    assert reverse("mediation:agreement_pdf", args=[agreement.pk]) in detail and "12,000.00" in detail


def test_create_from_appeal_page(world: World) -> None:
    from zhucheng.appeals.services import PetitionerInput, appeal_submit

    appeal = appeal_submit(
        actor=None, channel="hotline", title="邻居装修噪音", description="楼上每天晚上十点后还在装修。", lat=26.2, lon=106.1,
        petitioners=[PetitionerInput(name="王小明", phone="13912345678")],
    ).appeal
    url = reverse("mediation:from_appeal", args=[appeal.pk])
    assert as_user(world.city.worker_b).get(url).status_code == 404
    page = as_user(world.city.worker_a).get(url).content.decode()
    assert "王**" in page and "139****5678" in page and "13912345678" not in page
    data = {
        "title": "邻居装修噪音纠纷", "facts": "楼上装修扰民。", "field": "neighbours", "room": world.room_a.pk,
        "p-TOTAL_FORMS": "2", "p-INITIAL_FORMS": "0", "p-MIN_NUM_FORMS": "0", "p-MAX_NUM_FORMS": "1000",
        "p-0-side": "respondent", "p-0-name": "楼上住户", "p-1-side": "applicant", "p-1-name": "",
    }
    response = as_user(world.city.worker_a).post(url, data)
    assert response.status_code == 302
    dispute = Dispute.objects.get(appeal=appeal)
    assert sorted(dispute.parties.values_list("name", flat=True)) == sorted(["王小明", "楼上住户"])
    # A second visit goes to the dispute.
    again = as_user(world.city.worker_a).get(url)
    assert again.status_code == 302 and again["Location"] == reverse("mediation:dispute_detail", args=[dispute.pk])


def test_walk_in_and_screening_intake(world: World) -> None:
    client = as_user(world.city.worker_a)
    base = {"p-TOTAL_FORMS": "2", "p-INITIAL_FORMS": "0", "p-MIN_NUM_FORMS": "0", "p-MAX_NUM_FORMS": "1000"}
    data = {**base, "title": "婚姻家庭纠纷", "facts": "夫妻因赡养老人发生争执。", "field": "family", "urgency": "normal", "room": world.room_a.pk,
            "p-0-side": "applicant", "p-0-name": "刘某", "p-0-phone": "13900001111", "p-1-side": "respondent", "p-1-name": "陈某"}
    response = client.post(reverse("mediation:dispute_new"), data)
    assert response.status_code == 302
    assert Dispute.objects.get(title="婚姻家庭纠纷").unit == world.city.community_a
    # Without a party the form says so.
    response = client.post(reverse("mediation:dispute_new"), {**data, "p-0-name": "", "p-1-name": ""})
    assert response.status_code == 200 and "请至少填写一名当事人" in response.content.decode()
    # From a screening report: located in the grid, linked to the report.
    screening.rounds_open(month=date(2026, 12, 1))
    report = GridReport.objects.get(grid=world.city.grid_a)
    response = as_user(world.city.grid_worker_a).post(
        reverse("mediation:dispute_new") + f"?report={report.pk}",
        {**data, "title": "排查发现漏水纠纷", "room": "", "field": "neighbours", "report": report.pk},
    )
    assert response.status_code == 302
    found = Dispute.objects.get(title="排查发现漏水纠纷")
    assert found.source == "screening" and found.screening_report == report and found.unit == world.city.grid_a


def test_list_pages_do_not_grow_queries_with_rows(world: World, scene: dict[str, Any]) -> None:
    client = as_user(world.city.supervisor)
    urls = [reverse("mediation:dispute_list") + "?status=", reverse("mediation:risk_board"), reverse("mediation:mediator_list")]
    before = []
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        before.append(len(ctx))
    for i in range(6):
        make_dispute(world, title=f"批量 {i}")
    for url, n in zip(urls, before, strict=True):
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        assert len(ctx) == n, url


def test_admin_reference_data_pages(world: World) -> None:
    admin = User.objects.create(username="root", is_superuser=True, is_staff=True)
    client = as_user(admin)
    for model in ("committee", "room", "mediator", "riskfactor"):
        assert client.get(reverse(f"admin:mediation_{model}_changelist")).status_code == 200, model
        assert client.get(reverse(f"admin:mediation_{model}_add")).status_code == 200, model


def test_every_act_form_posts_through_the_page(world: World, scene: dict[str, Any]) -> None:
    """Each act's form reaches its service (redirect on success) — a smoke test of the view wiring."""
    from zhucheng.mediation.models import FollowUp

    d = scene["dispute"]
    staff, mediator = as_user(world.city.worker_a), as_user(world.mediator_user)

    def act(client: Client, name: str, data: dict[str, Any], target: Dispute | None = None) -> None:
        response = client.post(reverse("mediation:dispute_act", args=[(target or d).pk, name]), data)
        assert response.status_code == 302, (name, response.content.decode()[-3000:])

    session = d.sessions.get()
    Session.objects.filter(pk=session.pk).update(starts_at=at(-1, 9), ends_at=at(-1, 10))
    attendance = session.attendances.first()
    assert attendance is not None
    page = mediator.get(reverse("mediation:dispute_detail", args=[d.pk])).content.decode()
    assert "记录" in page and f"r{session.pk}-minutes" in page
    act(mediator, "record", {"session_id": session.pk, f"r{session.pk}-present": [str(attendance.pk)], f"r{session.pk}-minutes": "双方陈述。"})
    act(mediator, "add_party", {"np-side": "third", "np-name": "物业公司"})
    act(staff, "conflict", {"mediator": world.volunteer_a.pk, "has_conflict": "1", "note": "亲属关系"})
    act(staff, "assign", {"mediator": world.mediator_a.pk, "room": world.room_a.pk, "reason": "改派"})
    act(staff, "follow_up", {"title": "电话回访", "owner": world.mediator_user.pk, "due_on": timezone.localdate().isoformat()})
    task = FollowUp.objects.get(dispute=d, title="电话回访")
    act(mediator, "done", {"followup_id": task.pk, f"d{task.pk}-note": "已回访"})
    act(staff, "assess", {"ra-note": "复评"})
    act(staff, "record_threat", {"th-note": "扬言到政府门口静坐"})
    later = make_dispute(world, title="待取消")
    s2 = services.session_schedule(actor=world.mediator_user, dispute=later, room=world.room_a2, starts_at=at(6, 9), ends_at=at(6, 10))
    act(mediator, "cancel", {"session_id": s2.pk, f"c{s2.pk}-reason": "改期"}, later)
    act(mediator, "withdraw", {"reason": "撤回"}, later)
    failing = make_dispute(world, title="调解不成")
    act(mediator, "fail", {"referral": "court", "guidance": ""}, failing)
    agreement = scene["agreement"]
    term = agreement.terms.get(seq=1)
    act(mediator, "judicial", {"agreement_id": agreement.pk, f"j{agreement.pk}-court": "南明区人民法院", f"j{agreement.pk}-requested_on": timezone.localdate().isoformat()}, agreement.dispute)
    act(mediator, "check", {"term_id": term.pk, f"k{term.pk}-fulfilled": "0", f"k{term.pk}-note": "未付款"}, agreement.dispute)
    assert Dispute.objects.get(pk=agreement.dispute_id).status == "reopened"
    act(staff, "hand_over", {"ho-body": "区信访局", "ho-reason": "群体性风险"})
    assert Dispute.objects.get(pk=d.pk).status == "handed_over"
    # A refused act re-renders the page with the error and status 400.
    response = mediator.post(reverse("mediation:dispute_act", args=[failing.pk, "withdraw"]), {"reason": "再撤回"})
    assert response.status_code == 400 and "不能撤回" in response.content.decode()
    assert mediator.post(reverse("mediation:dispute_act", args=[d.pk, "nonsense"]), {}).status_code == 404
