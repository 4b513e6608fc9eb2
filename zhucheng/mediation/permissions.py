"""Who may do what in mediation: the roles a user holds over a unit (by subtree), or being the dispute's mediator.

``actor=None`` is the system (commands, the sweep, the demo seeder) and may do everything.
Reading is governed by ``selectors`` (``places.selectors.scoped``); these checks govern acts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zhucheng.places.models import Membership, OrgUnit, Role

if TYPE_CHECKING:
    from .models import Dispute

# Staff who work disputes over their units.
CASE_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.MEDIATOR, Role.SUPERVISOR, Role.LEADER, Role.ADMIN})
# Who opens a dispute: case workers, and the grid worker who found it.
INTAKE_ROLES = CASE_ROLES | {Role.GRID_WORKER}
# Who hands a dispute over to another body or closes a screening round.
MANAGER_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.SUPERVISOR, Role.LEADER, Role.ADMIN})
# Who may see the risk board and be warned of high risk.
SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.LEADER, Role.ADMIN})


def _posts(user: Any) -> list[tuple[str, str]]:
    """(role, unit path) of the user's active unit posts, read once per user object."""
    cached = getattr(user, "_zhucheng_mediation_posts", None)
    if cached is not None:
        return list(cached)
    rows = list(Membership.objects.active().filter(user=user, unit__isnull=False).values_list("role", "unit__path"))
    user._zhucheng_mediation_posts = rows
    return rows


def is_system(user: Any) -> bool:
    return user is None or bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))


def roles_over(user: Any, unit: OrgUnit) -> set[str]:
    """Roles the user holds over ``unit`` (a post on the unit or an ancestor)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return {role for role, path in _posts(user) if path and unit.path.startswith(path)}


def has_role_over(user: Any, unit: OrgUnit, roles: frozenset[str] | set[str]) -> bool:
    return is_system(user) or bool(roles_over(user, unit) & set(roles))


def is_dispute_mediator(user: Any, dispute: Dispute) -> bool:
    mediator = dispute.mediator if dispute.mediator_id else None
    return bool(mediator is not None and mediator.user_id is not None and mediator.user_id == getattr(user, "pk", None))


def can_work(user: Any, dispute: Dispute) -> bool:
    """Schedule, record, conclude: case staff over the dispute's unit, or its own mediator."""
    return has_role_over(user, dispute.unit, CASE_ROLES) or is_dispute_mediator(user, dispute)


def can_supervise_anything(user: Any) -> bool:
    """Holds a supervising post anywhere (what the risk board asks before it lists)."""
    if is_system(user):
        return True
    return any(role in SUPERVISING_ROLES for role, _ in _posts(user))


def forget(user: Any) -> None:
    if hasattr(user, "_zhucheng_mediation_posts"):
        del user._zhucheng_mediation_posts
