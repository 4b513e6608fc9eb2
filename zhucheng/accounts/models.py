"""User accounts: staff (with memberships in ``places``) and residents (phone + password)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhucheng.core.fields import EncryptedCharField, HashField


class AccountKind(models.TextChoices):
    STAFF = "staff", _("工作人员")
    RESIDENT = "resident", _("居民")


class User(AbstractUser):
    """账户. Staff log in with a user name; residents with their mobile number.

    The phone number is encrypted at rest; ``phone_hash`` (keyed hash) finds an account by phone.
    """

    kind = models.CharField(_("账户类型"), max_length=12, choices=AccountKind.choices, default=AccountKind.STAFF)
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = EncryptedCharField(_("手机号"), blank=True, default="", hash_field="phone_hash")
    phone_hash = HashField()
    phone_verified_at = models.DateTimeField(_("手机验证时间"), null=True, blank=True)

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        verbose_name = _("账户")
        verbose_name_plural = _("账户")
        constraints = [
            models.UniqueConstraint(
                fields=["phone_hash"],
                condition=models.Q(kind="resident") & ~models.Q(phone_hash=""),
                name="resident_phone_unique",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_resident(self) -> bool:
        return self.kind == AccountKind.RESIDENT


class OneTimeCode(models.Model):
    """短信验证码: a hashed one-time code sent to a phone, valid for minutes, few attempts."""

    phone_hash = HashField()
    purpose = models.CharField(_("用途"), max_length=20)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["phone_hash", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"
