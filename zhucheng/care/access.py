"""Who may read what in care: unit scope (``places.selectors.scoped``) plus the sensitive-category rule.

An enrolment in a *sensitive* category (mental health, HIV-related…) is readable only under an explicit
``CategoryGrant``: a grant to a role within a unit covers the subtrees of the user's posts with that role
inside the grant's unit; a grant to a user covers the grant's unit within the user's own scope. Being a
superuser or holding a broad post grants nothing here. Without a grant such an enrolment does not exist
for the user: lists, searches, exports, the API and counts other than suppressed aggregates skip it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from zhucheng.places.models import Membership, Role
from zhucheng.places.selectors import scope_for, scoped

from .models import CareCategory, CategoryGrant, Enrolment, Sensitivity

# Roles that read enrolments (and so see the details of ordinary ones) over their units.
READ_ROLES = frozenset({Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.SUPERVISOR, Role.LEADER, Role.ADMIN})
# Roles that enrol, assess, manage grants and homes.
MANAGE_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.SUPERVISOR, Role.LEADER, Role.ADMIN})
# Who records visits: anyone who reads, plus the carer named on the enrolment.
VISIT_ROLES = READ_ROLES


def _narrower(a: str, b: str) -> str | None:
    """The deeper of two paths when one contains the other, else None."""
    if a.startswith(b):
        return a
    if b.startswith(a):
        return b
    return None


def sensitive_paths(user: Any) -> dict[int, tuple[str, ...]]:
    """category id → unit paths under which the user may read that sensitive category (cached on the user)."""
    cached = getattr(user, "_zhucheng_care_sensitive", None)
    if cached is not None:
        return dict(cached)
    out: dict[int, set[str]] = {}
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False):
        posts = list(Membership.objects.active().filter(user=user, unit__isnull=False).values_list("role", "unit__path"))
        own = scope_for(user)
        grants = CategoryGrant.objects.filter(revoked_at__isnull=True, category__sensitivity=Sensitivity.SENSITIVE).filter(
            Q(user=user) | Q(role__in={r for r, _ in posts})
        )
        for category_id, role, grant_user_id, path in grants.values_list("category_id", "role", "user_id", "unit__path"):
            if grant_user_id is not None:
                reach = [path] if own.everything else [p for q in own.paths if (p := _narrower(path, q))]  # type: ignore[misc]
            else:
                reach = [p for r, q in posts if r == role and (p := _narrower(path, q))]  # type: ignore[misc]
            out.setdefault(category_id, set()).update(reach)
    result = {k: tuple(sorted(v)) for k, v in out.items() if v}
    user_obj = user
    if user_obj is not None:
        user_obj._zhucheng_care_sensitive = result
    return dict(result)


def forget(user: Any) -> None:
    for attr in ("_zhucheng_care_sensitive",):
        if hasattr(user, attr):
            delattr(user, attr)


def sensitive_condition(user: Any, prefix: str = "") -> Q:
    """A filter that keeps ordinary-category rows and the sensitive ones the user is granted.

    ``prefix`` leads from the queried model to the enrolment (``"enrolment__"`` for visits).
    """
    cond = Q(**{f"{prefix}category__sensitivity": Sensitivity.ORDINARY})
    for category_id, paths in sensitive_paths(user).items():
        for path in paths:
            cond |= Q(**{f"{prefix}category_id": category_id, f"{prefix}unit__path__startswith": path})
    return cond


def enrolments_readable(user: Any, qs: QuerySet[Enrolment] | None = None) -> QuerySet[Enrolment]:
    """Enrolments in the user's units, sensitive ones only where granted (withdrawn ones included: callers hide details)."""
    qs = Enrolment.objects.all() if qs is None else qs
    return scoped(qs, user).filter(sensitive_condition(user))


def can_read_category(user: Any, category: CareCategory, unit_path: str) -> bool:
    if not category.is_sensitive:
        return True
    return any(unit_path.startswith(p) for p in sensitive_paths(user).get(category.pk, ()))


def roles_over(user: Any, unit_path: str) -> set[str]:
    scope = scope_for(user)
    if scope.everything:
        return set(Role.values)
    if not getattr(user, "is_authenticated", False):
        return set()
    rows = Membership.objects.active().filter(user=user, unit__isnull=False).values_list("role", "unit__path")
    return {r for r, p in rows if unit_path.startswith(p)}


def categories_visible(user: Any) -> list[CareCategory]:
    """Categories a user may pick or filter by: every ordinary one, and sensitive ones granted somewhere."""
    granted = set(sensitive_paths(user))
    return [c for c in CareCategory.objects.filter(is_active=True) if not c.is_sensitive or c.pk in granted]
