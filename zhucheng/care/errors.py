"""The one error the care domain raises: a stable code, the field it concerns and a translated message."""

from __future__ import annotations


class CareError(Exception):
    """A refused act. ``code`` is stable for clients (``forbidden``, ``consent_required``, ``double_booked``, …);
    ``field`` names the form field ("" for the whole act); ``message`` is already translated."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}
