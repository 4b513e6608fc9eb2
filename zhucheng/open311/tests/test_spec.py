"""GeoReport v2 as the spec shows it: each example exchange, in XML and in JSON, with the spec's element names and order."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from zhucheng.appeals import services as appeal_services
from zhucheng.appeals.models import Appeal, AppealEvent, Category, Status
from zhucheng.core.models import AuditEvent
from zhucheng.open311.models import RequestAttributeValue, ServiceRequest

from .conftest import BASE, IN_A, Keyed, error_codes, json_of, lamp_post, post, xml_of

# Element order of the spec's examples (GeoReport_v2, "Example response").
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"]
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible",
    "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
    "lat", "long", "media_url",
]
W3 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
FORMATS = ["xml", "json"]


def submit(key: str, **extra: Any) -> str:
    response = post(Client(), "json", lamp_post(key, **extra))
    assert response.status_code == 200, response.content.decode()
    return json_of(response)[0]["service_request_id"]


@pytest.mark.parametrize("path", ["/open311/v2/discovery", "/open311/discovery"])
def test_discovery(city: Any, path: str) -> None:
    client = Client()
    root = xml_of(client.get(f"{path}.xml"))
    assert root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert [c.tag for c in endpoint] == ["specification", "url", "changeset", "type", "formats"]
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2"
    assert endpoint.findtext("type") in ("production", "test")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    body = json_of(client.get(f"{path}.json"))
    assert list(body) == ["changeset", "contact", "key_service", "endpoints"]
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert body["changeset"] == root.findtext("changeset") and body["contact"]


def test_service_list(city: Any) -> None:
    client = Client()
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    services = root.findall("service")
    leaves = Category.objects.filter(parent__isnull=False, is_active=True).count()
    assert len(services) == leaves > 30
    lamp = next(s for s in services if s.findtext("service_code") == "CG01")
    assert [c.tag for c in lamp] == SERVICE_FIELDS
    assert lamp.findtext("service_name") == "路灯照明" and lamp.findtext("group") == "城市管理"
    assert lamp.findtext("metadata") == "true" and lamp.findtext("type") == "realtime"
    assert "Street lighting" in (lamp.findtext("keywords") or "")
    without = next(s for s in services if s.findtext("service_code") == "JY01")
    assert without.findtext("metadata") == "false"
    body = json_of(client.get(f"{BASE}/services.json"))
    assert isinstance(body, list) and len(body) == leaves
    first = next(s for s in body if s["service_code"] == "CG01")
    assert list(first) == SERVICE_FIELDS and first["metadata"] is True and first["service_name"] == "路灯照明"


def test_service_list_in_english_when_asked(city: Any) -> None:
    body = json_of(Client().get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9"))
    lamp = next(s for s in body if s["service_code"] == "CG01")
    assert lamp["service_name"] == "Street lighting" and lamp["group"] == "City management"
    chinese = json_of(Client().get(f"{BASE}/services.json"))
    assert next(s for s in chinese if s["service_code"] == "CG01")["service_name"] == "路灯照明"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(city: Any, fmt: str) -> None:
    response = Client().get(f"{BASE}/services/CG01.{fmt}")
    assert response.status_code == 200
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "service_definition" and [c.tag for c in root] == ["service_code", "attributes"]
        attributes = root.findall("attributes/attribute")
        assert [a.findtext("code") for a in attributes] == ["lamp_post_no", "fault_type"]
        fault = attributes[1]
        assert [c.tag for c in fault] == ATTRIBUTE_FIELDS
        assert fault.findtext("datatype") == "singlevaluelist" and fault.findtext("required") == "true"
        assert fault.findtext("variable") == "true" and fault.findtext("order") == "2"
        values = fault.findall("values/value")
        assert [(v.findtext("key"), v.findtext("name")) for v in values][0] == ("not_lit", "夜间不亮")
        assert [c.tag for c in values[0]] == ["key", "name"]
        # A string attribute carries no values element.
        assert [c.tag for c in attributes[0]] == ATTRIBUTE_FIELDS[:-1]
    else:
        body = json_of(response)
        assert body["service_code"] == "CG01"
        fault = body["attributes"][1]
        assert list(fault) == ATTRIBUTE_FIELDS and fault["required"] is True and fault["order"] == 2
        assert fault["values"][0] == {"key": "not_lit", "name": "夜间不亮"}
        assert body["attributes"][0]["datatype_description"].startswith("灯杆上")


def test_service_definition_without_attributes_and_informational_attribute(city: Any) -> None:
    empty = json_of(Client().get(f"{BASE}/services/JY01.json"))
    assert empty == {"service_code": "JY01", "attributes": []}
    root = xml_of(Client().get(f"{BASE}/services/SD03.xml"))
    assert root.findtext("attributes/attribute/variable") == "false"


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_service_request_as_in_the_spec_example(city: Any, api: Keyed, fmt: str) -> None:
    # The spec's example request, with this city's service, place and a mainland mobile number.
    data = {
        "api_key": api.key,
        "jurisdiction_id": "city.gov",
        "service_code": "CG01",
        **IN_A,
        "address_string": "中华北路 1234 号",
        "email": "smit333@example.org",
        "device_id": "tt222111",
        "account_id": "123456",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13912345678",
        "description": "路灯整晚不亮，\n晚上行人看不清路。",
        "media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
        "attribute[lamp_post_no]": "LD-0231",
        "attribute[fault_type]": "not_lit",
    }
    response = post(Client(), fmt, data)
    assert response.status_code == 200, response.content.decode()
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "service_requests"
        request = root.find("request")
        assert request is not None and [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
        code, notice, account = (request.findtext(t) for t in ("service_request_id", "service_notice", "account_id"))
    else:
        body = json_of(response)
        assert isinstance(body, list) and list(body[0]) == ["service_request_id", "service_notice", "account_id"]
        code, notice, account = body[0]["service_request_id"], body[0]["service_notice"], body[0]["account_id"]
    assert account == "123456"
    assert notice and "工作日" in notice
    appeal = Appeal.objects.get(code=code)
    assert appeal.channel == "open311" and appeal.category is not None and appeal.category.code == "CG01"
    assert appeal.grid == city.grid_a and appeal.address == "中华北路 1234 号"
    assert appeal.description == "路灯整晚不亮，\n晚上行人看不清路。"
    petitioner = appeal.petitioners.get()
    assert petitioner.name == "王小明" and petitioner.phone == "13912345678"
    extra = ServiceRequest.objects.get(appeal=appeal)
    assert extra.client == api.client and extra.media_url.endswith("5ed477a060.jpg") and extra.email == "smit333@example.org"
    assert extra.device_id == "tt222111" and response["Open311-Token"] == extra.token
    assert sorted(RequestAttributeValue.objects.filter(request=extra).values_list("code", "value")) == [
        ("fault_type", "not_lit"), ("lamp_post_no", "LD-0231"),
    ]
    audit = AuditEvent.objects.get(act="open311.request_create", object_id=str(appeal.pk))
    assert f"api_client={api.client.pk}" in audit.reason


def test_post_multivaluelist_number_and_datetime(city: Any, api: Keyed) -> None:
    data = {
        "api_key": api.key, "service_code": "CG04", **IN_A, "description": "楼下垃圾三天没人清运。", "phone": "13912345678",
        "attribute[waste_kinds][]": ["household", "bulky"], "attribute[first_seen]": "2026-05-01T08:00:00Z",
    }
    response = post(Client(), "json", data)
    assert response.status_code == 200, response.content.decode()
    extra = ServiceRequest.objects.get(appeal__code=json_of(response)[0]["service_request_id"])
    stored = sorted(extra.attribute_values.values_list("code", "value"))
    assert stored == [("first_seen", "2026-05-01T08:00:00+00:00"), ("waste_kinds", "bulky"), ("waste_kinds", "household")]
    number = post(Client(), "json", {
        "api_key": api.key, "service_code": "JT03", **IN_A, "description": "路面一个大坑。", "phone": "13912345679",
        "attribute[damage_type]": "pothole", "attribute[area_m2]": "1.5",
    })
    assert number.status_code == 200, number.content.decode()


def test_post_located_by_address_id_or_address_string(city: Any, api: Keyed) -> None:
    by_id = post(Client(), "json", lamp_post(api.key, lat=None, long=None, address_id=city.community_b.code))
    assert by_id.status_code == 200, by_id.content.decode()
    appeal = Appeal.objects.get(code=json_of(by_id)[0]["service_request_id"])
    assert appeal.unit == city.community_b and appeal.lat is None
    by_text = post(Client(), "json", lamp_post(api.key, lat=None, long=None, address_string="威清路 8 号", phone="13912345670"))
    assert by_text.status_code == 200, by_text.content.decode()
    appeal = Appeal.objects.get(code=json_of(by_text)[0]["service_request_id"])
    # Only the city's dispatchers can place a bare address: it goes to the city unit.
    assert appeal.unit == city.city and appeal.address == "威清路 8 号"


def test_post_without_description_gets_one(city: Any, api: Keyed) -> None:
    response = post(Client(), "json", lamp_post(api.key, description=None))
    assert response.status_code == 200, response.content.decode()
    appeal = Appeal.objects.get(code=json_of(response)[0]["service_request_id"])
    assert "路灯照明" in appeal.description and appeal.title


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_service_request(city: Any, api: Keyed, fmt: str) -> None:
    code = submit(api.key, media_url="https://img.example.org/1.jpg", address_string="中华北路 1 号")
    response = Client().get(f"{BASE}/requests/{code}.{fmt}")
    assert response.status_code == 200
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "service_requests"
        request = root.find("request")
        assert request is not None and [c.tag for c in request] == REQUEST_FIELDS
        row = {c.tag: c.text for c in request}
    else:
        body = json_of(response)
        assert len(body) == 1 and list(body[0]) == REQUEST_FIELDS
        row = body[0]
    assert row["service_request_id"] == code and row["status"] == "open"
    assert row["service_code"] == "CG01" and row["service_name"] == "路灯照明"
    assert row["description"] == "小区门口路灯整晚不亮，行人看不清路。"
    assert W3.match(row["requested_datetime"]) and W3.match(row["updated_datetime"]) and W3.match(row["expected_datetime"])
    assert row["address"] == "中华北路 1 号" and row["address_id"] == city.grid_a.code
    assert float(row["lat"]) == 26.2 and float(row["long"]) == 106.1
    assert row["media_url"] == "https://img.example.org/1.jpg"
    assert "受理" in row["service_notice"]
    if fmt == "json":
        assert row["zipcode"] is None and row["agency_responsible"] is None and isinstance(row["lat"], float)


def test_status_notes_agency_and_closed_status(city: Any, api: Keyed) -> None:
    code = submit(api.key)
    appeal = Appeal.objects.get(code=code)
    appeal_services.appeal_register(actor=None, appeal=appeal, note="已受理，转城管部门")
    appeal.refresh_from_db()
    appeal_services.appeal_assign(actor=None, appeal=appeal, department=city.department)
    row = json_of(Client().get(f"{BASE}/requests/{code}.json"))[0]
    assert row["status"] == "open" and row["agency_responsible"] == city.department.name
    assert row["status_notes"].startswith("交办")
    other = submit(api.key, phone="13912345600", description="另一盏路灯不亮。")
    declined = appeal_services.appeal_decline(actor=None, appeal=Appeal.objects.get(code=other), reason="该路段路灯属供电公司管理")
    row = json_of(Client().get(f"{BASE}/requests/{other}.json"))[0]
    assert row["status"] == "closed" and "供电公司" in row["status_notes"]
    assert row["expected_datetime"] is None
    assert row["updated_datetime"] == timezone.localtime(declined.closed_at).isoformat(timespec="seconds")


def test_get_requests_filters(city: Any, api: Keyed) -> None:
    client = Client()
    a = submit(api.key)
    b = submit(api.key, phone="13912345601", description="路灯闪烁。", **{"attribute[fault_type]": "flickering"})
    c = submit(api.key, service_code="HJ01", phone="13912345602", description="楼下装修噪音。", **{"attribute[fault_type]": None})
    old = submit(api.key, phone="13912345603", description="去年的路灯问题。")
    Appeal.objects.filter(code=old).update(submitted_at=timezone.now() - timedelta(days=120))
    appeal_services.appeal_decline(actor=None, appeal=Appeal.objects.get(code=b), reason="重复反映")

    def ids(query: str = "", fmt: str = "json") -> list[str]:
        response = client.get(f"{BASE}/requests.{fmt}" + (f"?{query}" if query else ""))
        assert response.status_code == 200, response.content.decode()
        if fmt == "xml":
            return [r.findtext("service_request_id") or "" for r in xml_of(response).findall("request")]
        return [r["service_request_id"] for r in json_of(response)]

    assert ids() == [c, b, a]  # the last 90 days, newest first
    assert ids(fmt="xml") == [c, b, a]
    assert ids("service_code=HJ01") == [c]
    assert ids("service_code=HJ01,CG01") == [c, b, a]
    assert ids("status=closed") == [b]
    assert ids("status=open") == [c, a]
    assert ids("status=open,closed") == [c, b, a]
    # service_request_id overrides every other argument, old ones included.
    assert sorted(ids(f"service_request_id={a},{old}&status=closed&service_code=HJ01")) == sorted([a, old])
    start = (timezone.now() - timedelta(days=130)).isoformat()
    end = (timezone.now() - timedelta(days=100)).isoformat()
    assert ids(f"start_date={start}&end_date={end}".replace("+", "%2B")) == [old]
    assert ids(f"start_date={start}".replace("+", "%2B")) == [old]
    assert ids("end_date=" + (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")) == []
    # Empty optional parameters are absent ones.
    assert ids("service_code=&status=&start_date=&end_date=&service_request_id=&page=&page_size=") == [c, b, a]
    assert ids("page_size=2") == [c, b] and ids("page_size=2&page=2") == [a] and ids("page_size=2&page=3") == []


def test_list_is_one_query_per_table_not_per_row(city: Any, api: Keyed, django_assert_max_num_queries: Any) -> None:
    for i in range(6):
        submit(api.key, phone=f"1391234570{i}", description=f"第 {i} 盏路灯不亮。")
    with django_assert_max_num_queries(4):
        response = Client().get(f"{BASE}/requests.json")
    assert len(json_of(response)) == 6


@pytest.mark.parametrize("fmt", FORMATS)
def test_token(city: Any, api: Keyed, fmt: str) -> None:
    response = post(Client(), "json", lamp_post(api.key), HTTP_IDEMPOTENCY_KEY="abc-123")
    token = response["Open311-Token"]
    code = json_of(response)[0]["service_request_id"]
    answer = Client().get(f"{BASE}/tokens/{token}.{fmt}")
    assert answer.status_code == 200
    if fmt == "xml":
        request = xml_of(answer).find("request")
        assert request is not None and [c.tag for c in request] == ["service_request_id", "token"]
        assert request.findtext("service_request_id") == code and request.findtext("token") == token
    else:
        assert json_of(answer) == [{"service_request_id": code, "token": token}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_updates(city: Any, api: Keyed, fmt: str) -> None:
    code = submit(api.key)
    appeal = Appeal.objects.get(code=code)
    appeal_services.appeal_register(actor=None, appeal=appeal, note="已受理")
    appeal.refresh_from_db()
    appeal_services.appeal_add_note(actor=None, appeal=appeal, text="内部备注：不要公开", is_public=False)
    response = Client().get(f"{BASE}/servicerequestupdates.{fmt}")
    assert response.status_code == 200
    fields = ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "service_request_updates"
        rows = [{c.tag: c.text for c in u} for u in root.findall("request_update")]
        assert all([c.tag for c in u] == fields for u in root.findall("request_update"))
    else:
        rows = json_of(response)
        assert all(list(r) == fields for r in rows)
    assert [r["service_request_id"] for r in rows] == [code]
    register = AppealEvent.objects.get(appeal=appeal, act="register")
    assert rows[0]["update_id"] == str(register.pk) and rows[0]["status"] == "open"
    assert rows[0]["description"] == "受理：已受理" and W3.match(rows[0]["updated_datetime"])
    assert "内部备注" not in response.content.decode()
    later = (timezone.now() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    empty = Client().get(f"{BASE}/servicerequestupdates.json?start_date={later}")
    assert json_of(empty) == []


def test_head_and_root(city: Any) -> None:
    assert Client().head(f"{BASE}/services.xml").status_code == 200
    root = Client().get("/open311/v2/")
    assert root.status_code == 302 and root["Location"].endswith("/open311/v2/discovery.xml")


def test_errors_have_both_formats(city: Any) -> None:
    for fmt in FORMATS:
        response = Client().get(f"{BASE}/services/NOPE.{fmt}")
        assert response.status_code == 404
        [(code, description)] = error_codes(response, fmt)
        assert code == 404 and "NOPE" in description


def test_replied_appeal_is_still_open(city: Any, api: Keyed) -> None:
    code = submit(api.key)
    appeal = Appeal.objects.get(code=code)
    Appeal.objects.filter(pk=appeal.pk).update(status=Status.REPLIED)
    assert json_of(Client().get(f"{BASE}/requests/{code}.json"))[0]["status"] == "open"
    Appeal.objects.filter(pk=appeal.pk).update(status=Status.CLOSED, closed_at=timezone.now())
    assert json_of(Client().get(f"{BASE}/requests/{code}.json"))[0]["status"] == "closed"


def test_third_party_posts_need_no_csrf_token(city: Any, api: Keyed) -> None:
    response = Client(enforce_csrf_checks=True).post(f"{BASE}/requests.json", lamp_post(api.key))
    assert response.status_code == 200, response.content.decode()


def test_answers_for_staff_pages(city: Any, api: Keyed) -> None:
    from zhucheng.open311.selectors import answers_for

    code = submit(api.key, **{"attribute[lamp_post_no]": "LD-9"})
    assert answers_for(Appeal.objects.get(code=code)) == [("灯杆编号", "LD-9"), ("故障情况", "夜间不亮")]


def test_service_attribute_validation(city: Any) -> None:
    from django.core.exceptions import ValidationError

    from zhucheng.open311.models import ServiceAttribute

    lamp = Category.objects.get(code="CG01")
    bad = [
        ServiceAttribute(category=lamp, code="a b", datatype="string", order=9, description="x"),
        ServiceAttribute(category=lamp, code="s", datatype="singlevaluelist", order=9, description="x", values=[]),
        ServiceAttribute(category=lamp, code="t", datatype="string", order=9, description="x", values=[{"key": "a", "name": "A"}]),
        ServiceAttribute(category=lamp, code="d", datatype="multivaluelist", order=9, description="x",
                         values=[{"key": "a", "name": "A"}, {"key": "a", "name": "B"}]),
        ServiceAttribute(category=lamp.parent, code="p", datatype="string", order=9, description="x"),
    ]
    for attribute in bad:
        with pytest.raises(ValidationError):
            attribute.full_clean()
    ServiceAttribute(category=lamp, code="ok", datatype="singlevaluelist", order=9, description="x",
                     values=[{"key": "a", "name": "A"}]).full_clean()
