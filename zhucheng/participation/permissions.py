"""Who may do what in participation: staff roles over the budget's community (by subtree).

``actor=None`` is the system (commands, the sweep, the demo seeder) and may do everything.
Residents act through eligibility (``eligibility.py``), not through roles.
"""

from __future__ import annotations

from typing import Any

from zhucheng.places.models import Membership, OrgUnit, Role

# Staff who run a community's budget: review, moderate, enter paper ballots, manage projects.
STAFF_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.SUPERVISOR, Role.LEADER, Role.ADMIN})
# Grid workers may help at the paper-ballot booth.
BOOTH_ROLES = STAFF_ROLES | {Role.GRID_WORKER}


def _posts(user: Any) -> list[tuple[str, str]]:
    cached = getattr(user, "_zhucheng_participation_posts", None)
    if cached is not None:
        return list(cached)
    rows = list(Membership.objects.active().filter(user=user, unit__isnull=False).values_list("role", "unit__path"))
    user._zhucheng_participation_posts = rows
    return rows


def is_system(user: Any) -> bool:
    return user is None or bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))


def roles_over(user: Any, unit: OrgUnit) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False) or getattr(user, "is_resident", False):
        return set()
    return {role for role, path in _posts(user) if path and unit.path.startswith(path)}


def can_manage(user: Any, unit: OrgUnit) -> bool:
    return is_system(user) or bool(roles_over(user, unit) & STAFF_ROLES)


def can_staff_booth(user: Any, unit: OrgUnit) -> bool:
    """Staff over the community, or a grid worker of one of its grids (the booth is staffed locally)."""
    if is_system(user) or bool(roles_over(user, unit) & BOOTH_ROLES):
        return True
    if not getattr(user, "is_authenticated", False) or getattr(user, "is_resident", False):
        return False
    return any(role in BOOTH_ROLES and path.startswith(unit.path) for role, path in _posts(user))


def is_staff_anywhere(user: Any) -> bool:
    if is_system(user):
        return True
    if not getattr(user, "is_authenticated", False) or getattr(user, "is_resident", False):
        return False
    return any(role in BOOTH_ROLES for role, _ in _posts(user))
