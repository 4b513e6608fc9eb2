"""The public request list cache: answers kept per PostgreSQL snapshot, never stale, bounded, bypassed where unsafe."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from zhucheng.appeals.models import Appeal
from zhucheng.open311 import keys, listcache

from .conftest import BASE, json_of, lamp_post, post


def _list_queries(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "appeals_appeal" in q["sql"]]


def _requires_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the snapshot cache works on PostgreSQL only")


@pytest.fixture
def fresh_cache(settings: Any) -> Any:
    settings.ZHUCHENG_OPEN311_LIST_CACHE_MB = 8
    cache = listcache.list_cache()
    assert cache is not None
    cache.clear()
    return cache


# --- the LRU itself --------------------------------------------------------------------------------


def test_lru_is_bounded_in_bytes_and_keeps_the_recent() -> None:
    cache = listcache.SnapshotCache(max_bytes=1000)
    for n in range(5):
        cache.put(n, listcache.Entry(b"x" * 240, f'"{n}"'))
    assert cache.get(0) is None  # 5 × 240 > 1000: the oldest went
    assert cache.get(4) is not None
    cache.put("huge", listcache.Entry(b"y" * 600, '"h"'))  # over a quarter of the budget: not kept
    assert cache.get("huge") is None


def test_concurrent_misses_of_one_key_render_once() -> None:
    cache = listcache.SnapshotCache(max_bytes=10_000)
    calls: list[int] = []

    def render() -> bytes:
        calls.append(1)
        time.sleep(0.2)
        return b"answer"

    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_render("k", render).body)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == [b"answer"] * 4
    assert len(calls) == 1


def test_a_failed_render_is_not_kept_and_the_next_one_runs() -> None:
    cache = listcache.SnapshotCache(max_bytes=10_000)

    def broken() -> bytes:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cache.get_or_render("k", broken)
    assert cache.get("k") is None and not cache._rendering
    assert cache.get_or_render("k", lambda: b"fine").body == b"fine"


# --- on the database ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_same_snapshot_is_served_from_the_cache_and_any_commit_refreshes_it(city: Any, fresh_cache: Any) -> None:
    _requires_postgresql()
    _, key = keys.api_client_create(actor=None, name="缓存客户端")
    client = Client()
    created = json_of(post(client, "json", lamp_post(key)))[0]["service_request_id"]

    first = client.get(f"{BASE}/requests.json")
    assert [r["service_request_id"] for r in json_of(first)] == [created]
    with CaptureQueriesContext(connection) as ctx:
        again = client.get(f"{BASE}/requests.json")
    assert again.content == first.content
    assert _list_queries(ctx) == [], "an unchanged database must not be queried again"
    assert again["ETag"] == first["ETag"]

    # A write that no signal or hook sees (a bare UPDATE) still shows at once.
    Appeal.objects.filter(code=created).update(description="路灯已修好，描述已更新。")
    updated = json_of(client.get(f"{BASE}/requests.json"))
    assert updated[0]["description"] == "路灯已修好，描述已更新。"

    # A new request: the very next GET lists it.
    second = json_of(post(client, "json", lamp_post(key, description="另一盏路灯也不亮。")))[0]["service_request_id"]
    listed = [r["service_request_id"] for r in json_of(client.get(f"{BASE}/requests.json"))]
    assert listed == [second, created]

    # Format and language are part of the key.
    xml = client.get(f"{BASE}/requests.xml")
    assert xml["Content-Type"] == "text/xml; charset=utf-8" and second.encode() in xml.content
    english = client.get(f"{BASE}/requests.json", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get(f"{BASE}/requests.json")
    assert json_of(english)[0]["service_name"] != json_of(chinese)[0]["service_name"]
    assert fresh_cache.hits >= 1


@pytest.mark.django_db(transaction=True)
def test_etag_answers_304_and_no_cache_renders_again(city: Any, fresh_cache: Any) -> None:
    _requires_postgresql()
    _, key = keys.api_client_create(actor=None, name="缓存客户端")
    client = Client()
    post(client, "json", lamp_post(key))
    first = client.get(f"{BASE}/requests.json")
    assert first.status_code == 200 and first["ETag"].startswith('"')
    not_modified = client.get(f"{BASE}/requests.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304 and not_modified.content == b""
    weak_in_a_list = client.get(f"{BASE}/requests.json", HTTP_IF_NONE_MATCH=f'"other", W/{first["ETag"]}')
    assert weak_in_a_list.status_code == 304
    assert client.get(f"{BASE}/requests.json", HTTP_IF_NONE_MATCH='"other"').status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        forced = client.get(f"{BASE}/requests.json", HTTP_CACHE_CONTROL="no-cache")
    assert forced.content == first.content and _list_queries(ctx)


@pytest.mark.django_db(transaction=True)
def test_a_second_of_the_default_window_is_one_key_and_a_new_request_is_inside_it(city: Any, fresh_cache: Any) -> None:
    _requires_postgresql()
    _, key = keys.api_client_create(actor=None, name="缓存客户端")
    client = Client()
    client.get(f"{BASE}/requests.json")  # cache the empty list
    code = json_of(post(client, "json", lamp_post(key)))[0]["service_request_id"]
    assert [r["service_request_id"] for r in json_of(client.get(f"{BASE}/requests.json"))] == [code]


def test_inside_a_transaction_nothing_is_cached(city: Any, api: Any, fresh_cache: Any) -> None:
    """Tests and ATOMIC_REQUESTS run in a transaction whose own writes no snapshot names: always render."""
    client = Client()
    post(client, "json", lamp_post(api.key))
    assert listcache.snapshot() is None
    client.get(f"{BASE}/requests.json")
    code = json_of(post(client, "json", lamp_post(api.key, description="第二盏路灯。")))[0]["service_request_id"]
    assert json_of(client.get(f"{BASE}/requests.json"))[0]["service_request_id"] == code
    assert fresh_cache.hits == 0


@pytest.mark.django_db(transaction=True)
def test_off_when_configured_zero_or_on_sqlite(city: Any, settings: Any) -> None:
    settings.ZHUCHENG_OPEN311_LIST_CACHE_MB = 0
    assert listcache.list_cache() is None
    response = Client().get(f"{BASE}/requests.json")
    assert response.status_code == 200 and response["ETag"]
    settings.ZHUCHENG_OPEN311_LIST_CACHE_MB = 8
    if connection.vendor == "sqlite":
        assert listcache.snapshot() is None
    else:
        assert listcache.snapshot() is not None
