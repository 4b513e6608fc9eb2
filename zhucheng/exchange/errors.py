"""The one error the exchange raises: a stable code, the field it concerns and a translated message."""

from __future__ import annotations

from typing import Any


class ExchangeError(Exception):
    """A refused act. ``code`` is stable (``forbidden``, ``duplicate_file``, ``encoding``, ``missing_column``,
    ``already_decided``, ``not_live``, …); ``field`` names the form field or standard field ("" for the
    whole act); ``message`` is already translated; ``row`` the file row when one row is at fault."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = "", row: int | None = None, extra: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.row = row
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out
