"""Masking helpers and the template filters that use them."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from zhucheng.core.masking import mask_id_number, mask_name, mask_phone


def test_id_number_keeps_four_at_each_end() -> None:
    assert mask_id_number("520102199003071234") == "5201**********1234"
    assert mask_id_number("52010219900307123X") == "5201**********123X"
    assert len(mask_id_number("520102199003071234")) == 18


def test_phone_keeps_three_and_four() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("138 0013 8000") == "138****8000"


def test_name_keeps_the_first_character() -> None:
    assert mask_name("王小明") == "王**"
    assert mask_name("李四") == "李*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("阿卜杜·热合曼") == "阿**·***"
    assert mask_name("王") == "*"


@pytest.mark.parametrize("func", [mask_id_number, mask_phone, mask_name])
def test_none_and_empty(func) -> None:  # type: ignore[no-untyped-def]
    assert func(None) == ""
    assert func("") == ""
    assert func("   ") == ""


@pytest.mark.parametrize("value", ["1", "1234", "1234567", "12345678"])
def test_short_values_are_masked_whole(value: str) -> None:
    assert mask_id_number(value) == "*" * len(value)
    assert set(mask_phone(value)) == {"*"}


def test_template_filters() -> None:
    template = Template("{% load zc %}{{ phone|mask_phone }} {{ id|mask_id }} {{ name|mask_name }} [{{ missing|mask_id }}]")
    rendered = template.render(Context({"phone": "13800138000", "id": "520102199003071234", "name": "王小明"}))
    assert rendered == "138****8000 5201**********1234 王** []"


def test_filter_output_is_still_escaped() -> None:
    rendered = Template("{% load zc %}{{ name|mask_name }}").render(Context({"name": "<b>x"}))
    assert "<b>" not in rendered
    assert rendered.startswith("&lt;")
