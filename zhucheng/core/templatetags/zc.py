"""Template filters that mask personal identifiers: ``{{ person.phone|mask_phone }}``, ``|mask_id``, ``|mask_name``.

The output stays subject to autoescaping (names are user input).
"""

from __future__ import annotations

from typing import Any

from django import template

from zhucheng.core import masking

register = template.Library()


@register.filter(name="mask_phone")
def mask_phone(value: Any) -> str:
    return masking.mask_phone(value)


@register.filter(name="mask_id")
def mask_id(value: Any) -> str:
    return masking.mask_id_number(value)


@register.filter(name="mask_name")
def mask_name(value: Any) -> str:
    return masking.mask_name(value)
