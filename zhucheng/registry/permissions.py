"""Who may write what in the registry: the posts a user holds over the unit a record belongs to.

* **registrars** (grid workers, community staff, admins) record people, moves, households,
  buildings, rentals and employment in their subtrees;
* **deciders** (community staff, leaders, admins) issue, renew and revoke permits and decide
  corrections;
* **points officers** (leaders, admins) score and rank points applications.

Reading is scoping alone (``places.selectors.scoped``): every post reads its subtree. ``actor=None``
is the system (commands, imports, sweeps) and may do everything; superusers too.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from zhucheng.places.models import Membership, OrgUnit, Role

from .errors import RegistryError

REGISTRAR_ROLES = frozenset({Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.ADMIN})
DECIDER_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.LEADER, Role.ADMIN})
POINTS_ROLES = frozenset({Role.LEADER, Role.ADMIN})


def posts_of(user: Any) -> list[tuple[str, str]]:
    """(role, unit path) of the user's active unit posts, read once per user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    cached = getattr(user, "_zhucheng_registry_posts", None)
    if cached is None:
        cached = list(Membership.objects.active().filter(user=user, unit__isnull=False).values_list("role", "unit__path"))
        user._zhucheng_registry_posts = cached
    return list(cached)


def is_system(actor: Any) -> bool:
    return actor is None or bool(getattr(actor, "is_superuser", False) and getattr(actor, "is_active", False))


def roles_over(actor: Any, unit: OrgUnit | None) -> set[str]:
    """Roles ``actor`` holds over ``unit`` (a post on the unit or any ancestor)."""
    if unit is None:
        return set()
    return {role for role, path in posts_of(actor) if path and unit.path.startswith(path)}


def can(actor: Any, unit: OrgUnit | None, roles: frozenset[str]) -> bool:
    return is_system(actor) or bool(roles_over(actor, unit) & roles)


def require(actor: Any, unit: OrgUnit | None, roles: frozenset[str]) -> None:
    """Refuse unless ``actor`` holds one of ``roles`` over ``unit`` (one answer for out of scope and wrong post)."""
    if not can(actor, unit, roles):
        raise RegistryError(_("您在该辖区没有办理此事项的岗位权限。"), code="forbidden")


def is_resident_self(actor: Any, person: Any) -> bool:
    """The acting user is the resident whose record this is."""
    return actor is not None and getattr(actor, "is_authenticated", False) and person.user_id is not None and person.user_id == actor.pk
