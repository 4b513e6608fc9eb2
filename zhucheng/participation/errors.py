"""The one error the participation domain raises: a stable code, the field it concerns and a translated message."""

from __future__ import annotations


class ParticipationError(Exception):
    """A refused act. ``code`` is stable (``wrong_phase``, ``not_eligible``, ``already_voted``, …);
    ``field`` names the form field ("" for the whole act); ``message`` is already translated."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}
