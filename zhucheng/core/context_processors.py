"""Template context every page needs (platform name, the user's roles)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    from zhucheng.places.selectors import scope_for

    user = getattr(request, "user", None)
    scope = scope_for(user)
    return {"zc_roles": sorted(scope.roles), "zc_request_id": getattr(request, "request_id", "")}
