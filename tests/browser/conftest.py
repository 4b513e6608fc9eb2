"""Fixtures for the browser tests: headless Debian Chromium driven by Playwright against live_server.

Chromium is the system package (/usr/bin/chromium, ``apt-get install chromium``): Playwright's
own browser download needs a host this platform cannot reach. Without it the tests skip, except
under CI (``CI=true``) where a missing browser is a failure, not a silent pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM = Path(os.environ.get("ZHUCHENG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install chromium (and fonts-noto-cjk for Chinese glyphs)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse ORM
    # calls from the test body; the calls are in fact synchronous, so allow them here only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield launched
            launched.close()
            # While Playwright's loop runs, asgiref gives this thread's ORM its own context-local
            # connections, not the ones pytest-django closes before dropping the test database
            # (e.g. the reference data reloaded after the last browser test): close them here.
            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Session:
    """One browser page on the live server, with the console errors it collected."""

    page: Any
    base_url: str
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def assert_no_errors(self) -> None:
        assert self.errors == [], "browser console errors (CSP violations show up here):\n" + "\n".join(self.errors)


def _open(browser: Any, live_server: Any, viewport: dict[str, int]) -> Iterator[Session]:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    session = Session(page=page, base_url=live_server.url)
    page.on("console", lambda msg: session.errors.append(f"console.error: {msg.text} at {msg.location.get('url', '')}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: session.errors.append(f"pageerror: {exc}"))
    try:
        yield session
    finally:
        context.close()


@pytest.fixture
def desktop(browser: Any, live_server: Any) -> Iterator[Session]:
    yield from _open(browser, live_server, DESKTOP)


@pytest.fixture
def phone(browser: Any, live_server: Any) -> Iterator[Session]:
    yield from _open(browser, live_server, PHONE)

