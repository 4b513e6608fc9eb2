"""Validation of personal identifiers: resident ID numbers (GB 11643-1999) and mainland mobile numbers.

Every check raises a Django ``ValidationError`` with a translated message and a stable ``code``
(``id_format``, ``id_checksum``, ``id_birth_date``, ``id_region``, ``mobile_format``), so forms,
the API and data imports (``exchange``) report the same reasons. The validators accept what
people really type: spaces, dashes, full-width digits, a lower-case ``x``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric

__all__ = [
    "MobileValidator",
    "ResidentIdValidator",
    "id_birth_date",
    "id_region",
    "id_sex",
    "normalise_mobile",
    "normalise_resident_id",
    "validate_mobile",
    "validate_resident_id",
]

_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Separators people type inside numbers; removed before checking.
_SEPARATORS = re.compile(r"[\s\-‐‑–—()()]")
_EARLIEST_BIRTH_YEAR = 1900


def _clean(value: Any) -> str:
    # NFKC turns full-width digits and letters (common with Chinese input methods) into ASCII.
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return _SEPARATORS.sub("", text).upper()


# --- Resident identity card numbers ----------------------------------------------------------


def normalise_resident_id(value: Any) -> str:
    """The canonical form (no separators, upper-case X) without validating it."""
    return _clean(value)


@functools.lru_cache(maxsize=8192)
def _region_info(prefix: str) -> dict[str, str]:
    """Names for a six-digit division code, from python-stdnum's table (empty when unknown).

    The bundled ``cn/loc`` table is the union of every GB/T 2260 edition (abolished codes such
    as Beijing's 崇文区 110103 stay in it), so a code valid in any era is found. We deliberately
    do not ask whether the code existed in the birth year, as ``ric.validate`` may: people born
    before a district was created carry its code once their registration moved there.
    """
    parts = numdb.get("cn/loc").info(prefix)
    if len(parts) != 1 or parts[0][0] != prefix:
        return {}
    return dict(parts[0][1])  # callers must not mutate: the result is cached


def _birth_date_of(number: str) -> date:
    """Birth date from a normalised 18-character number; ValidationError when impossible."""
    try:
        born = ric.get_birth_date(number)
    except Exception as exc:  # stdnum raises InvalidComponent (or ValueError on odd input)
        raise ValidationError(
            _("身份证号码中的出生日期 %(value)s 不存在,请核对第 7–14 位。"),
            code="id_birth_date",
            params={"value": number[6:14]},
        ) from exc
    if born.year < _EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("身份证号码中的出生日期早于 1900 年,请核对第 7–14 位。"),
            code="id_birth_date",
        )
    if born > timezone.localdate():
        raise ValidationError(
            _("身份证号码中的出生日期晚于今天,请核对第 7–14 位。"),
            code="id_birth_date",
        )
    return born


def validate_resident_id(value: Any) -> str:
    """Check an 18-digit resident ID number and return it normalised (upper-case ``X``).

    Checks, in order: format, ISO 7064 MOD 11-2 check digit, birth date (a real date,
    not before 1900, not in the future), and that the six-digit region prefix is a known
    administrative division code. The message never reveals the correct check digit.
    """
    number = normalise_resident_id(value)
    if not _RESIDENT_ID.match(number):
        raise ValidationError(
            _("身份证号码应为 18 位:前 17 位是数字,最后一位是数字或字母 X。"),
            code="id_format",
        )
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError(
            _("身份证号码的校验位与前 17 位不符,请逐位核对是否输错。"),
            code="id_checksum",
        )
    _birth_date_of(number)
    if not _region_info(number[:6]):
        raise ValidationError(
            _("身份证号码前 6 位的地区代码 %(value)s 不在行政区划代码表中。"),
            code="id_region",
            params={"value": number[:6]},
        )
    return number


def id_birth_date(value: Any) -> date:
    """Birth date encoded in a resident ID number (the number is validated first)."""
    return _birth_date_of(validate_resident_id(value))


def id_sex(value: Any) -> Literal["M", "F"]:
    """Sex encoded in a resident ID number: the 17th digit is odd for men, even for women."""
    number = validate_resident_id(value)
    return "M" if int(number[16]) % 2 == 1 else "F"


def id_region(value: Any) -> dict[str, str]:
    """Province, prefecture and county names of the number's region prefix (validated first)."""
    return dict(_region_info(validate_resident_id(value)[:6]))


# --- Mobile numbers ---------------------------------------------------------------------------


def normalise_mobile(value: Any) -> str:
    """Digits only, with a country prefix (+86, 0086, 86) removed; not validated."""
    digits = _clean(value)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            return digits[len(prefix) :]
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


def validate_mobile(value: Any) -> str:
    """Check a mainland mobile number and return its 11 digits (spaces, dashes and +86 allowed)."""
    digits = normalise_mobile(value)
    if not _MOBILE.match(digits):
        raise ValidationError(
            _("请输入 11 位手机号码,以 13–19 开头(可带 +86)。"),
            code="mobile_format",
        )
    return digits


# --- Validators for model and form fields (``validators=[ResidentIdValidator()]``) ------------


@deconstructible
class ResidentIdValidator:
    """Field validator wrapping ``validate_resident_id`` (serialisable in migrations)."""

    def __call__(self, value: Any) -> None:
        if value in (None, ""):
            return  # emptiness is the field's ``blank``/``required`` business
        validate_resident_id(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResidentIdValidator)

    def __hash__(self) -> int:
        return hash(type(self))


@deconstructible
class MobileValidator:
    """Field validator wrapping ``validate_mobile`` (serialisable in migrations)."""

    def __call__(self, value: Any) -> None:
        if value in (None, ""):
            return
        validate_mobile(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MobileValidator)

    def __hash__(self) -> int:
        return hash(type(self))
