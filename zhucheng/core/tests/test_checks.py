from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.db import connection

from zhucheng.core.checks import autovacuum_on


class _Cursor:
    def __init__(self, value: str) -> None:
        self.value = value
        self.sql: list[str] = []

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def execute(self, sql: str) -> None:
        self.sql.append(sql)

    def fetchone(self) -> tuple[str]:
        return (self.value,)


class _Connection:
    vendor = "postgresql"

    def __init__(self, value: str) -> None:
        self.cur = _Cursor(value)

    def cursor(self) -> _Cursor:
        return self.cur


@pytest.mark.parametrize(("setting", "warned"), [("off", True), ("on", False)])
def test_autovacuum_off_is_a_deployment_warning(monkeypatch: pytest.MonkeyPatch, setting: str, warned: bool) -> None:
    fake = _Connection(setting)
    monkeypatch.setattr("zhucheng.core.checks.connections", {"default": fake})
    found = autovacuum_on(databases=["default"])
    assert fake.cur.sql == ["SHOW autovacuum"]
    assert [m.id for m in found] == (["core.W001"] if warned else [])
    if warned:
        assert found[0].level == checks.WARNING and "autovacuum = off" in found[0].msg


def test_only_deploy_checks_and_only_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    assert autovacuum_on in checks.registry.registry.get_checks(include_deployment_checks=True)
    assert autovacuum_on not in checks.registry.registry.get_checks(include_deployment_checks=False)
    sqlite = _Connection("off")
    sqlite.vendor = "sqlite"  # type: ignore[misc]
    monkeypatch.setattr("zhucheng.core.checks.connections", {"default": sqlite})
    assert autovacuum_on(databases=["default"]) == []
    assert sqlite.cur.sql == []


@pytest.mark.django_db
def test_reads_the_real_server_setting() -> None:
    found = autovacuum_on(databases=["default"])
    if connection.vendor != "postgresql":
        assert found == []
        return
    with connection.cursor() as cur:
        cur.execute("SHOW autovacuum")
        off = cur.fetchone()[0] == "off"
    assert [m.id for m in found] == (["core.W001"] if off else [])
