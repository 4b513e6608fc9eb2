"""Encrypted personal fields: storage, lookup by keyed hash, refused lookups, key rotation."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import translation

from zhucheng.accounts.models import User
from zhucheng.core.crypto import decrypt, encrypt, keyed_hash
from zhucheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    # Assertions read the Chinese source strings of command output.
    with translation.override("zh-hans"):
        yield


KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def raw_phone(user: User) -> str:
    """The stored column, read past the field's decryption."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT phone FROM {User._meta.db_table} WHERE id = %s", [user.pk])  # noqa: S608
        return str(cur.fetchone()[0])


def make_user(username: str, phone: str) -> User:
    return User.objects.create(username=username, phone=phone)


def test_round_trip_stores_ciphertext_only() -> None:
    user = make_user("u1", "13800138000")
    stored = raw_phone(user)
    assert "13800138000" not in stored
    assert decrypt(stored) == "13800138000"
    assert User.objects.get(pk=user.pk).phone == "13800138000"
    assert User.objects.values_list("phone", flat=True).get(pk=user.pk) == "13800138000"


def test_same_value_encrypts_differently_each_time() -> None:
    assert encrypt("13800138000") != encrypt("13800138000")


def test_lookup_by_keyed_hash_normalises() -> None:
    user = make_user("u1", "13800138000")
    make_user("u2", "13900139000")
    assert user.phone_hash == keyed_hash("13800138000")
    assert list(User.objects.filter(phone_hash=keyed_hash("138 0013 8000"))) == [user]
    assert list(User.objects.filter(phone_hash=keyed_hash("138-0013-8000"))) == [user]


def test_hash_cleared_with_the_value() -> None:
    user = make_user("u1", "13800138000")
    user.phone = ""
    user.save()
    user.refresh_from_db()
    assert user.phone == ""
    assert user.phone_hash == ""


@pytest.mark.parametrize("lookup", ["phone", "phone__exact", "phone__contains", "phone__startswith", "phone__in"])
def test_filtering_on_the_encrypted_field_is_refused(lookup: str) -> None:
    value = ["13800138000"] if lookup.endswith("__in") else "13800138000"
    with pytest.raises(TypeError, match="phone_hash"):
        User.objects.filter(**{lookup: value})


def test_isnull_is_allowed() -> None:
    make_user("u1", "13800138000")
    assert User.objects.filter(phone__isnull=False).count() == 1


def run_rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def test_rotate_keys_moves_every_value_to_the_newest_key() -> None:
    with override_settings(ZHUCHENG_KEYS=[KEY_A]):
        users = [make_user(f"u{i}", f"1380013800{i}") for i in range(5)]
        empty = make_user("nophone", "")
        before = {u.pk: raw_phone(u) for u in users}
        hashes = {u.pk: u.phone_hash for u in users}

    with override_settings(ZHUCHENG_KEYS=[KEY_B, KEY_A]):
        output = run_rotate("--batch-size", "2")
        assert "accounts.user.phone:重新加密 5 个,已是最新密钥 0 个,无法解密 0 个" in output
        after = {u.pk: raw_phone(u) for u in users}
        assert all(after[pk] != before[pk] for pk in before)
        # Ran again: nothing left to rotate, nothing rewritten.
        again = run_rotate()
        assert {u.pk: raw_phone(u) for u in users} == after
        assert "accounts.user.phone:重新加密 0 个,已是最新密钥 5 个,无法解密 0 个" in again

    with override_settings(ZHUCHENG_KEYS=[KEY_B]):
        for i, user in enumerate(users):
            fresh = User.objects.get(pk=user.pk)
            assert fresh.phone == f"1380013800{i}"
            assert fresh.phone_hash == hashes[user.pk]  # the keyed hash does not depend on Fernet keys
        assert User.objects.get(pk=empty.pk).phone == ""

    with override_settings(ZHUCHENG_KEYS=[KEY_A]), pytest.raises(ValueError):
        User.objects.get(pk=users[0].pk)


def test_rotate_keys_writes_one_audit_event_without_values() -> None:
    with override_settings(ZHUCHENG_KEYS=[KEY_A]):
        make_user("u1", "13800138000")
    with override_settings(ZHUCHENG_KEYS=[KEY_B, KEY_A]):
        run_rotate()
    events = list(AuditEvent.objects.filter(act="core.rotate_keys"))
    assert len(events) == 1
    event = events[0]
    assert event.changed_fields == ["accounts.user.phone"]
    flat = " ".join(str(getattr(event, f.attname)) for f in AuditEvent._meta.concrete_fields)
    assert "13800138000" not in flat
    assert KEY_A not in flat and KEY_B not in flat


def test_dry_run_changes_nothing() -> None:
    with override_settings(ZHUCHENG_KEYS=[KEY_A]):
        user = make_user("u1", "13800138000")
        before = raw_phone(user)
    with override_settings(ZHUCHENG_KEYS=[KEY_B, KEY_A]):
        output = run_rotate("--dry-run")
    assert raw_phone(user) == before
    assert not AuditEvent.objects.filter(act="core.rotate_keys").exists()
    assert "accounts.user.phone:重新加密 1 个,已是最新密钥 0 个,无法解密 0 个" in output


def test_undecryptable_values_make_the_command_fail_after_rotating_the_rest() -> None:
    from django.core.management.base import CommandError

    with override_settings(ZHUCHENG_KEYS=[KEY_A]):
        good = make_user("u1", "13800138000")
    with override_settings(ZHUCHENG_KEYS=[Fernet.generate_key().decode()]):
        lost = make_user("u2", "13900139000")
    with override_settings(ZHUCHENG_KEYS=[KEY_B, KEY_A]):
        lost_before = raw_phone(lost)
        with pytest.raises(CommandError, match="1 个值无法"):
            run_rotate()
        assert User.objects.get(pk=good.pk).phone == "13800138000"
        assert raw_phone(lost) == lost_before
    with override_settings(ZHUCHENG_KEYS=[KEY_B]):
        assert User.objects.get(pk=good.pk).phone == "13800138000"


def test_saving_the_value_without_its_hash_field_is_refused() -> None:
    user = make_user("u1", "13800138000")
    user.phone = "13900139000"
    with pytest.raises(ValueError, match="phone_hash"):
        user.save(update_fields=["phone"])
    user.save(update_fields=["phone", "phone_hash"])
    user.refresh_from_db()
    assert user.phone == "13900139000"
    assert user.phone_hash == keyed_hash("13900139000")
    user.display_name = "x"
    user.save(update_fields=["display_name"])  # other fields alone are fine
