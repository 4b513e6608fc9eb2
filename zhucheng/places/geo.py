"""Boundaries and point location (placeholder: the full module replaces this)."""

from __future__ import annotations


def invalidate_locator() -> None:
    """Forget the cached STRtree; the next ``locate`` rebuilds it."""
