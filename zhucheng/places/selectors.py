"""Reads of the hierarchy, and the one scoping mechanism every app uses.

``scoped(queryset, user)`` limits rows to the subtrees of the units the user holds a
membership in, or to the user's departments. A model tells ``scoped`` where its unit and
department are through ``scope_unit_field`` / ``scope_department_field`` class attributes
(``"grid"`` → filters ``grid__path__startswith``; the empty string means the row *is* a unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Model, Q, QuerySet

from .models import Department, Membership, OrgUnit, OrgUnitKind, Role

M = TypeVar("M", bound=Model)


class NotVisible(Exception):
    """Raised for a row that does not exist *or* is outside the user's scope (same answer for both)."""


@dataclass(frozen=True)
class Scope:
    """What a user may reach: unit subtree paths, department ids, or everything."""

    everything: bool = False
    paths: tuple[str, ...] = ()
    department_ids: frozenset[int] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.paths and not self.department_ids


def _collapse(paths: list[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path."""
    kept: list[str] = []
    for p in sorted(set(paths)):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(kept)


def scope_for(user: Any) -> Scope:
    """The user's scope, computed once per user object (cached on it)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Scope()
    cached = getattr(user, "_zhucheng_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(everything=True, roles=frozenset(Role.values))
    else:
        rows = list(
            Membership.objects.active()
            .filter(user=user)
            .values_list("role", "unit__path", "department_id")
        )
        scope = Scope(
            paths=_collapse([p for _, p, _ in rows if p]),
            department_ids=frozenset(d for _, p, d in rows if d and not p),
            roles=frozenset(r for r, _, _ in rows),
        )
    user._zhucheng_scope = scope
    return scope


def forget_scope(user: Any) -> None:
    """Drop the cached scope after memberships change."""
    if hasattr(user, "_zhucheng_scope"):
        del user._zhucheng_scope


def has_role(user: Any, *roles: str) -> bool:
    scope = scope_for(user)
    return bool(scope.roles.intersection(roles))


def scoped(queryset: QuerySet[M], user: Any, *, unit_field: str | None = None, department_field: str | None = None) -> QuerySet[M]:
    """Limit ``queryset`` to the rows ``user`` may see; nothing for an anonymous or scope-less user."""
    model = queryset.model
    scope = scope_for(user)
    if scope.everything:
        return queryset
    if scope.is_empty:
        return queryset.none()
    if unit_field is None:
        unit_field = getattr(model, "scope_unit_field", None)
    if department_field is None:
        department_field = getattr(model, "scope_department_field", None)
    if unit_field is None and department_field is None:
        raise TypeError(f"{model.__name__} declares no scope_unit_field or scope_department_field")
    condition = Q(pk__in=[])
    if unit_field is not None:
        path_lookup = "path__startswith" if unit_field == "" else f"{unit_field}__path__startswith"
        for path in scope.paths:
            condition |= Q(**{path_lookup: path})
    if department_field is not None and scope.department_ids:
        condition |= Q(**{f"{department_field}__in": scope.department_ids})
    return queryset.filter(condition)


def get_scoped(queryset: QuerySet[M], user: Any, pk: Any) -> M:
    """One row by primary key within scope; ``NotVisible`` whether missing or forbidden."""
    try:
        return scoped(queryset, user).get(pk=pk)
    except (ObjectDoesNotExist, ValueError) as exc:
        raise NotVisible() from exc


# --- Units ---------------------------------------------------------------------------------


def units_for(user: Any) -> QuerySet[OrgUnit]:
    """Every unit in the user's subtrees."""
    return scoped(OrgUnit.objects.all(), user, unit_field="")


def unit_roots_for(user: Any) -> list[OrgUnit]:
    """The top units of the user's subtrees (what a home page lists first)."""
    scope = scope_for(user)
    if scope.everything:
        return list(OrgUnit.objects.filter(parent__isnull=True))
    return list(OrgUnit.objects.filter(path__in=scope.paths).order_by("path"))


def unit_get_for_user(user: Any, pk: Any) -> OrgUnit:
    return get_scoped(OrgUnit.objects.select_related("parent"), user, pk)


def unit_children(unit: OrgUnit) -> QuerySet[OrgUnit]:
    return unit.children.order_by("code")


def unit_ancestors(unit: OrgUnit) -> list[OrgUnit]:
    codes = [c for c in unit.path.split("/") if c][:-1]
    by_code = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def unit_counts_by_kind(root: OrgUnit | None = None) -> dict[str, int]:
    """How many units of each kind lie in ``root``'s subtree (the whole city without a root)."""
    qs = OrgUnit.objects.all()
    if root is not None:
        qs = qs.filter(path__startswith=root.path)
    counts = dict.fromkeys(OrgUnitKind.values, 0)
    for row in qs.values("kind").annotate(n=Count("id")).order_by():
        counts[row["kind"]] = row["n"]
    return counts


# --- Staff --------------------------------------------------------------------------------


def memberships_visible_to(user: Any) -> QuerySet[Membership]:
    """Staff posts the user may see: those in the user's unit subtrees or departments."""
    return scoped(
        Membership.objects.select_related("user", "unit", "department"),
        user,
        unit_field="unit",
        department_field="department",
    )


def departments_all() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("code")
