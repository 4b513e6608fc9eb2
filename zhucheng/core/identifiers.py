"""Validation of personal identifiers (placeholder: the full module replaces this)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def validate_mobile(value: str) -> str:
    digits = "".join(value.split()).replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if not _MOBILE.match(digits):
        raise ValidationError(_("手机号应为 11 位数字,以 13–19 开头。"), code="mobile_format")
    return digits
