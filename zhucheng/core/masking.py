"""Masking of personal identifiers and names for display (``5201**********1234``, ``138****8000``, ``王**``).

Pages, exports and logs show these forms; the full value is shown only by an audited reveal.
Every helper accepts ``None`` and short or odd values and never returns more than it should:
a value too short to keep both ends is masked whole.
"""

from __future__ import annotations

from typing import Any

MASK = "*"
# Fewer hidden characters than this would let the value be guessed: mask it whole instead.
MIN_HIDDEN = 4
# Kept as they are inside names: they carry no identity and show where the parts are.
_NAME_SEPARATORS = frozenset(" ·•・.-")


def _compact(value: Any) -> str:
    return "".join(str(value).split()).replace("-", "")


def mask_middle(value: Any, *, keep_start: int, keep_end: int) -> str:
    """Keep ``keep_start`` leading and ``keep_end`` trailing characters, star the rest (length kept).

    A value too short to hide at least ``MIN_HIDDEN`` characters that way is starred entirely.
    """
    if value is None:
        return ""
    text = _compact(value)
    if not text:
        return ""
    hidden = len(text) - keep_start - keep_end
    if hidden < MIN_HIDDEN:
        return MASK * len(text)
    return text[:keep_start] + MASK * hidden + text[len(text) - keep_end :]


def mask_phone(value: Any) -> str:
    """``13800138000`` → ``138****8000``."""
    return mask_middle(value, keep_start=3, keep_end=4)


def mask_id_number(value: Any) -> str:
    """``520102199003071234`` → ``5201**********1234`` (region's first four and last four kept)."""
    return mask_middle(value, keep_start=4, keep_end=4)


def mask_name(value: Any) -> str:
    """``王小明`` → ``王**``: the first character (usually the surname) kept, separators kept."""
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    if len(text) == 1:
        return MASK
    return text[0] + "".join(c if c in _NAME_SEPARATORS else MASK for c in text[1:])
