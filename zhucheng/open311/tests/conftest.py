"""Fixtures for the Open311 tests: a key, a clean rate-limit cache, and helpers to call the endpoints."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from zhucheng.open311 import keys
from zhucheng.open311.models import ApiClient

BASE = "/open311/v2"
IN_A = {"lat": "26.2", "long": "106.1"}  # inside grid_a of the conftest city
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _open311_settings(settings: Any) -> Any:
    # Generous limits unless a test sets its own; counters must not leak between tests.
    settings.ZHUCHENG_OPEN311_RATE = {"key": "10000/min", "ip": "10000/min"}
    cache.clear()
    yield
    cache.clear()


@dataclass
class Keyed:
    client: ApiClient
    key: str


@pytest.fixture
def api(city: Any) -> Keyed:
    client, key = keys.api_client_create(actor=None, name="测试客户端")
    return Keyed(client, key)


def lamp_post(key: str, **extra: Any) -> dict[str, Any]:
    """A valid POST for 路灯照明 (CG01) in grid_a."""
    data: dict[str, Any] = {
        "api_key": key,
        "service_code": "CG01",
        **IN_A,
        "description": "小区门口路灯整晚不亮，行人看不清路。",
        "phone": PHONE,
        "attribute[fault_type]": "not_lit",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def xml_of(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8", response["Content-Type"]
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own output


def json_of(response: Any) -> Any:
    assert response["Content-Type"] == "application/json; charset=utf-8", response["Content-Type"]
    return json.loads(response.content.decode("utf-8"))


def post(client: Client, fmt: str, data: dict[str, Any], **headers: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data, **headers)


def error_codes(response: Any, fmt: str) -> list[tuple[Any, str]]:
    """[(code, description)] from an error response in either format (and it must be one)."""
    if fmt == "json":
        body = json_of(response)
        assert isinstance(body, list) and body
        return [(e["code"], e["description"]) for e in body]
    root = xml_of(response)
    assert root.tag == "errors" and len(root)
    out = []
    for e in root:
        assert e.tag == "error" and [c.tag for c in e] == ["code", "description"]
        out.append((int(e.findtext("code") or 0), e.findtext("description") or ""))
    return out
