"""The audit trail: ``audit_record`` appends one chained ``AuditEvent``; ``audit_verify`` checks the chain.

Each row's hash is SHA-256 over its canonical content and the previous row's hash, so a
changed, removed or inserted row breaks the chain from that row on. Rows are appended
under a lock (PostgreSQL advisory lock; SQLite's IMMEDIATE transactions serialise writers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import context
from .context import acting_user
from .models import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 7_305_120_611  # arbitrary constant for pg_advisory_xact_lock


def _canonical(event: AuditEvent) -> str:
    payload = {
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "act": event.act,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changed_fields": list(event.changed_fields or []),
        "reason": event.reason,
        "request_id": event.request_id,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event).encode("utf-8")).hexdigest()


def _stored_ip(ip: str | None) -> str | None:
    """The IP as the database will hand it back, so the hash covers what is stored.

    IPv6 text is normalised on save (``2001:0DB8::0001`` becomes ``2001:db8::1``) and an empty
    string becomes NULL; hashing the raw value made such rows fail verification.
    """
    if not ip:
        return None
    try:
        return AuditEvent._meta.get_field("ip").to_python(ip) or None
    except ValidationError:
        return None  # not an address: refusing it would lose the act, storing it would fail on PostgreSQL


def _object_ref(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    if isinstance(obj, models.Model):
        return obj._meta.label_lower, str(obj.pk)
    if isinstance(obj, tuple) and len(obj) == 2:
        return str(obj[0]), str(obj[1])
    raise TypeError("audit object must be a model instance or a (type, id) pair")


_TIP_SQL = f"SELECT hash FROM {AuditEvent._meta.db_table} ORDER BY id DESC LIMIT 1"  # noqa: S608 - a table name


def audit_record(
    *,
    actor: Any,
    act: str,
    obj: Any = None,
    changed_fields: Iterable[str] = (),
    reason: str = "",
) -> AuditEvent:
    """Append one audit event (inside the caller's transaction when there is one).

    ``act`` is namespaced (``places.unit_create``); ``changed_fields`` lists field names,
    never values; request id and IP come from the current request context.
    """
    object_type, object_id = _object_ref(obj)
    ctx = context.current()
    actor_obj = acting_user(actor)
    # No savepoint inside the caller's transaction: a failed append fails the act with it.
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            # The chain's tip, read after the lock (its own statement, so its own snapshot).
            cur.execute(_TIP_SQL)
            row = cur.fetchone()
        last = row[0] if row else None
        event = AuditEvent(
            occurred_at=timezone.now(),
            actor=actor_obj,
            actor_label=(actor_obj.get_username() if actor_obj else (str(actor) if actor else "system"))[:150],
            act=act,
            object_type=object_type,
            object_id=object_id,
            changed_fields=sorted(set(changed_fields)),
            reason=reason,
            request_id=ctx.request_id if ctx else "",
            ip=_stored_ip(ctx.ip) if ctx else None,
            prev_hash=last or GENESIS,
        )
        event.hash = compute_hash(event)
        event.save()
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    problem: str
    code: str = ""  # "link": a row removed or inserted before this one; "content": this row altered


def audit_verify(batch_size: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the chain in id order; return (rows checked, first break or None)."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not rows:
            return checked, None
        for event in rows:
            if event.prev_hash != prev:
                return checked, ChainBreak(event.id, _("与上一条记录的摘要不衔接(之前有记录被删除或插入)"), code="link")
            if compute_hash(event) != event.hash:
                return checked, ChainBreak(event.id, _("内容与其摘要不符(记录被改动)"), code="content")
            prev = event.hash
            checked += 1
            last_id = event.id
