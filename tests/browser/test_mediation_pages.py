"""The mediation pages in a real browser: the mediator's week and a dispute page (with its act panels)
render on a desktop and a phone, the supervisor's risk and coverage boards render, and the console
stays clean (a CSP violation would show there). Screenshots land in var/screenshots/."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from zhucheng.accounts.models import User
from zhucheng.mediation import screening, services
from zhucheng.mediation.models import Attendance, Committee, Dispute, Mediator, Room, Session, SessionStatus
from zhucheng.places.models import Role
from zhucheng.places.services import membership_grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # the root conftest's staff password


@pytest.fixture
def mediation(city: Any) -> dict[str, Any]:
    user = User.objects.create(username="mediator_a", display_name="杨秀英", phone="13800000009", password=make_password(PASSWORD))
    membership_grant(actor=None, user=user, role=Role.MEDIATOR, unit=city.community_a)
    committee = Committee.objects.create(code="NBR", name="物业及邻里纠纷人民调解委员会", field="neighbours", unit=city.city)
    room = Room.objects.create(code="RA", name="中华社区人民调解室", unit=city.community_a, committee=committee, address="中华北路1号",
                               open_days="1234567", opens_at=time(8, 0), closes_at=time(20, 0))
    mediator = Mediator.objects.create(user=user, name="杨秀英", unit=city.community_a, committee=committee, fields=",neighbours,family,")
    Mediator.objects.create(name="吴志愿", unit=city.community_a, affiliation="harmony", fields=",family,")
    parties = [
        services.PartyInput(name="张三", side="applicant", phone="13912345678", id_number="520102199003071234"),
        services.PartyInput(name="李四", side="respondent", phone="13687654321"),
    ]
    dispute = services.dispute_create(
        actor=city.worker_a, title="楼上漏水纠纷", facts="申请人家天花板因楼上卫生间渗水发霉，要求维修并赔偿。",
        unit=city.grid_a, parties=parties, field="neighbours", amount_fen=800_000, room=room,
    )
    services.dispute_assign(actor=city.worker_a, dispute=dispute, mediator=mediator)
    services.threat_record(actor=city.worker_a, dispute=dispute, note="申请人情绪激动")
    other = services.dispute_create(
        actor=city.worker_a, title="噪音扰民纠纷", facts="夜间噪音。", unit=city.grid_a, parties=parties, field="neighbours", room=room
    )
    services.dispute_assign(actor=city.worker_a, dispute=other, mediator=mediator)
    # Sessions this week: one earlier today-or-this-week (held), one later (scheduled).
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    for day, hour, d, status in ((monday, 9, dispute, SessionStatus.HELD), (today, 19, other, SessionStatus.SCHEDULED)):
        start = timezone.make_aware(datetime.combine(day, time(hour)))
        s = Session.objects.create(dispute=d, room=room, mediator=mediator, starts_at=start, ends_at=start + timedelta(hours=1), status=status,
                                   minutes="双方陈述了意见。" if status == SessionStatus.HELD else "")
        Attendance.objects.bulk_create([Attendance(session=s, party=p, role=p.get_side_display()) for p in d.parties.all()])
    screening.rounds_open()
    return {"user": user, "dispute": dispute, "other": other}


def _log_in(session: Any, username: str) -> None:
    session.goto("/accounts/login/")
    page = session.page
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_mediators_week_and_dispute_page(desktop: Any, mediation: dict[str, Any]) -> None:
    session = desktop
    page = session.page
    _log_in(session, "mediator_a")
    session.goto("/mediation/")
    assert page.locator("h1").inner_text() == "我的调解"
    slots = page.locator(".md-week .md-slot")
    assert slots.count() >= 1
    assert "噪音扰民纠纷" in page.locator(".md-week").inner_text()
    assert page.locator("table").first.is_visible()  # my disputes
    # The stylesheet is served and applied (the week is a grid on a desktop).
    assert page.evaluate("getComputedStyle(document.querySelector('.md-week')).display") == "grid"
    session.screenshot("mediation_week_desktop")
    session.assert_no_errors()

    dispute = mediation["dispute"]
    session.goto(f"/mediation/disputes/{dispute.pk}/")
    assert page.locator("h1").inner_text() == "楼上漏水纠纷"
    body = page.locator("main").inner_text()
    assert dispute.code in body and "139****5678" in body and "13912345678" not in body
    assert "各因素对得分的贡献" in body
    panel = page.locator("details.md-act", has_text="安排调解")
    panel.locator("summary").click()
    assert panel.locator("select[name=room]").is_visible()
    assert panel.locator("input[type=date]").is_visible()
    session.screenshot("mediation_dispute_desktop")
    session.assert_no_errors()

    # Schedule a session in the browser; a clash comes back as a form error beside the field.
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    panel.locator("input[name=day]").fill(day)
    panel.locator("input[name=start]").fill("09:00")
    panel.locator("input[name=end]").fill("10:00")
    panel.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已安排调解" in page.locator(".zc-messages").inner_text()
    assert Session.objects.filter(dispute=dispute, status=SessionStatus.SCHEDULED).count() == 1
    session.assert_no_errors()


def test_week_and_dispute_on_a_phone(phone: Any, mediation: dict[str, Any]) -> None:
    session = phone
    page = session.page
    _log_in(session, "mediator_a")
    session.goto("/mediation/")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    session.screenshot("mediation_week_phone")
    session.goto(f"/mediation/disputes/{mediation['dispute'].pk}/")
    assert page.locator("h1").inner_text() == "楼上漏水纠纷"
    assert page.locator("details.md-act summary").first.bounding_box()["height"] >= 44
    session.screenshot("mediation_dispute_phone")
    session.assert_no_errors()


def test_supervisor_boards(desktop: Any, mediation: dict[str, Any]) -> None:
    session = desktop
    page = session.page
    _log_in(session, "supervisor")
    session.goto("/mediation/risk/")
    assert "楼上漏水纠纷" in page.locator("main").inner_text()
    session.screenshot("mediation_risk_board")
    session.goto("/mediation/screening/")
    assert page.locator("meter").count() >= 2
    session.screenshot("mediation_coverage_board")
    session.assert_no_errors()
    assert Dispute.objects.count() == 2
