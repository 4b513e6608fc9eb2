"""The care pages in a real browser: a grid worker records a visit on a phone-sized viewport (from the overdue
list to the saved visit, the next due date moving on); the metrics page draws its ECharts chart with the
sensitive category suppressed; the console stays clean. Screenshots land in var/screenshots/."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from zhucheng.care import services
from zhucheng.care.models import CareCategory, CarePlan, Questionnaire, Sensitivity, Visit
from zhucheng.registry.generate import make_id_number
from zhucheng.registry.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # the root conftest's staff password


@pytest.fixture
def care_world(city: Any) -> dict[str, Any]:
    q = Questionnaire.objects.create(code="ELD", name="老年人需求评估", medium_from=3, high_from=7,
                                     questions=[{"text": "是否独居", "choices": [["否", 0], ["是", 3]]}])
    elderly = CareCategory.objects.create(code="empty_nest", name="空巢老人", questionnaire=q)
    CareCategory.objects.create(code="mental", name="严重精神障碍患者", sensitivity=Sensitivity.SENSITIVE)
    start = timezone.localdate() - timedelta(days=50)
    person = Person.objects.create(name="李奶奶", id_number=make_id_number("520102", date(1940, 3, 1), 11), sex="F", birth_date=date(1940, 3, 1), unit=city.grid_a)
    consent = services.ConsentInput(given_by="self", given_on=start, form="written", withdrawal_method="致电居委会")
    e = services.enrolment_create(actor=None, person=person, category=elderly, consent=consent, carer=city.grid_worker_a, enrolled_on=start,
                                  situation="老人独居")
    return {"enrolment": e}


def _log_in(session: Any, username: str) -> None:
    session.goto("/accounts/login/")
    page = session.page
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_grid_worker_records_a_visit_on_a_phone(phone: Any, care_world: dict[str, Any]) -> None:
    session = phone
    page = session.page
    e = care_world["enrolment"]
    _log_in(session, "grid_a")
    session.goto("/care/")
    assert page.locator("h1").inner_text() == "我的走访"
    card = page.locator(".cards .card", has_text="李奶奶").first
    assert card.is_visible()
    session.screenshot("care_home_phone")
    card.locator("a").click()
    page.wait_for_url(re.compile(rf".*/care/enrolments/{e.pk}/visit/$"))
    # One column, no horizontal scrolling, big touch targets.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    submit = page.locator("form.cr-visit button[type=submit]")
    assert submit.bounding_box()["height"] >= 44
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#id_situation')).fontSize)") >= 16
    page.locator("label", has_text="电话问候").click()
    page.fill("#id_situation", "电话问候，老人说腿有点疼，已提醒按时吃药")
    page.fill("#id_needs", "想请社区医生上门看看")
    page.fill("#id_follow_up", "联系社区卫生服务中心")
    session.screenshot("care_visit_form_phone")
    submit.click()
    page.wait_for_url(re.compile(r".*/care/$"))
    assert "走访已记录" in page.locator(".zc-messages").inner_text()
    v = Visit.objects.get(enrolment=e)
    assert v.kind == "phone" and v.visited_on == timezone.localdate() and not v.on_time
    assert CarePlan.objects.get(enrolment=e).next_due_on > timezone.localdate()
    assert "李奶奶" not in page.locator("main").inner_text().split("七天内到期")[0]  # no longer in the overdue section
    session.screenshot("care_home_after_visit_phone")
    session.assert_no_errors()


def test_metrics_chart(desktop: Any, care_world: dict[str, Any]) -> None:
    session = desktop
    page = session.page
    _log_in(session, "worker_a")
    session.goto("/care/metrics/")
    assert "关爱统计" in page.locator("h1").inner_text()
    page.wait_for_selector("#care-chart canvas")
    table = page.locator("#enrolled-table").inner_text()
    assert "严重精神障碍患者" in table and "<5" in table
    session.screenshot("care_metrics_desktop")
    session.assert_no_errors()
