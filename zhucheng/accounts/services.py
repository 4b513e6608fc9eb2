"""Account acts: resident registration, one-time codes, staff account creation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.crypto import keyed_hash
from zhucheng.core.identifiers import validate_mobile

from . import sms
from .models import AccountKind, OneTimeCode, User

CODE_TTL = timedelta(minutes=5)
CODE_MAX_ATTEMPTS = 5
CODE_RESEND_INTERVAL = timedelta(seconds=60)


class AccountError(Exception):
    """An account act refused, with a field and a translated message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _code_hash(phone_hash: str, code: str) -> str:
    return hmac.new(settings.ZHUCHENG_HASH_KEY.encode(), f"{phone_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def resident_username(phone: str) -> str:
    return "r_" + keyed_hash(phone)[:24]


def otp_send(*, phone: str, purpose: str) -> None:
    """Send a six-digit code to ``phone`` (refused if one was sent less than a minute ago)."""
    try:
        phone = validate_mobile(phone)
    except ValidationError as exc:
        raise AccountError("phone", exc.messages[0]) from exc
    phone_hash = keyed_hash(phone)
    now = timezone.now()
    recent = OneTimeCode.objects.filter(
        phone_hash=phone_hash, purpose=purpose, created_at__gte=now - CODE_RESEND_INTERVAL
    ).exists()
    if recent:
        raise AccountError("phone", _("验证码已发送,请一分钟后再试。"))
    code = f"{secrets.randbelow(1_000_000):06d}"
    OneTimeCode.objects.create(
        phone_hash=phone_hash, purpose=purpose, code_hash=_code_hash(phone_hash, code), expires_at=now + CODE_TTL
    )
    text = _("【筑城】您的验证码是 %(code)s,5 分钟内有效。如非本人操作请忽略。") % {"code": code}
    transaction.on_commit(lambda: sms.get_backend().send(phone, text))


def otp_verify(*, phone: str, purpose: str, code: str) -> bool:
    """Consume a valid code; wrong codes count towards the attempt limit."""
    phone_hash = keyed_hash(phone)
    otp = (
        OneTimeCode.objects.filter(phone_hash=phone_hash, purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )
    if otp is None or otp.attempts >= CODE_MAX_ATTEMPTS:
        return False
    if not hmac.compare_digest(otp.code_hash, _code_hash(phone_hash, code.strip())):
        OneTimeCode.objects.filter(pk=otp.pk).update(attempts=otp.attempts + 1)
        return False
    OneTimeCode.objects.filter(pk=otp.pk).update(used_at=timezone.now())
    return True


@transaction.atomic
def resident_register(*, phone: str, password: str, code: str, display_name: str = "") -> User:
    """Create a resident account after the phone proved itself with a one-time code."""
    try:
        phone = validate_mobile(phone)
    except ValidationError as exc:
        raise AccountError("phone", exc.messages[0]) from exc
    if User.objects.filter(kind=AccountKind.RESIDENT, phone_hash=keyed_hash(phone)).exists():
        raise AccountError("phone", _("该手机号已注册,请直接登录。"))
    if not otp_verify(phone=phone, purpose="register", code=code):
        raise AccountError("code", _("验证码不正确或已过期。"))
    user = User(username=resident_username(phone), kind=AccountKind.RESIDENT, phone=phone, display_name=display_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise AccountError("password", " ".join(exc.messages)) from exc
    user.set_password(password)
    user.phone_verified_at = timezone.now()
    user.save()
    audit_record(actor=user, act="accounts.resident_register", obj=user, changed_fields=["phone", "password"])
    return user


def resident_find_by_phone(phone: str) -> User | None:
    return User.objects.filter(kind=AccountKind.RESIDENT, phone_hash=keyed_hash(phone), is_active=True).first()


@transaction.atomic
def staff_create(*, actor: Any, username: str, display_name: str, password: str | None = None, phone: str = "") -> User:
    """Create a staff account (memberships are granted separately in ``places.services``)."""
    user = User(username=username, display_name=display_name, kind=AccountKind.STAFF, phone=phone)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit_record(actor=actor, act="accounts.staff_create", obj=user, changed_fields=["username", "display_name"])
    return user
