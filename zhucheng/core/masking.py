"""Masking helpers for showing personal identifiers on screen (placeholder: full module replaces this)."""

from __future__ import annotations


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    v = "".join(value.split())
    return v[:3] + "****" + v[-4:] if len(v) >= 8 else "****"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    v = "".join(value.split())
    return v[:4] + "*" * (len(v) - 8) + v[-4:] if len(v) > 8 else "****"
