"""Resident registration with SMS codes, phone login, lock-out, password hashing, security headers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from zhucheng.accounts import services
from zhucheng.accounts.models import AccountKind, OneTimeCode, User
from zhucheng.accounts.sms import MemorySmsBackend
from zhucheng.core.crypto import keyed_hash

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("memory_sms")]

PHONE = "13912345678"


@pytest.fixture
def memory_sms(settings):
    settings.ZHUCHENG_SMS_BACKEND = "zhucheng.accounts.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()


def _last_code(outbox) -> str:
    match = re.search(r"(\d{6})", outbox[-1][1])
    assert match
    return match.group(1)


def test_register_with_code_then_login_by_phone(memory_sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone="139 1234 5678", purpose="register")
    assert memory_sms[-1][0] == PHONE
    code = _last_code(memory_sms)
    user = services.resident_register(phone=PHONE, password="qingshan-lvshui-42", code=code, display_name="刘翘楚")
    assert user.kind == AccountKind.RESIDENT
    assert user.phone == PHONE
    assert user.phone_hash == keyed_hash(PHONE)
    # stored encrypted, never as the plain number
    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
        raw = cur.fetchone()[0]
    assert PHONE not in raw
    assert identify_hasher(user.password).algorithm == "argon2"

    c = Client()
    response = c.post(reverse("accounts:resident_login"), {"phone": PHONE, "password": "qingshan-lvshui-42"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:resident_home")
    home = c.get(reverse("accounts:resident_home")).content.decode()
    assert "139****5678" in home and PHONE not in home


def test_code_is_single_use_and_expires(memory_sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone=PHONE, purpose="register")
    code = _last_code(memory_sms)
    assert services.otp_verify(phone=PHONE, purpose="register", code=code)
    assert not services.otp_verify(phone=PHONE, purpose="register", code=code)

    OneTimeCode.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone=PHONE, purpose="register")
    code = _last_code(memory_sms)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not services.otp_verify(phone=PHONE, purpose="register", code=code)


def test_wrong_codes_are_limited(memory_sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone=PHONE, purpose="register")
    code = _last_code(memory_sms)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(services.CODE_MAX_ATTEMPTS):
        assert not services.otp_verify(phone=PHONE, purpose="register", code=wrong)
    assert not services.otp_verify(phone=PHONE, purpose="register", code=code)


def test_resend_is_throttled_and_bad_phone_explained(memory_sms):
    services.otp_send(phone=PHONE, purpose="register")
    with pytest.raises(services.AccountError) as err:
        services.otp_send(phone=PHONE, purpose="register")
    assert err.value.field == "phone"
    with pytest.raises(services.AccountError) as err:
        services.otp_send(phone="12345", purpose="register")
    assert err.value.field == "phone"
    assert "11" in err.value.message


def test_register_refuses_wrong_code_and_duplicates(memory_sms, django_capture_on_commit_callbacks):
    with pytest.raises(services.AccountError) as err:
        services.resident_register(phone=PHONE, password="qingshan-lvshui-42", code="123456")
    assert err.value.field == "code"
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone=PHONE, purpose="register")
    services.resident_register(phone=PHONE, password="qingshan-lvshui-42", code=_last_code(memory_sms))
    with pytest.raises(services.AccountError) as err:
        services.resident_register(phone=PHONE, password="qingshan-lvshui-42", code="000000")
    assert err.value.field == "phone"
    assert User.objects.filter(kind=AccountKind.RESIDENT).count() == 1


def test_weak_password_is_refused_with_reason(memory_sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone=PHONE, purpose="register")
    with pytest.raises(services.AccountError) as err:
        services.resident_register(phone=PHONE, password="12345678", code=_last_code(memory_sms))
    assert err.value.field == "password"
    assert not User.objects.filter(kind=AccountKind.RESIDENT).exists()


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lock_out_after_repeated_failures():
    user = User(username="staff1", display_name="测试")
    user.set_password("correct-horse-battery")
    user.save()
    c = Client()
    for _ in range(3):
        c.post(reverse("accounts:login"), {"username": "staff1", "password": "wrong-password"})
    response = c.post(reverse("accounts:login"), {"username": "staff1", "password": "correct-horse-battery"})
    assert response.status_code == 429
    assert "_auth_user_id" not in c.session


def test_staff_login_and_logout_needs_post():
    user = User(username="staff2", display_name="测试")
    user.set_password("correct-horse-battery")
    user.save()
    c = Client()
    response = c.post(reverse("accounts:login"), {"username": "staff2", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert c.get(reverse("accounts:logout")).status_code == 405
    assert c.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in c.session


def test_security_headers_and_csrf():
    c = Client(enforce_csrf_checks=True)
    response = c.get(reverse("accounts:login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Request-ID"]
    assert response.cookies["csrftoken"]["httponly"]
    refused = c.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert refused.status_code == 403


def test_production_refuses_default_secrets(monkeypatch):
    import importlib

    import zhucheng.settings as settings_module

    monkeypatch.setenv("ZHUCHENG_ENV", "production")
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured) as err:
        importlib.reload(settings_module)
    assert "DJANGO_SECRET_KEY" in str(err.value)
    monkeypatch.setenv("ZHUCHENG_ENV", "development")
    importlib.reload(settings_module)
