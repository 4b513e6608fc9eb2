"""Rate limits (429 with Retry-After) and idempotent submissions: a retry never makes a second appeal, even concurrently."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from zhucheng.appeals.models import Appeal
from zhucheng.core.models import AuditEvent, IdempotentRequest
from zhucheng.open311 import keys, ratelimit
from zhucheng.open311.models import ServiceRequest

from .conftest import BASE, Keyed, error_codes, json_of, lamp_post, post

# --- rate limits -----------------------------------------------------------------------------------


def test_parse_rate() -> None:
    assert ratelimit.parse_rate("60/min") == ratelimit.Rate(60, 60)
    assert ratelimit.parse_rate("100/10s") == ratelimit.Rate(100, 10)
    assert ratelimit.parse_rate(" 5 / hour ") == ratelimit.Rate(5, 3600)
    assert ratelimit.parse_rate("") is None and ratelimit.parse_rate("0") is None and ratelimit.parse_rate("0/min") is None
    for bad in ("lots", "5/fortnight", "-1/min", "/min"):
        with pytest.raises(ValueError):
            ratelimit.parse_rate(bad)


def test_fixed_window_counts_and_resets(db: Any) -> None:
    rate = ratelimit.Rate(2, 60)
    t0 = 1_800_000_000.0  # the start of a window (divisible by 60)
    assert ratelimit.hit("t", rate, now=t0) == 0
    assert ratelimit.hit("t", rate, now=t0 + 1) == 0
    assert ratelimit.hit("t", rate, now=t0 + 20) == 40  # seconds left in the window
    assert ratelimit.hit("t", rate, now=t0 + 60) == 0  # a new window
    assert ratelimit.hit("t", None, now=t0) == 0


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_per_key_limit_answers_429_with_retry_after(city: Any, api: Keyed, settings: Any, fmt: str) -> None:
    settings.ZHUCHENG_OPEN311_RATE = {"key": "2/min", "ip": "1000/min"}
    client = Client()
    for i in range(2):
        assert post(client, fmt, lamp_post(api.key, phone=f"1391234567{i}", description=f"路灯 {i} 不亮")).status_code == 200
    response = post(client, fmt, lamp_post(api.key, phone="13912345679", description="路灯 9 不亮"))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    [(code, description)] = error_codes(response, fmt)
    assert code == 429 and response["Retry-After"] in description
    assert Appeal.objects.count() == 2
    # Another key has its own budget; a client's own rate_limit overrides the default.
    _, other = keys.api_client_create(actor=None, name="另一个", rate_limit="100/min")
    assert post(client, fmt, lamp_post(other, phone="13912345678", description="路灯 8 不亮")).status_code == 200


def test_per_ip_limit_on_reads_and_on_keyless_posts(city: Any, settings: Any) -> None:
    settings.ZHUCHENG_OPEN311_RATE = {"key": "1000/min", "ip": "3/min"}
    client = Client()
    for _ in range(3):
        assert client.get(f"{BASE}/services.json").status_code == 200
    blocked = client.get(f"{BASE}/requests.json")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) >= 1
    assert error_codes(blocked, "json")[0][0] == 429
    assert client.get(f"{BASE}/services.json", REMOTE_ADDR="10.0.0.9").status_code == 200
    # Guessing keys from the blocked address is limited too.
    assert post(client, "json", lamp_post("guess")).status_code == 429


def test_unlimited_when_configured_off(city: Any, settings: Any) -> None:
    settings.ZHUCHENG_OPEN311_RATE = {"key": "0", "ip": ""}
    for _ in range(20):
        assert Client().get(f"{BASE}/services.json").status_code == 200


# --- idempotency -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_same_idempotency_key_twice_gives_one_appeal_and_the_same_answer(city: Any, api: Keyed, fmt: str) -> None:
    first = post(Client(), fmt, lamp_post(api.key), HTTP_IDEMPOTENCY_KEY="retry-1")
    again = post(Client(), fmt, lamp_post(api.key), HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and again["Idempotent-Replayed"] == "true"
    assert again["Open311-Token"] == first["Open311-Token"]
    assert Appeal.objects.count() == 1 and ServiceRequest.objects.count() == 1
    assert AuditEvent.objects.filter(act="open311.request_create").count() == 1


def test_same_key_with_another_body_is_refused(city: Any, api: Keyed) -> None:
    assert post(Client(), "json", lamp_post(api.key), HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    other = post(Client(), "json", lamp_post(api.key, description="完全不同的诉求。"), HTTP_IDEMPOTENCY_KEY="k")
    assert other.status_code == 400 and "Idempotency-Key" in error_codes(other, "json")[0][1]
    assert Appeal.objects.count() == 1


def test_a_refused_attempt_frees_the_key(city: Any, api: Keyed) -> None:
    bad = post(Client(), "json", lamp_post(api.key, **{"attribute[fault_type]": None}), HTTP_IDEMPOTENCY_KEY="fix-me")
    assert bad.status_code == 400 and not IdempotentRequest.objects.exists()
    good = post(Client(), "json", lamp_post(api.key), HTTP_IDEMPOTENCY_KEY="fix-me")
    assert good.status_code == 200 and Appeal.objects.count() == 1


def test_device_id_and_request_id_make_a_key(city: Any, api: Keyed) -> None:
    data = lamp_post(api.key, device_id="phone-7", request_id="r-1")
    first, again = post(Client(), "json", data), post(Client(), "json", data)
    assert first.content == again.content and again["Idempotent-Replayed"] == "true"
    other_request = post(Client(), "json", lamp_post(api.key, device_id="phone-7", request_id="r-2"))
    assert other_request.status_code == 200
    # A different request id is a different report, even with the same text.
    assert Appeal.objects.count() == 2


def test_identical_body_without_key_is_a_retry(city: Any, api: Keyed) -> None:
    first = post(Client(), "json", lamp_post(api.key))
    again = post(Client(), "json", lamp_post(api.key))
    assert json_of(first) == json_of(again) and first["Open311-Token"] == again["Open311-Token"]
    assert Appeal.objects.count() == 1
    assert post(Client(), "json", lamp_post(api.key, description="另一处路灯不亮。")).status_code == 200
    assert Appeal.objects.count() == 2


def _race(requests: list[dict[str, Any]]) -> list[Any]:
    """Send the requests at the same moment from separate threads (each with its own DB connection)."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def send(i: int, spec: dict[str, Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = post(Client(), "json", spec["data"], **spec.get("headers", {}))
        except Exception as exc:  # surfaced by the assertions below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i, spec)) for i, spec in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("headers", [{"HTTP_IDEMPOTENCY_KEY": "same-moment"}, {}], ids=["idempotency-key", "no-key"])
def test_two_concurrent_identical_requests_make_one_appeal(city: Any, headers: dict[str, str]) -> None:
    _, key = keys.api_client_create(actor=None, name="并发客户端")
    results = _race([{"data": lamp_post(key), "headers": headers}, {"data": lamp_post(key), "headers": headers}])
    assert all(not isinstance(r, Exception) for r in results), results
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 200], [r.content for r in results]
    assert json_of(results[0]) == json_of(results[1])
    assert Appeal.objects.count() == 1 and ServiceRequest.objects.count() == 1


def test_still_running_answers_409_with_retry_after(city: Any, api: Keyed, monkeypatch: Any) -> None:
    from zhucheng.core.idempotency import StillRunning
    from zhucheng.open311 import views

    def running(**kwargs: Any) -> Any:
        raise StillRunning(kwargs["key"])

    monkeypatch.setattr(views, "run_once", running)
    response = post(Client(), "xml", lamp_post(api.key), HTTP_IDEMPOTENCY_KEY="slow")
    assert response.status_code == 409 and response["Retry-After"] == "1"
    assert error_codes(response, "xml")[0][0] == 409
    assert not Appeal.objects.exists()
