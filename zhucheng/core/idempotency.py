"""Idempotent writes: a retried POST with the same key gets the first answer and creates nothing.

Used by the REST API (``Idempotency-Key`` header) and Open311 (``device_id`` + the client's
request id). The first request claims the key in its own committed transaction before doing
the work, so a concurrent identical request sees the claim, waits for the answer and returns
it (or, if the first is still running after ``wait`` seconds, answers 409 and the client
retries). A failed first attempt (an error response, 4xx/5xx, or an exception) releases the
key so the client can correct and retry. Keys expire after ``ZHUCHENG_IDEMPOTENCY_DAYS`` (7).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from .models import IdempotentRequest

Producer = Callable[[], HttpResponse]


class KeyReused(Exception):
    """The key was used before for a different request."""


class StillRunning(Exception):
    """The first request with this key has not finished yet."""


def fingerprint(*parts: str | bytes | Iterable[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            digest.update(part.encode())
        elif isinstance(part, bytes):
            digest.update(part)
        else:
            for k, v in sorted(part):
                digest.update(f"{k}={v}&".encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _expired_before() -> datetime:
    return timezone.now() - timedelta(days=getattr(settings, "ZHUCHENG_IDEMPOTENCY_DAYS", 7))


def _replay(row: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type or None)
    response["Idempotent-Replayed"] = "true"
    return response


def run_once(*, scope: str, key: str, request_fingerprint: str, produce: Producer, wait: float = 10.0) -> HttpResponse:
    """Answer with ``produce()`` the first time, with the stored answer on every retry."""
    key = key.strip()[:200]
    IdempotentRequest.objects.filter(scope=scope, key=key, created_at__lt=_expired_before()).delete()
    try:
        with transaction.atomic():
            claim = IdempotentRequest.objects.create(scope=scope, key=key, fingerprint=request_fingerprint)
    except IntegrityError:
        deadline = time.monotonic() + wait
        while True:
            row = IdempotentRequest.objects.filter(scope=scope, key=key).first()
            if row is None:  # the first attempt failed and released the key: this one goes ahead
                return run_once(scope=scope, key=key, request_fingerprint=request_fingerprint, produce=produce, wait=wait)
            if row.fingerprint != request_fingerprint:
                raise KeyReused(key) from None
            if row.status:
                return _replay(row)
            if time.monotonic() >= deadline:
                raise StillRunning(key) from None
            time.sleep(0.05)
    try:
        response = produce()
    except BaseException:
        IdempotentRequest.objects.filter(pk=claim.pk).delete()
        raise
    if response.status_code >= 400:
        IdempotentRequest.objects.filter(pk=claim.pk).delete()
        return response
    body = response.content if not getattr(response, "streaming", False) else b""
    IdempotentRequest.objects.filter(pk=claim.pk).update(
        status=response.status_code, content_type=response.get("Content-Type", ""), body=body
    )
    return response
