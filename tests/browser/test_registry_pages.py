"""The registry pages in a real browser: staff search a person, open the page (identifiers masked) and
reveal the full ID number with a reason; the resident then sees that read on their own page (on a
phone) and asks for a correction, which staff find in the queue. The console stays clean (a CSP
violation would show there). Screenshots land in var/screenshots/."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password

from zhucheng.accounts.models import User
from zhucheng.accounts.services import resident_username
from zhucheng.core.masking import mask_id_number
from zhucheng.core.models import AuditEvent
from zhucheng.registry import services
from zhucheng.registry.models import CorrectionRequest
from zhucheng.registry.tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # the root conftest's staff password
PHONE = "13912345678"


@pytest.fixture
def registry(city: Any) -> dict[str, Any]:
    b = f.building("a", plate="新华路18号")
    home = services.housing_unit_add(actor=None, building=b, number="1单元101")
    person = f.person(home, name="欧阳明珠", kind="migrant", since=f.today() - timedelta(days=700), phone=PHONE, male=False)
    spouse = f.person(home, name="欧阳建国", kind="migrant", since=f.today() - timedelta(days=700), phone="13987654321")
    services.household_create(actor=None, head=person, housing_unit=home)
    services.employment_start(actor=None, person=person, employer="贵州筑城大数据有限公司", occupation="数据分析师", from_date=date(2020, 1, 1))
    services.tenancy_register(
        actor=None, housing_unit=home, tenants=[person, spouse], landlord_name="某物业公司",
        start_date=f.today() - timedelta(days=300), end_date=f.today() + timedelta(days=10),
    )  # fmt: skip
    services.permit_issue(actor=None, permit=services.permit_apply(actor=None, person=person), issued_on=f.today() - timedelta(days=350))
    resident = User.objects.create(
        username=resident_username(PHONE), kind="resident", phone=PHONE, display_name="欧阳明珠", password=make_password(PASSWORD)
    )
    services.person_link_account(actor=city.worker_a, person=person, user=resident)
    person.refresh_from_db()
    return {"person": person, "resident": resident, "home": home}


def _log_in(session: Any, username: str) -> None:
    session.goto("/accounts/login/")
    page = session.page
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def _resident_log_in(session: Any) -> None:
    session.goto("/accounts/resident/login/")
    page = session.page
    page.fill("#id_phone", PHONE)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/resident/$"))


def test_staff_search_person_page_and_reveal_with_a_reason(desktop: Any, registry: dict[str, Any]) -> None:
    session = desktop
    page = session.page
    person = registry["person"]
    _log_in(session, "worker_a")
    session.goto("/registry/")
    assert page.locator("h1").inner_text() == "人员查询"
    page.fill("#id_q", "欧阳")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#results-h")
    assert page.url.removeprefix(session.base_url) == "/registry/"  # the query is posted, not in the URL
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    assert mask_id_number(person.id_number) in page.locator("table").inner_text()
    session.screenshot("registry_search_desktop")

    page.click("text=欧阳明珠")
    page.wait_for_url(re.compile(r"/registry/persons/\d+/$"))
    assert page.locator("h1").inner_text() == "欧阳明珠"
    content = page.content()
    assert person.id_number not in content and PHONE not in content
    assert page.locator("#masked-id_number").inner_text() == mask_id_number(person.id_number)
    # The stylesheet is served and applied (masked numbers in a monospace face).
    assert "monospace" in page.evaluate("getComputedStyle(document.querySelector('#masked-id_number')).fontFamily")
    session.screenshot("registry_person_desktop")

    details = page.locator("details.rg-reveal").first
    details.locator("summary").click()
    reason = details.locator("input[name=reason]")
    assert reason.get_attribute("required") is not None  # no reason, no reveal (the server refuses too)
    reason.fill("办理居住证签注,核对身份证")
    details.locator("button[type=submit]").click()
    page.wait_for_selector("#revealed-id_number")
    assert page.locator("#revealed-id_number").inner_text() == person.id_number
    assert "已记录" in page.locator("[role=status]").first.inner_text()
    assert PHONE not in page.content()  # only the number asked for
    session.screenshot("registry_person_revealed_desktop")
    event = AuditEvent.objects.get(act="registry.reveal_id")
    assert event.reason == "办理居住证签注,核对身份证" and event.object_id == str(person.pk)

    # The housing unit and the area pages.
    session.goto(f"/registry/units/{registry['home'].pk}/")
    assert "欧阳建国" in page.locator("main").inner_text()
    session.screenshot("registry_unit_desktop")
    session.goto("/registry/areas/")
    assert "门牌清楚" in page.locator("main").inner_text()
    session.screenshot("registry_area_desktop")
    session.goto("/registry/rentals/")
    assert "欧阳明珠" in page.locator("main").inner_text()
    session.assert_no_errors()


def test_resident_sees_who_read_the_record_and_asks_for_a_correction_on_a_phone(phone: Any, desktop: Any, registry: dict[str, Any], city: Any) -> None:
    person = registry["person"]
    services.person_reveal(actor=city.worker_a, person=person, field="id_number", reason="办理居住证签注,核对身份证")
    services.person_record_read(actor=city.grid_worker_a, person=person, purpose="入户走访")
    session = phone
    page = session.page
    _resident_log_in(session)
    session.goto("/registry/me/")
    assert page.locator("h1").inner_text() == "我的登记信息"
    reads = page.locator("section[aria-labelledby=reads-h] ul").inner_text()
    assert "李社区" in reads and "社区工作人员 · 中华社区" in reads and "办理居住证签注,核对身份证" in reads
    assert "张网格" in reads and "入户走访" in reads
    assert person.id_number not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    session.screenshot("registry_me_phone")

    page.locator("section[aria-labelledby=corr-h] details summary").click()
    page.select_option("#id_field", "ethnicity")
    page.fill("#id_requested_value", "苗族")
    page.fill("#id_reason", "本人为苗族,登记时填错,附户口簿")
    page.locator("section[aria-labelledby=corr-h] button[type=submit]").click()
    page.wait_for_selector(".zc-msg--success")
    assert "待处理" in page.locator("section[aria-labelledby=corr-h]").inner_text()
    session.screenshot("registry_me_correction_phone")
    session.assert_no_errors()

    # Staff find it in the queue and accept it with a reason; the resident's page then says so.
    staff = desktop
    _log_in(staff, "worker_a")
    staff.goto("/registry/corrections/")
    assert "本人为苗族" in staff.page.locator("main").inner_text()
    staff.page.locator("section[aria-labelledby=pending-h] table a.btn").first.click()
    staff.page.wait_for_url(re.compile(r"/registry/corrections/\d+/$"))
    staff.page.check("input[name=decision][value=accept]")
    staff.page.fill("#id_reason", "已核对户口簿,予以更正")
    staff.screenshot("registry_correction_decide_desktop")
    staff.page.click("form.form-stack button[type=submit]")
    staff.page.wait_for_url(re.compile(r"/registry/corrections/$"))
    assert CorrectionRequest.objects.get().state == "accepted"
    staff.assert_no_errors()
    session.goto("/registry/me/")
    assert "已核对户口簿,予以更正" in page.locator("section[aria-labelledby=corr-h]").inner_text()
