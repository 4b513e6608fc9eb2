"""The one error the appeals domain raises: a code, the field it concerns and a translated message."""

from __future__ import annotations


class AppealError(Exception):
    """A refused act on an appeal. ``field`` names the form/API field ("" for the whole act),
    ``code`` is stable for clients (``forbidden``, ``invalid_transition``, ``stale``, …),
    ``message`` is already translated into the user's language; ``row`` is set by imports."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = "", row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.row = row

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out
