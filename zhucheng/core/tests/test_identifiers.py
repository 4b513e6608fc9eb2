"""Resident ID and mobile number validation (codes, messages, normalisation, helpers)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override
from stdnum.cn import ric

from zhucheng.core.identifiers import (
    MobileValidator,
    ResidentIdValidator,
    id_birth_date,
    id_region,
    id_sex,
    validate_mobile,
    validate_resident_id,
)


def make_id(region: str = "520102", born: str = "19900307", seq: str = "123") -> str:
    """A number with a correct check digit (whatever the other parts say)."""
    body = region + born + seq
    return body + ric.calc_check_digit(body + "0")


def error_code(value: str) -> str:
    with pytest.raises(ValidationError) as info:
        validate_resident_id(value)
    return info.value.code  # type: ignore[return-value]


def test_valid_number_is_returned_normalised() -> None:
    number = make_id()
    assert validate_resident_id(number) == number
    assert validate_resident_id(f" {number[:6]} {number[6:14]}-{number[14:]} ") == number


def test_lower_case_x_and_full_width_digits_are_normalised() -> None:
    number = next(make_id(seq=f"{s:03d}") for s in range(1000) if make_id(seq=f"{s:03d}").endswith("X"))
    assert validate_resident_id(number.lower()) == number
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert validate_resident_id(full_width) == number


@pytest.mark.parametrize(
    "value", ["", "52010219900307123", "5201021990030712345", "52010219900307123A", "X20102199003071234", None]
)
def test_format_errors(value: str) -> None:
    assert error_code(value) == "id_format"


def test_wrong_check_digit_is_refused_without_revealing_the_right_one() -> None:
    number = make_id()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(ValidationError) as info:
        validate_resident_id(wrong)
    assert info.value.code == "id_checksum"
    with override("zh-hans"):
        message = info.value.messages[0]
    assert "校验位" in message
    assert number[-1] not in message.replace("17", "").replace("18", "")


def test_a_transposed_digit_breaks_the_checksum() -> None:
    number = make_id()
    swapped = number[:10] + number[11] + number[10] + number[12:]
    assert swapped != number
    assert error_code(swapped) == "id_checksum"


@pytest.mark.parametrize("born", ["19900230", "19901301", "19900000", "18991231"])
def test_impossible_birth_dates(born: str) -> None:
    assert error_code(make_id(born=born)) == "id_birth_date"


def test_future_birth_date_is_refused() -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert error_code(make_id(born=tomorrow.strftime("%Y%m%d"))) == "id_birth_date"


def test_today_and_1900_are_accepted() -> None:
    validate_resident_id(make_id(born=timezone.localdate().strftime("%Y%m%d")))
    validate_resident_id(make_id(born="19000101"))


@pytest.mark.parametrize("region", ["999999", "520199", "000000"])
def test_unknown_region_is_refused(region: str) -> None:
    assert error_code(make_id(region=region)) == "id_region"


def test_region_created_after_birth_is_accepted() -> None:
    # 观山湖区 (520115) was created in 2012; people born in 1980 who live there carry it.
    number = make_id(region="520115", born="19800615")
    assert validate_resident_id(number) == number
    assert id_region(number)["county"] == "观山湖区"


def test_abolished_region_is_accepted() -> None:
    # 北京市崇文区 (110103) was merged away in 2010, but its numbers stay valid for life.
    validate_resident_id(make_id(region="110103", born="19650101"))


def test_birth_date_and_sex_helpers() -> None:
    male = make_id(born="19900307", seq="123")
    female = make_id(born="20010228", seq="124")
    assert id_birth_date(male) == date(1990, 3, 7)
    assert id_birth_date(female) == date(2001, 2, 28)
    assert id_sex(male) == "M"
    assert id_sex(female) == "F"
    with pytest.raises(ValidationError):
        id_sex(male[:-1] + ("0" if male[-1] != "0" else "1"))


def test_messages_are_chinese_and_translated_per_code() -> None:
    with override("zh-hans"), pytest.raises(ValidationError) as info:
        validate_resident_id(make_id(region="999999"))
    assert "999999" in info.value.messages[0]
    assert "地区代码" in info.value.messages[0]


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+8613800138000",
        "008613800138000",
        "8613800138000",
        "１３８００１３８０００",
    ],
)
def test_mobile_accepted_forms(value: str) -> None:
    assert validate_mobile(value) == "13800138000"


@pytest.mark.parametrize(
    "value", ["", "1380013800", "138001380001", "12800138000", "23800138000", "1380013800a", "+1 13800138000", None]
)
def test_mobile_refused(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_mobile(value)
    assert info.value.code == "mobile_format"
    with override("zh-hans"):
        assert "11 位" in info.value.messages[0]


def test_validators_work_in_forms_and_skip_empty_values() -> None:
    class PersonForm(forms.Form):
        id_number = forms.CharField(required=False, validators=[ResidentIdValidator()])
        phone = forms.CharField(required=False, validators=[MobileValidator()])

    good = PersonForm({"id_number": make_id(), "phone": "13800138000"})
    assert good.is_valid(), good.errors
    empty = PersonForm({"id_number": "", "phone": ""})
    assert empty.is_valid()
    bad = PersonForm({"id_number": make_id(region="999999"), "phone": "123"})
    assert not bad.is_valid()
    assert bad.errors.as_data()["id_number"][0].code == "id_region"
    assert bad.errors.as_data()["phone"][0].code == "mobile_format"
    assert ResidentIdValidator() == ResidentIdValidator()
    assert ResidentIdValidator().deconstruct()[0] == "zhucheng.core.identifiers.ResidentIdValidator"
