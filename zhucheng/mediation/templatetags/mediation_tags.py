"""Template filters of the mediation pages: ``{{ fen|yuan }}`` shows an amount in fen as yuan (1,234.50)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter(name="yuan")
def yuan(fen: Any) -> str:
    if fen is None or fen == "":
        return "—"
    try:
        return f"{int(fen) / 100:,.2f}"
    except (TypeError, ValueError):
        return "—"
