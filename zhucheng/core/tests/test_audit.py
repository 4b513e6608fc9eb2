"""The audit trail: chaining, verification (and the command), tamper detection, append-only guards, context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import translation

from zhucheng.accounts.models import User
from zhucheng.core import context
from zhucheng.core.audit import GENESIS, audit_record, audit_verify, compute_hash
from zhucheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    # Assertions read the Chinese source strings of command output.
    with translation.override("zh-hans"):
        yield


TABLE = AuditEvent._meta.db_table
TRIGGER = "core_auditevent_no_update_delete"


def make_chain(n: int = 5) -> list[AuditEvent]:
    return [
        audit_record(actor=None, act="tests.step", obj=("tests.thing", str(i)), changed_fields=["name"], reason=f"第 {i} 步")
        for i in range(n)
    ]


@contextmanager
def tampering_allowed() -> Iterator[None]:
    """On PostgreSQL switch the append-only trigger off (inside the test's transaction only)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")


def run_verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def test_chain_links_and_verifies() -> None:
    before = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    events = make_chain(5)
    assert events[0].prev_hash == (before or GENESIS)
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
        assert event.hash == compute_hash(event)
    total = AuditEvent.objects.count()
    assert audit_verify(batch_size=2) == (total, None)
    output = run_verify()
    assert f"已检查 {total} 条审计记录" in output
    assert "OK" in output


def test_empty_trail_verifies() -> None:
    assert audit_verify() == (AuditEvent.objects.count(), None)


def test_raw_update_is_refused_by_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL only")
    event = make_chain(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET reason = %s WHERE id = %s", ["改过", event.pk])  # noqa: S608
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.get(pk=event.pk).reason == event.reason


def test_altered_row_is_found() -> None:
    events = make_chain(5)
    victim = events[2]
    with tampering_allowed(), connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET reason = %s WHERE id = %s", ["改过的理由", victim.pk])  # noqa: S608
    checked, broken = audit_verify()
    assert broken is not None
    assert broken.event_id == victim.pk
    assert broken.code == "content"
    assert checked == AuditEvent.objects.filter(id__lt=victim.pk).count()
    with pytest.raises(CommandError, match=f"#{victim.pk}") as info:
        run_verify()
    assert info.value.returncode != 0


def test_deleted_middle_row_is_found() -> None:
    events = make_chain(5)
    with tampering_allowed(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE id = %s", [events[2].pk])  # noqa: S608
    _, broken = audit_verify()
    assert broken is not None
    assert broken.event_id == events[3].pk  # the row after the gap no longer links
    assert broken.code == "link"
    with pytest.raises(CommandError, match=f"#{events[3].pk}"):
        run_verify()


def test_orm_writes_are_refused() -> None:
    event = make_chain(1)[0]
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError), transaction.atomic():  # bulk_update's own atomic spoils the outer one
        AuditEvent.objects.bulk_update([event], ["reason"])
    fetched = AuditEvent.objects.get(pk=event.pk)
    fetched.reason = "x"
    with pytest.raises(PermissionError):
        fetched.save()
    with pytest.raises(PermissionError):
        fetched.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == event.reason
    assert audit_verify()[1] is None


def test_request_context_is_recorded() -> None:
    token = context.begin(ip="203.0.113.7", request_id="req-abc-12345")
    try:
        event = audit_record(actor=None, act="tests.ctx")
    finally:
        context.end(token)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.request_id, stored.ip) == ("req-abc-12345", "203.0.113.7")
    outside = audit_record(actor=None, act="tests.ctx")
    assert (outside.request_id, outside.ip) == ("", None)
    assert audit_verify()[1] is None


def test_ipv6_addresses_survive_the_round_trip() -> None:
    # The database normalises IPv6 text; the hash must be taken over the stored form.
    token = context.begin(ip="2001:0DB8:0000:0000:0000:0000:0000:0001", request_id="req-ipv6-0001")
    try:
        event = audit_record(actor=None, act="tests.ipv6")
    finally:
        context.end(token)
    assert AuditEvent.objects.get(pk=event.pk).ip == "2001:db8::1"
    assert audit_verify()[1] is None


def test_events_hold_field_names_never_values() -> None:
    from zhucheng.accounts.services import staff_create

    admin = User.objects.create(username="boss")
    token = context.begin(ip="198.51.100.2", request_id="req-staff-0001")
    try:
        user = staff_create(actor=admin, username="clerk", display_name="王小明", phone="13800138000")
    finally:
        context.end(token)
    event = AuditEvent.objects.get(act="accounts.staff_create", object_id=str(user.pk))
    assert event.actor_id == admin.pk
    assert event.request_id == "req-staff-0001"
    assert event.changed_fields == ["display_name", "username"]
    flat = " ".join(str(getattr(event, f.attname)) for f in AuditEvent._meta.concrete_fields)
    assert "13800138000" not in flat and "王小明" not in flat


def test_admin_shows_the_trail_read_only(admin_client) -> None:  # type: ignore[no-untyped-def]
    event = make_chain(1)[0]
    assert admin_client.get(reverse("admin:core_auditevent_changelist")).status_code == 200
    detail = admin_client.get(reverse("admin:core_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert admin_client.get(reverse("admin:core_auditevent_add")).status_code == 403
    assert admin_client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
