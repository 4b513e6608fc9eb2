"""Fixed-window rate limits on Django's cache: per API key for POSTs, per client IP for reads.

``settings.ZHUCHENG_OPEN311_RATE`` = ``{"key": "60/min", "ip": "120/min"}`` (the defaults);
``ApiClient.rate_limit`` overrides the key limit for one client. A rate is ``N/sec|min|hour|day``;
empty or ``0`` means unlimited. With Redis (``REDIS_URL``) the counters are shared by every
worker; with the local-memory cache each worker process counts on its own.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

DEFAULT_RATES = {"key": "60/min", "ip": "120/min"}
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


def parse_rate(text: str | None) -> Rate | None:
    """``"60/min"`` → Rate(60, 60); ``"100/10s"`` → Rate(100, 10); empty or ``0`` → None (unlimited)."""
    text = (text or "").strip().lower()
    if not text or text == "0":
        return None
    match = _RATE.match(text)
    if not match or match.group(3) not in _PERIODS:
        raise ValueError(f"rate {text!r} is not N/period (period: sec, min, hour, day)")
    limit = int(match.group(1))
    if limit == 0:
        return None
    return Rate(limit, int(match.group(2) or 1) * _PERIODS[match.group(3)])


def configured(kind: str) -> Rate | None:
    rates = {**DEFAULT_RATES, **(getattr(settings, "ZHUCHENG_OPEN311_RATE", None) or {})}
    return parse_rate(rates.get(kind))


def hit(bucket: str, rate: Rate | None, *, now: float | None = None) -> int:
    """Count one request in ``bucket``; 0 if allowed, else the seconds until the window ends (Retry-After)."""
    if rate is None:
        return 0
    now = time.time() if now is None else now
    window = int(now // rate.period)
    key = f"open311:rl:{bucket}:{rate.period}:{window}"
    ttl = rate.period + 1
    # add() is a no-op when the counter exists; incr() is atomic in Redis and under locmem's lock.
    cache.add(key, 0, timeout=ttl)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=ttl)
        count = 1
    if count <= rate.limit:
        return 0
    return max(1, math.ceil((window + 1) * rate.period - now))
