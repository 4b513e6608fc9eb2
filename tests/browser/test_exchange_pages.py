"""The exchange pages in a real browser: a department handler uploads a file and sees the batch's
summary and quarantined rows; a community worker decides a possible match with one key (A), then
sees the person's provenance; the reports draw their chart. Desktop and phone; the console stays
clean (a CSP violation would show there). Screenshots land in var/screenshots/."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from zhucheng.exchange.models import Feed, ReviewItem, ReviewState
from zhucheng.exchange.tests.conftest import (
    MAPPING,
    _fake_explain,
    _fake_link,
    _fake_person_frame,
    bad_check,
    csv_bytes,
    make_id,
    register,
    row,
    run,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # the root conftest's staff password


@pytest.fixture
def exchange(city: Any, monkeypatch: Any, settings: Any, tmp_path: Any) -> dict[str, Any]:
    from types import SimpleNamespace

    from zhucheng.exchange import linkage

    settings.MEDIA_ROOT = tmp_path / "media"
    profile = SimpleNamespace(name="person", thresholds=SimpleNamespace(certain=0.95, possible=0.5))
    monkeypatch.setattr(linkage, "load_profile", lambda name: profile, raising=False)
    monkeypatch.setattr(linkage, "link", _fake_link, raising=False)
    monkeypatch.setattr(linkage, "explain", _fake_explain, raising=False)
    monkeypatch.setattr(linkage, "person_frame", _fake_person_frame, raising=False)
    feed = Feed.objects.create(code="gaj-hj", name="公安户籍人口", department=city.department, mapping=MAPPING, schedule="每日 02:00", unit=city.grid_a)
    wang = register(city, "王芳", make_id(date(1978, 6, 5), 33, male=False), city.grid_a)
    zhang = register(city, "张伟", make_id(date(1985, 3, 7), 11), city.grid_a)
    run(feed, csv_bytes([row("王芳", make_id(date(1978, 6, 5), 77, male=False), born="1978-06-05"), row("张伟", zhang.id_number, phone="13811112222")]))
    return {"feed": feed, "wang": wang, "zhang": zhang, "item": ReviewItem.objects.get()}


def _log_in(session: Any, username: str) -> None:
    session.goto("/accounts/login/")
    page = session.page
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_upload_and_batch_page(desktop: Any, exchange: dict[str, Any], tmp_path: Any) -> None:
    session = desktop
    page = session.page
    _log_in(session, "handler")
    session.goto("/exchange/")
    assert "公安户籍人口" in page.locator("main").inner_text()
    session.screenshot("exchange_home_desktop")
    path = tmp_path / "户籍人口.csv"
    path.write_bytes(csv_bytes([row("赵磊", make_id(date(1992, 4, 18), 41)), row("钱芳", bad_check(make_id(date(1988, 1, 2), 52, male=False)))]))
    session.goto(f"/exchange/feeds/{exchange['feed'].pk}/upload/")
    page.set_input_files("input[type=file]", str(path))
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/exchange/batches/\d+/$"))
    body = page.locator("main").inner_text()
    assert "校验位" in body and "下载错误报告" in body
    assert page.locator(".ex-stats li").count() >= 6
    session.screenshot("exchange_batch_desktop")
    session.assert_no_errors()


def test_review_with_one_key(desktop: Any, exchange: dict[str, Any]) -> None:
    session = desktop
    page = session.page
    _log_in(session, "worker_a")
    session.goto("/exchange/review/")
    assert "王芳" in page.locator("main").inner_text()
    page.click("text=开始复核")
    page.wait_for_url(re.compile(r".*/exchange/review/\d+/$"))
    assert page.locator(".ex-waterfall tbody tr").count() >= 3
    assert page.locator(".ex-pair tr.ex-same").count() >= 1
    session.screenshot("exchange_review_desktop")
    page.locator("body").press("a")
    page.wait_for_url(re.compile(r".*/exchange/review/$"))
    assert "是同一人" in page.locator(".zc-messages").inner_text()
    item = exchange["item"]
    item.refresh_from_db()
    assert item.state == ReviewState.ACCEPTED
    session.goto(f"/exchange/persons/{exchange['zhang'].pk}/")
    assert "补充空缺" in page.locator("main").inner_text()
    session.screenshot("exchange_provenance_desktop")
    session.assert_no_errors()


def test_review_and_reports_on_a_phone(phone: Any, exchange: dict[str, Any]) -> None:
    session = phone
    page = session.page
    _log_in(session, "worker_a")
    session.goto(f"/exchange/review/{exchange['item'].pk}/")
    button = page.locator("#ex-decide button[data-key=a]")
    assert button.is_visible() and button.bounding_box()["height"] >= 44
    session.screenshot("exchange_review_phone")
    session.assert_no_errors()
    page.context.clear_cookies()
    _log_in(session, "handler")
    session.goto(f"/exchange/reports/?month={timezone.localdate():%Y-%m}")
    assert "月调度" in page.locator("main").inner_text()
    page.wait_for_selector("#ex-chart canvas")
    session.screenshot("exchange_reports_phone")
    session.assert_no_errors()
