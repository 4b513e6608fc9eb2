"""Every refusal, in the spec's error format: 404 missing, 403 api_key, 405 method, 400 everything else, never a 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from zhucheng.appeals.models import Appeal
from zhucheng.open311 import keys
from zhucheng.open311.models import ServiceRequest

from .conftest import BASE, IN_A, Keyed, error_codes, lamp_post, post

FORMATS = ["xml", "json"]


def refused(response: Any, fmt: str, status: int, *words: str) -> str:
    assert response.status_code == status, (response.status_code, response.content.decode())
    errors = error_codes(response, fmt)
    assert all(code == status for code, _ in errors)
    text = " ".join(d for _, d in errors)
    for word in words:
        assert word in text, text
    return text


@pytest.mark.parametrize("fmt", FORMATS)
def test_not_found(city: Any, fmt: str) -> None:
    client = Client()
    refused(client.get(f"{BASE}/services/ZZ99.{fmt}"), fmt, 404, "ZZ99")
    refused(client.get(f"{BASE}/services/CG.{fmt}"), fmt, 404)  # a group is not a service
    refused(client.get(f"{BASE}/requests/GY2000-0000001.{fmt}"), fmt, 404, "GY2000-0000001")
    refused(client.get(f"{BASE}/tokens/nope.{fmt}"), fmt, 404, "nope")
    refused(client.get(f"{BASE}/nothing-here.{fmt}"), fmt, 404)


def test_unknown_format_is_404(city: Any) -> None:
    for path in ("services.html", "requests.csv", "discovery.yaml", "services/CG01.txt"):
        response = Client().get(f"{BASE}/{path}")
        refused(response, "xml", 404)


def test_petitions_are_not_service_requests(city: Any, api: Keyed) -> None:
    from zhucheng.appeals import services

    petition = services.appeal_submit(
        actor=None, channel="letter", kind="petition", title="信访件", description="信访内容", category=None,
        lat=26.2, lon=106.1, petitioners=[services.PetitionerInput(name="甲", phone="13912345678")],
    ).appeal
    refused(Client().get(f"{BASE}/requests/{petition.code}.json"), "json", 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_method_not_allowed(city: Any, fmt: str) -> None:
    response = Client().put(f"{BASE}/requests.{fmt}")
    refused(response, fmt, 405, "PUT")
    assert response["Allow"] == "GET, HEAD, POST"
    refused(Client().post(f"{BASE}/services.{fmt}"), fmt, 405)


@pytest.mark.parametrize("fmt", FORMATS)
def test_api_key_missing_wrong_revoked(city: Any, api: Keyed, fmt: str) -> None:
    client = Client()
    refused(post(client, fmt, lamp_post("")), fmt, 403, "api_key")
    refused(post(client, fmt, {k: v for k, v in lamp_post("").items() if k != "api_key"}), fmt, 403, "api_key")
    refused(post(client, fmt, lamp_post(api.key + "x")), fmt, 403, "api_key")
    keys.api_client_revoke(actor=None, client=api.client)
    refused(post(client, fmt, lamp_post(api.key)), fmt, 403, "吊销")
    assert not Appeal.objects.exists()


def test_category_limited_key(city: Any) -> None:
    client, key = keys.api_client_create(actor=None, name="只报路灯", categories=["CG01"])
    refused(post(Client(), "json", lamp_post(key, service_code="HJ01", **{"attribute[fault_type]": None})), "json", 403, "HJ01")
    assert post(Client(), "json", lamp_post(key)).status_code == 200
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize("switched_off", ["service", "group"])
def test_an_inactive_service_or_group_is_unknown(city: Any, api: Keyed, switched_off: str) -> None:
    from zhucheng.appeals.models import Category

    service = Category.objects.get(code="CG01")
    target = service if switched_off == "service" else service.parent
    assert target is not None
    Category.objects.filter(pk=target.pk).update(is_active=False)
    refused(post(Client(), "json", lamp_post(api.key)), "json", 404, "CG01")
    refused(Client().get(f"{BASE}/services/CG01.json"), "json", 404, "CG01")
    assert "CG01" not in Client().get(f"{BASE}/services.json").content.decode()
    assert not Appeal.objects.exists()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"service_code": None}, ["service_code"]),
        ({"lat": None, "long": None}, ["位置"]),
        ({"long": None}, ["lat", "long"]),
        ({"lat": "north"}, ["lat"]),
        ({"lat": "nan"}, ["lat"]),
        ({"lat": "95", "long": "106.1"}, ["lat"]),
        ({"lat": "39.9", "long": "116.4"}, ["不在本市"]),
        ({"description": "字" * 4001}, ["4000"]),
        ({"description": "路灯坏了 <b>快修</b>"}, ["HTML"]),
        ({"description": "路灯坏了 <!-- x -->"}, ["HTML"]),
        ({"description": "路灯\x00坏了"}, ["控制字符"]),
        ({"media_url": "javascript:alert(1)"}, ["media_url"]),
        ({"media_url": "ftp://example.org/a.jpg"}, ["media_url"]),
        ({"email": "not-an-email"}, ["email"]),
        ({"phone": "12345"}, ["手机号"]),
        ({"address_id": "0000", "lat": None, "long": None}, ["address_id"]),
        ({"attribute[fault_type]": None}, ["fault_type"]),
        ({"attribute[fault_type]": "exploded"}, ["fault_type", "not_lit"]),
        ({"attribute[fault_type][]": ["not_lit", "flickering"], "attribute[fault_type]": None}, ["只能填写一个值"]),
        ({"attribute[colour]": "red"}, ["colour"]),
        ({"attribute[]": "x"}, ["attribute"]),
        ({"attribute[lamp_post_no]": "LD\n0231"}, ["lamp_post_no"]),
        ({"first_name": "王" * 31}, ["first_name"]),
        ({"device_id": "a\nb"}, ["device_id"]),
    ],
)
def test_bad_submissions(city: Any, api: Keyed, change: dict[str, Any], words: list[str]) -> None:
    for fmt in FORMATS:
        refused(post(Client(), fmt, lamp_post(api.key, **change)), fmt, 400, *words)
    assert not Appeal.objects.exists() and not ServiceRequest.objects.exists()


def test_bad_attribute_datatypes(city: Any, api: Keyed) -> None:
    base = {"api_key": api.key, **IN_A, "description": "问题描述", "phone": "13912345678"}
    refused(post(Client(), "json", {**base, "service_code": "JT03", "attribute[damage_type]": "pothole",
                                    "attribute[area_m2]": "big"}), "json", 400, "area_m2")
    refused(post(Client(), "json", {**base, "service_code": "JT03", "attribute[damage_type]": "pothole",
                                    "attribute[area_m2]": "Infinity"}), "json", 400, "area_m2")
    refused(post(Client(), "json", {**base, "service_code": "CG04", "attribute[first_seen]": "yesterday"}), "json", 400, "first_seen")
    refused(post(Client(), "json", {**base, "service_code": "CG04", "attribute[waste_kinds][]": ["household", "gold"]}),
            "json", 400, "waste_kinds")
    assert not Appeal.objects.exists()


def test_several_problems_are_reported_together(city: Any, api: Keyed) -> None:
    response = post(Client(), "json", lamp_post(api.key, email="x", media_url="y", **{"attribute[fault_type]": "zz"}))
    assert len(error_codes(response, "json")) == 2
    response = post(Client(), "json", lamp_post(api.key, lat=None, long=None, **{"attribute[fault_type]": "zz"}))
    assert len(error_codes(response, "json")) == 2


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("start_date=yesterday", ["start_date"]),
        ("end_date=2026-13-45T00:00:00Z", ["end_date"]),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", ["90"]),
        ("start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z", ["start_date"]),
        ("status=pending", ["status"]),
        ("page=0", ["page"]),
        ("page=-1", ["page"]),
        ("page_size=1001", ["page_size"]),
        ("page_size=abc", ["page_size"]),
        ("start_date=0001-01-01T00:00:00%2B14:00", ["start_date"]),
        ("end_date=9999-12-31T23:59:59-12:00", ["日期"]),
    ],
)
def test_bad_queries(city: Any, query: str, words: list[str]) -> None:
    for fmt in FORMATS:
        response = Client().get(f"{BASE}/requests.{fmt}?{query}")
        refused(response, fmt, 400, *words)
    if "status" not in query:  # the updates extension takes the same dates and paging (and no status)
        refused(Client().get(f"{BASE}/servicerequestupdates.json?{query}"), "json", 400, *words)


def test_unexpected_failure_is_a_logged_400(city: Any, monkeypatch: Any, caplog: Any) -> None:
    from zhucheng.open311 import selectors

    def broken() -> Any:
        raise RuntimeError("database is on fire")

    monkeypatch.setattr(selectors, "services", broken)
    with caplog.at_level(logging.ERROR, logger="zhucheng.open311"):
        response = Client().get(f"{BASE}/services.json")
    refused(response, "json", 400)
    assert "database is on fire" not in response.content.decode()
    assert any("general service error" in r.getMessage() for r in caplog.records)


def test_malformed_body_is_400(city: Any, api: Keyed, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = Client().post(f"{BASE}/requests.json", {f"f{i}": "x" for i in range(10)})
    refused(response, "json", 400)


def test_contact_fields_are_optional_as_the_spec_says(city: Any, api: Keyed) -> None:
    """GeoReport v2 makes every contact field optional: a report without a phone is taken."""
    for fmt in FORMATS:
        response = post(Client(), fmt, lamp_post(api.key, phone=None, first_name=None, last_name=None))
        assert response.status_code == 200, response.content.decode()
