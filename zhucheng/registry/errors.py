"""The one error the registry raises: a code, the field it concerns, a translated message (and the rule violations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .standard import Violation


class RegistryError(Exception):
    """A refused act on the registry. ``field`` names the form/API field ("" for the whole act),
    ``code`` is stable for clients (``forbidden``, ``invalid``, ``duplicate``, ``reason_required``, …),
    ``message`` is translated; ``violations`` lists every collection-standard rule broken, when that
    is why the act was refused (the message is the first one's)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        field: str = "",
        row: int | None = None,
        violations: Sequence[Violation] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.row = row
        self.violations = list(violations)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        if self.violations:
            out["violations"] = [v.as_dict() for v in self.violations]
        return out


def require_reason(reason: str) -> str:
    """The reason, trimmed; refuses an empty one (reveals, voids, revocations and decisions need one)."""
    text = (reason or "").strip()
    if not text:
        raise RegistryError(_("请填写理由。"), code="reason_required", field="reason")
    return text
