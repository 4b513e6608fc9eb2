"""The pages as a person sees them: log in, home, the unit map and chart, English, a phone screen.

Each test also fails on any browser console error or uncaught exception, which is how a
Content-Security-Policy violation (an inline script, a CDN) shows up.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from zhucheng.places.models import Role
from zhucheng.places.services import membership_grant, unit_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Zhucheng-Browser-2024"


def _square(lon: float, lat: float, size: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]],
    }


@pytest.fixture
def hierarchy(django_user_model: Any) -> dict[str, Any]:
    """City → district → community → residents' committee → two grids, each with a rectangle."""
    city = unit_create(actor=None, code="5201", name="筑城市", kind="city", parent=None, boundary=_square(106.0, 26.0, 1.0))
    district = unit_create(actor=None, code="520102", name="南明区", kind="district", parent=city, boundary=_square(106.2, 26.2, 0.5))
    community = unit_create(actor=None, code="520102001", name="花果园社区", kind="community", parent=district, boundary=_square(106.3, 26.3, 0.2))
    committee = unit_create(actor=None, code="520102001001", name="花果园第一居委会", kind="residents_committee", parent=community, boundary=_square(106.32, 26.32, 0.1))
    grids = [
        unit_create(actor=None, code="520102001001001", name="第一网格", kind="grid", parent=committee, boundary=_square(106.32, 26.32, 0.05)),
        unit_create(actor=None, code="520102001001002", name="第二网格", kind="grid", parent=committee, boundary=_square(106.37, 26.32, 0.05)),
    ]
    user = django_user_model.objects.create_user(username="wangli", password=PASSWORD, display_name="王丽")
    membership_grant(actor=None, user=user, role=Role.COMMUNITY_STAFF, unit=community)
    return {"city": city, "district": district, "community": community, "committee": committee, "grids": grids, "user": user}


def _log_in(session: Any) -> None:
    session.goto("/accounts/login/")
    page = session.page
    page.fill("#id_username", "wangli")
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_staff_logs_in_and_sees_home_with_units(desktop: Any, hierarchy: dict[str, Any]) -> None:
    session = desktop
    session.goto("/accounts/login/")
    page = session.page
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text() == "工作人员登录"
    # The staff login page offers the resident login too.
    assert page.locator("a[href='/accounts/resident/login/']").count() >= 1
    session.screenshot("staff_login")

    _log_in(session)
    assert "筑城 · 社会治理平台" in page.title()
    assert page.locator(".zc-brand").inner_text() == "筑城 · 社会治理平台"
    assert page.locator(".zc-user__name").inner_text() == "王丽"
    assert "社区工作人员" in page.locator(".zc-user__roles").inner_text()
    assert page.locator("h1").inner_text() == "工作台"
    unit_link = page.get_by_role("link", name=re.compile("花果园社区"))
    assert unit_link.count() == 1
    # Cards from sections.links lead to the unit list and the staff list.
    assert page.locator(".card", has_text="区划与网格").count() == 1
    session.screenshot("staff_home")
    session.assert_no_errors()

    unit_link.click()
    page.wait_for_url(re.compile(rf"/places/units/{hierarchy['community'].pk}/$"))
    assert page.locator("h1").inner_text() == "花果园社区"


def test_unit_detail_draws_map_and_chart(desktop: Any, hierarchy: dict[str, Any]) -> None:
    session = desktop
    _log_in(session)
    page = session.page
    committee = hierarchy["committee"]
    session.goto(f"/places/units/{committee.pk}/")

    # Breadcrumb: the ancestors the user may see are listed above the unit.
    crumbs = page.locator("nav.breadcrumb li").all_inner_texts()
    assert crumbs[-1] == "花果园第一居委会"
    assert "花果园社区" in crumbs
    assert "筑城市" in crumbs

    # Leaflet drew the committee and both grids as interactive SVG paths, with no tile layer.
    page.wait_for_function("document.querySelectorAll('#unit-map path.leaflet-interactive').length >= 3")
    assert page.locator("#unit-map path.leaflet-interactive").count() == 3
    assert page.locator("#unit-map .leaflet-tile").count() == 0
    assert page.locator("#unit-map a.leaflet-control-zoom-in").get_attribute("title") == "放大"

    # ECharts rendered its canvas inside the chart container, from the json_script data.
    page.wait_for_selector("#unit-chart canvas")
    assert page.locator("#unit-chart canvas").count() >= 1
    size = page.eval_on_selector("#unit-chart canvas", "c => [c.width, c.height]")
    assert size[0] > 100
    assert size[1] > 100
    # The counts table shows translated kind labels, not codes.
    rows = page.locator("#counts-table tbody tr").all_inner_texts()
    assert any("网格" in r and "2" in r for r in rows), rows
    assert not any("residents_committee" in r for r in rows), rows

    # The children list links to each grid.
    assert page.locator("section", has_text="下级单元").get_by_role("link", name=re.compile("第一网格")).count() == 1
    session.screenshot("unit_detail")
    session.assert_no_errors()

    # On a phone the map and the chart stack and still fit the screen width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    session.screenshot("unit_detail_phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Clicking a grid on the map opens that grid's page.
    page.locator("#unit-map path.leaflet-interactive").last.click(force=True)
    page.wait_for_url(re.compile(r"/places/units/\d+/$"))
    assert page.locator("h1").inner_text() in {"第一网格", "第二网格"}
    session.assert_no_errors()


