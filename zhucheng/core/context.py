"""Per-request context (request id, client IP, acting user) for the audit trail."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("zhucheng_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def begin(ip: str | None = None, request_id: str | None = None) -> contextvars.Token[RequestContext | None]:
    return _current.set(RequestContext(request_id=request_id or uuid.uuid4().hex, ip=ip))


def end(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)


def acting_user(actor: Any) -> Any:
    """The user to record as having acted: ``None`` for the system, an anonymous or a missing actor."""
    return actor if getattr(actor, "is_authenticated", False) else None
