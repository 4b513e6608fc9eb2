"""Who may do what to an appeal: the posts a user holds over its unit and its departments.

A *dispatcher* registers, routes, transfers and merges (the citizens' service centre, or
community staff, supervisors, leaders and admins over the appeal's unit); a *handler* works the
appeal for its lead department (or, without one, the community staff who handle it themselves);
a *supervisor* supervises, approves extensions and decides reviews. ``actor=None`` is the
system (commands, imports, the deadline sweep) and may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zhucheng.places.models import Membership, Role

if TYPE_CHECKING:
    from .models import Appeal


@dataclass(frozen=True)
class Post:
    role: str
    unit_path: str | None
    department_id: int | None
    is_dispatch_centre: bool


def posts_of(user: Any) -> list[Post]:
    """The user's active posts, read once per user object."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_zhucheng_posts", None)
    if cached is not None:
        return list(cached)
    rows = Membership.objects.active().filter(user=user).values_list(
        "role", "unit__path", "department_id", "department__is_dispatch_centre"
    )
    posts = [Post(r, p, d, bool(dc)) for r, p, d, dc in rows]
    user._zhucheng_posts = posts
    return posts


def _superuser(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))


def roles_over(user: Any, appeal: Appeal) -> set[str]:
    """Roles the user holds over this appeal's unit (by subtree)."""
    path = appeal.unit.path if appeal.unit_id else ""
    return {p.role for p in posts_of(user) if p.unit_path and path.startswith(p.unit_path)}


def is_dispatcher(user: Any, appeal: Appeal) -> bool:
    if user is None or _superuser(user):
        return True
    if any(p.is_dispatch_centre for p in posts_of(user)):
        return True
    return bool(roles_over(user, appeal) & {Role.COMMUNITY_STAFF, Role.SUPERVISOR, Role.LEADER, Role.ADMIN})


def is_handler(user: Any, appeal: Appeal) -> bool:
    """Works the appeal for its lead department (or the community when it has none)."""
    if user is None or _superuser(user):
        return True
    if appeal.department_id is not None:
        return any(
            p.department_id == appeal.department_id and p.role == Role.DEPARTMENT_HANDLER for p in posts_of(user)
        )
    return bool(roles_over(user, appeal) & {Role.COMMUNITY_STAFF, Role.ADMIN})


def is_assisting(user: Any, appeal: Appeal, assisting_department_ids: set[int]) -> bool:
    return any(p.department_id in assisting_department_ids for p in posts_of(user))


def is_supervisor(user: Any, appeal: Appeal) -> bool:
    if user is None or _superuser(user):
        return True
    if any(p.is_dispatch_centre for p in posts_of(user)):
        return True
    return bool(roles_over(user, appeal) & {Role.SUPERVISOR, Role.LEADER, Role.ADMIN})


def is_leader(user: Any, appeal: Appeal) -> bool:
    if user is None or _superuser(user):
        return True
    return bool(roles_over(user, appeal) & {Role.LEADER, Role.ADMIN})


def is_petitioner(user: Any, appeal: Appeal) -> bool:
    return user is not None and appeal.resident_id is not None and appeal.resident_id == getattr(user, "pk", None)
