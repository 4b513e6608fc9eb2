"""Fuzzing the interface's parameters: whatever a client sends, the answer is never a 5xx nor an unexpected failure.

"Unexpected" is checked as well as the status: the views turn a crash into the spec's 400
"general service error" and log it, so a logged error fails the test too.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from .conftest import BASE

TEXT = st.text(max_size=60) | st.sampled_from(
    ["", " ", "\x00", "nan", "inf", "-0", "1e309", "26.2", "106.1", "2026-05-01T08:00:00Z", "9999-12-31", "0001-01-01",
     "CG01", "cg01", "not_lit", "<b>x</b>", "GY2026-0000001", "open", "closed,open", "1", "0", "-1", "1001", "9" * 30]
)
FIELDS = st.sampled_from(
    ["service_code", "lat", "long", "address_string", "address_id", "email", "device_id", "account_id", "request_id",
     "first_name", "last_name", "phone", "description", "media_url", "jurisdiction_id", "attribute[fault_type]",
     "attribute[fault_type][]", "attribute[lamp_post_no]", "attribute[]", "attribute[x", "attribute[waste_kinds][]",
     "attribute[first_seen]", "attribute[area_m2]"]
)
QUERY_FIELDS = st.sampled_from(["service_request_id", "service_code", "start_date", "end_date", "status", "page", "page_size"])
PATHS = st.sampled_from(
    ["requests.json", "requests.xml", "servicerequestupdates.json", "services.json", "services/CG01.xml", "discovery.json",
     "requests/GY2026-0000001.json", "tokens/abc.xml"]
)


class FailOnError(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def watched() -> Any:
    handler = FailOnError()
    logger = logging.getLogger("zhucheng.open311")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_post_never_fails_unexpectedly(city: Any, api: Any, watched: Any) -> None:
    seen: Counter[int] = Counter()

    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        fields=st.dictionaries(FIELDS, st.lists(TEXT, min_size=1, max_size=3), max_size=8),
        key_choice=st.sampled_from(["good", "good", "bad", "none"]),
        service=st.sampled_from(["CG01", "CG04", "JT03", "SD03", "ZZ99", ""]),
        idem=st.one_of(st.none(), TEXT),
        fmt=st.sampled_from(["json", "xml"]),
    )
    # Each layer at least once, whatever the random draw: accepted, unknown service, no key, bad field.
    @example(fields={"attribute[fault_type]": ["not_lit"], "description": ["路灯不亮"]}, key_choice="good", service="CG01", idem=None, fmt="xml")
    @example(fields={}, key_choice="good", service="ZZ99", idem="k1", fmt="json")
    @example(fields={}, key_choice="none", service="CG01", idem=None, fmt="xml")
    @example(fields={"lat": ["nan"]}, key_choice="good", service="CG04", idem=None, fmt="json")
    def one(fields: dict[str, list[str]], key_choice: str, service: str, idem: str | None, fmt: str) -> None:
        data: dict[str, Any] = {"service_code": service, "lat": "26.2", "long": "106.1", "phone": "13912345678", **fields}
        if key_choice != "none":
            data["api_key"] = api.key if key_choice == "good" else "o311_wrong"
        headers = {"HTTP_IDEMPOTENCY_KEY": idem} if idem is not None else {}
        response = Client().post(f"{BASE}/requests.{fmt}", data, **headers)
        seen[response.status_code] += 1
        assert response.status_code in (200, 400, 403, 404, 409), (response.status_code, response.content[:300])
        assert not watched.records, [r.getMessage() for r in watched.records]

    one()
    # The fuzzing reached every layer: refusals of each kind and real submissions.
    assert seen[200] and seen[400] and seen[403] and seen[404], seen


def test_get_never_fails_unexpectedly(city: Any, api: Any, watched: Any) -> None:
    seen: Counter[int] = Counter()
    for i in range(3):  # something to list
        Client().post(f"{BASE}/requests.json", {"api_key": api.key, "service_code": "HJ01", "lat": "26.2", "long": "106.1",
                                                "phone": f"1391234567{i}", "description": f"噪音 {i}"})

    @settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(path=PATHS, query=st.dictionaries(QUERY_FIELDS, TEXT, max_size=5))
    @example(path="requests.json", query={})
    @example(path="requests.xml", query={"status": "pending"})
    def one(path: str, query: dict[str, str]) -> None:
        response = Client().get(f"{BASE}/{path}", query)
        seen[response.status_code] += 1
        assert response.status_code in (200, 400, 404), (response.status_code, response.content[:300])
        assert not watched.records, [r.getMessage() for r in watched.records]

    one()
    assert seen[200] and seen[400], seen
