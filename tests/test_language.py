"""Pages are Chinese first: the browser's Accept-Language does not switch them; the user's choice does."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def test_english_browser_still_gets_chinese(client: Any, db: Any) -> None:
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "工作人员登录" in page


def test_language_choice_switches_to_english(client: Any, db: Any) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "工作人员登录" not in page
    assert "Staff sign-in" in page or "Staff login" in page or "Sign in" in page


def test_lang_parameter_switches_one_page(client: Any, db: Any) -> None:
    assert "工作人员登录" not in client.get("/accounts/login/?lang=en").content.decode()
    assert "工作人员登录" in client.get("/accounts/login/").content.decode()
