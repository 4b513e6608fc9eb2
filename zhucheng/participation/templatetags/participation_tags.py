"""Template filters for the participation pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    """Fen → ``12,345.00`` (yuan, two decimals)."""
    try:
        return f"{int(fen) / 100:,.2f}"
    except (TypeError, ValueError):
        return ""


@register.filter
def yuan_input(fen: Any) -> str:
    """Fen → ``12345.00`` for a form input."""
    try:
        return f"{int(fen) / 100:.2f}"
    except (TypeError, ValueError):
        return ""


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key) if hasattr(mapping, "get") else None
    except TypeError:
        return None
