"""The appeal pages in a real browser: a resident submits on a phone and gets the tracking code; staff
work the inbox, the appeal page and the map. No request leaves the site (no tiles, no CDN) and
the console stays clean (a CSP violation would show there)."""

from __future__ import annotations

import importlib
import io
import re
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from zhucheng.appeals import services
from zhucheng.appeals.models import Appeal, Category, RoutingRule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # the root conftest's staff password


@pytest.fixture(autouse=True)
def reference_data(transactional_db: Any) -> None:
    """The category tree and deadline policies come from a data migration, which the flush after
    every transactional test removes; load them again. (``serialized_rollback`` cannot be relied on:
    the serialized copy lives on a per-context connection object that Playwright's event loop does
    not see when another test set the database up.)"""
    from django.apps import apps

    migration = importlib.import_module("zhucheng.appeals.migrations.0002_reference_data")
    migration.load(apps, None)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _outside_requests(session: Any) -> list[str]:
    seen: list[str] = []
    session.page.on("request", lambda req: seen.append(req.url) if not req.url.startswith((session.base_url, "data:", "blob:")) else None)
    return seen


def _log_in(session: Any, username: str) -> None:
    session.goto("/accounts/login/")
    page = session.page
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_resident_submits_on_a_phone_and_sees_the_code(phone: Any, city: Any) -> None:
    session = phone
    page = session.page
    outside = _outside_requests(session)
    session.goto("/appeals/submit/")
    assert page.locator("h1").inner_text() == "反映问题"
    # The point picker drew both communities' outlines on a blank map (no tiles).
    page.wait_for_selector("#point-picker[data-ready]")
    assert page.locator("#point-picker path.leaflet-interactive").count() == 2
    assert page.locator("#point-picker .leaflet-tile").count() == 0
    # Large type and touch targets on a phone.
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#id_title')).fontSize)") >= 16
    assert page.locator("form.form-stack button[type=submit]").bounding_box()["height"] >= 44

    page.fill("#id_title", "小区门口路灯不亮")
    page.fill("#id_description", "金东居委会门口的路灯坏了两个星期，晚上很黑。")
    page.locator("#point-picker path.leaflet-interactive").first.click(force=True)
    assert page.input_value("#id_lat") != "" and page.input_value("#id_lon") != ""
    assert page.input_value("#id_unit") != ""  # the tapped community is selected in the list too
    assert "已选位置" in page.locator("#picker-status").inner_text()
    page.set_input_files("#id_attachments", files=[{"name": "路灯.png", "mimeType": "image/png", "buffer": _png()}])
    page.fill("#id_name", "张阿姨")
    page.fill("#id_phone", "13912345678")
    page.check("#id_is_anonymous")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    session.screenshot("appeals_submit_phone")
    page.click("form.form-stack button[type=submit]")

    page.wait_for_url(re.compile(r"/appeals/submit/done/$"))
    appeal = Appeal.objects.get()
    code = page.locator("#tracking-code").inner_text()
    assert code == appeal.code
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#tracking-code')).fontSize)") >= 28
    assert appeal.channel == "portal" and appeal.attachments.count() == 1 and appeal.petitioners.get().is_anonymous
    session.screenshot("appeals_submit_done_phone")

    page.click("text=查看办理进度")
    page.wait_for_url(re.compile(rf"/appeals/track/{re.escape(code)}/$"))
    assert page.locator("h1").inner_text() == "小区门口路灯不亮"
    assert "提交诉求" in page.locator("ol.timeline").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    session.screenshot("appeals_track_phone")
    assert outside == []
    session.assert_no_errors()


@pytest.fixture
def work(city: Any) -> dict[str, Appeal]:
    lamp = Category.objects.get(code="CG01")
    RoutingRule.objects.create(category=lamp, department=city.department)

    def submit(title: str, phone: str, **kw: Any) -> Appeal:
        args: dict[str, Any] = {"lat": 26.2, "lon": 106.1, "description": f"{title}，请尽快处理。"}
        args.update(kw)
        return services.appeal_submit(
            actor=None, channel="hotline", title=title, petitioners=[services.PetitionerInput(name="王五", phone=phone)], **args
        ).appeal

    late = submit("井盖缺失很危险", "13700000001", category=lamp)
    Appeal.objects.filter(pk=late.pk).update(due_at=timezone.now().replace(year=timezone.now().year - 1))
    fresh = submit("路灯不亮", "13700000002", lat=26.3, lon=106.2)
    other = submit("威清社区噪音", "13700000003", lat=26.2, lon=106.4)
    return {"late": late, "fresh": fresh, "other": other}


def test_staff_inbox_detail_and_map(desktop: Any, city: Any, work: dict[str, Appeal]) -> None:
    session = desktop
    page = session.page
    outside = _outside_requests(session)
    _log_in(session, "worker_a")

    session.goto("/appeals/?tab=community")
    assert page.locator("h1").inner_text() == "诉求收件箱"
    rows = page.locator("table.appeal-table tbody tr")
    assert rows.count() == 2  # community B's appeal is not listed
    assert page.locator("tr.is-overdue").count() == 1
    assert work["late"].code in rows.first.inner_text()  # overdue first
    assert work["other"].code not in page.content()
    session.screenshot("appeals_inbox")

    page.click(f"text={work['late'].code}")
    page.wait_for_url(re.compile(rf"/appeals/{work['late'].pk}/$"))
    assert page.locator("h1").inner_text() == "井盖缺失很危险"
    assert "王*" in page.locator("section[aria-labelledby=people-h]").inner_text()
    assert "13700000001" not in page.content()
    # Decline without a reason: the service's message is shown on the field, the panel stays open.
    page.click("#act-decline summary")
    page.select_option("#id_decline-route", "court")
    page.click("#act-decline button[type=submit]")
    page.wait_for_selector("#act-decline[open] .field-error")
    assert "请填写不予受理理由。" in page.locator("#act-decline .field-error").inner_text()
    assert page.input_value("#id_decline-route") == "court"
    session.screenshot("appeals_detail_error")
    # Register it: the timeline gains the step.
    page.click("#act-register summary")
    page.fill("#id_register-note", "请住建局处理")
    page.click("#act-register button[type=submit]")
    page.wait_for_selector(".zc-msg--success")
    assert "受理" in page.locator("ol.timeline").inner_text()
    session.screenshot("appeals_detail")

    session.goto("/appeals/map/")
    page.wait_for_selector("#appeals-map[data-ready]")
    # worker_a's one grid plus the two located open appeals of community A.
    assert page.locator("#appeals-map path.leaflet-interactive").count() == 3
    assert page.locator("#appeals-map .leaflet-tile").count() == 0
    assert page.locator("#appeals-map a.leaflet-control-zoom-in").get_attribute("title") == "放大"
    session.screenshot("appeals_map")

    session.goto("/appeals/backlog/")
    assert page.locator("h1").inner_text() == "积案与督办"
    session.screenshot("appeals_backlog")
    session.goto("/appeals/search/?q=路灯")
    assert page.locator("table.appeal-table tbody tr").count() == 1
    assert page.locator("a", has_text="导出 CSV").count() == 1
    session.screenshot("appeals_search")
    assert outside == []
    session.assert_no_errors()