def test_unit_list_filters_and_edit_form_errors(desktop: Any, hierarchy: dict[str, Any]) -> None:
    session = desktop
    _log_in(session)
    page = session.page
    session.goto("/places/units/")
    assert page.locator("table tbody tr").count() == 4  # community, committee, two grids
    page.select_option("#f-kind", "grid")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"kind=grid"))
    assert page.locator("table tbody tr").count() == 2
    assert page.locator("a[href='/places/units/export.csv']").count() == 1
    session.screenshot("unit_list")

    session.goto("/places/staff/")
    row = page.locator("table tbody tr", has_text="wangli")
    assert row.count() == 1
    assert "社区工作人员" in row.inner_text()
    assert "花果园社区" in row.inner_text()
    assert page.locator("a[href='/places/staff/export.csv']").count() == 1
    session.screenshot("staff_list")

    session.goto(f"/places/units/{hierarchy['community'].pk}/edit/")
    page.fill("#id_name", "")
    page.fill("#id_reason", "")
    page.fill("#id_boundary", "{not json")
    page.click("form.form-stack button[type=submit]")
    page.wait_for_selector(".field-error")
    # Errors sit next to their fields and say so in words, not only in red.
    boundary_error = page.locator(".field--error", has=page.locator("#id_boundary")).locator(".field-error").inner_text()
    assert "错误" in boundary_error
    assert "JSON" in boundary_error
    assert page.locator(".field--error", has=page.locator("#id_name")).count() == 1
    color = page.eval_on_selector(".field-error", "e => getComputedStyle(e).color")
    assert color == "rgb(176, 0, 32)"
    session.screenshot("unit_edit_errors")
    session.assert_no_errors()


def test_language_switch_to_english(desktop: Any, hierarchy: dict[str, Any]) -> None:
    session = desktop
    _log_in(session)
    page = session.page
    page.click("form.zc-lang button[value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".zc-brand").inner_text() == "Zhucheng · Social Governance Platform"
    assert page.locator("h1").inner_text() == "Workbench"
    assert "Community staff" in page.locator(".zc-user__roles").inner_text()
    assert page.locator("nav.zc-nav").get_by_role("link", name="Places and grids").count() == 1
    session.screenshot("staff_home_en")

    session.goto(f"/places/units/{hierarchy['committee'].pk}/")
    page.wait_for_selector("#unit-chart canvas")
    assert page.locator("#map-h").inner_text() == "Boundary map"
    assert page.locator("#unit-map a.leaflet-control-zoom-in").get_attribute("title") == "Zoom in"
    assert any("Grid" in r for r in page.locator("#counts-table tbody tr").all_inner_texts())
    session.screenshot("unit_detail_en")

    # And back to Chinese with the same switch.
    page.click("form.zc-lang button[value=zh-hans]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#map-h").inner_text() == "边界地图"
    session.assert_no_errors()


def test_resident_pages_on_a_phone(phone: Any, hierarchy: dict[str, Any]) -> None:
    session = phone
    page = session.page
    session.goto("/accounts/resident/login/")
    assert page.locator("h1").inner_text() == "居民登录"
    base = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert base >= 16
    field = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#id_phone')).fontSize)")
    assert field >= 16  # also keeps iOS from zooming into the field
    # Touch targets: the submit button and the phone field are at least 44 px high.
    box = page.locator("form.form-stack button[type=submit]").bounding_box()
    assert box is not None
    assert box["height"] >= 44
    assert page.locator("#id_phone").bounding_box()["height"] >= 44
    # Nothing overflows the phone screen sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    session.screenshot("resident_login_phone")

    session.goto("/accounts/resident/register/")
    page.fill("#id_phone", "123")
    page.click("#send-code")
    page.wait_for_selector("#code-status .code-status--error")
    assert "错误" in page.locator("#code-status").inner_text()
    session.screenshot("resident_register_phone")
    session.assert_no_errors()


def test_error_page_is_translated(desktop: Any, hierarchy: dict[str, Any]) -> None:
    session = desktop
    _log_in(session)
    page = session.page
    response = session.goto("/places/units/999999/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "页面不存在"
    session.screenshot("error_404")


def test_resident_registers_with_sms_code_on_a_phone(phone: Any, settings: Any) -> None:
    """The htmx "send code" button posts with the CSRF header, then the form registers and logs in."""
    from zhucheng.accounts.sms import MemorySmsBackend

    settings.ZHUCHENG_SMS_BACKEND = "zhucheng.accounts.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    session = phone
    page = session.page
    session.goto("/accounts/resident/register/")
    page.fill("#id_phone", "13800138000")
    page.click("#send-code")
    page.wait_for_selector("#code-status .code-status--ok")
    assert "138****8000" in page.locator("#code-status").inner_text()
    # The button counts down so that nobody presses it again and again.
    assert page.locator("#send-code").is_disabled()
    assert len(MemorySmsBackend.outbox) == 1
    code = re.search(r"\b(\d{6})\b", MemorySmsBackend.outbox[0][1]).group(1)  # type: ignore[union-attr]

    page.fill("#id_code", code)
    page.fill("#id_display_name", "李阿姨")
    page.fill("#id_password", "Huaguoyuan-2024")
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/resident/$"))
    assert page.locator("h1").inner_text() == "我的"
    assert page.locator(".zc-user__name").inner_text() == "李阿姨"
    assert "138****8000" in page.locator("dl.facts").inner_text()
    assert "13800138000" not in page.content()
    assert page.locator(".zc-msg--success").inner_text() == "注册成功。"
    session.screenshot("resident_home_phone")
    session.assert_no_errors()


def test_repeated_wrong_passwords_show_the_lockout_page(desktop: Any, hierarchy: dict[str, Any], settings: Any) -> None:
    session = desktop
    page = session.page
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        session.goto("/accounts/login/")
        page.fill("#id_username", "wangli")
        page.fill("#id_password", "wrong-password")
        page.click("form.form-stack button[type=submit]")
        page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "账户已临时锁定"
    assert "15 分钟" in page.locator("main").inner_text()
    session.screenshot("locked_out")
