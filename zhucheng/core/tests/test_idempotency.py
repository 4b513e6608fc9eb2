"""A retried write with the same key returns the first answer and runs the work once."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpResponse, JsonResponse

from zhucheng.core.idempotency import KeyReused, fingerprint, run_once
from zhucheng.core.models import IdempotentRequest


def test_retry_replays_the_first_answer(db: Any) -> None:
    calls: list[int] = []

    def produce() -> HttpResponse:
        calls.append(1)
        return JsonResponse({"n": len(calls)}, status=201)

    fp = fingerprint("POST", "/x", b"body")
    first = run_once(scope="t", key="k1", request_fingerprint=fp, produce=produce)
    again = run_once(scope="t", key="k1", request_fingerprint=fp, produce=produce)
    assert calls == [1]
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"


def test_same_key_other_request_is_refused(db: Any) -> None:
    run_once(scope="t", key="k2", request_fingerprint="a", produce=lambda: HttpResponse("ok"))
    with pytest.raises(KeyReused):
        run_once(scope="t", key="k2", request_fingerprint="b", produce=lambda: HttpResponse("other"))


def test_scopes_do_not_collide_and_failures_release_the_key(db: Any) -> None:
    run_once(scope="a", key="k", request_fingerprint="x", produce=lambda: HttpResponse("a"))
    assert run_once(scope="b", key="k", request_fingerprint="x", produce=lambda: HttpResponse("b")).content == b"b"
    bad = run_once(scope="c", key="k", request_fingerprint="x", produce=lambda: HttpResponse("no", status=400))
    assert bad.status_code == 400 and not IdempotentRequest.objects.filter(scope="c").exists()
    with pytest.raises(RuntimeError):
        run_once(scope="d", key="k", request_fingerprint="x", produce=lambda: (_ for _ in ()).throw(RuntimeError()))
    assert not IdempotentRequest.objects.filter(scope="d").exists()
    assert run_once(scope="c", key="k", request_fingerprint="x", produce=lambda: HttpResponse("fixed")).content == b"fixed"


def test_fingerprint_orders_pairs() -> None:
    assert fingerprint([("b", "2"), ("a", "1")]) == fingerprint([("a", "1"), ("b", "2")])
    assert fingerprint("x") != fingerprint("y")
