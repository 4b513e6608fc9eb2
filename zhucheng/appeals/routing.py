"""Routing (分派): which department handles an appeal of a category in an area, by the admin-edited ``RoutingRule`` table.

The most specific active rule wins: a rule for the appeal's own (leaf) category before one for
its parent category before an any-category rule; then a rule for a deeper unit (the rule's unit
is the appeal's unit or one of its ancestors, by path prefix) before a shallower one before a
city-wide rule (no unit); then the lower ``priority`` number, then the older rule. Without a
matching rule the community (or township) the appeal lies in handles it itself.

``route`` runs on every submit and assignment, so the active rules are read once and kept in
this process. Saving or deleting a rule, a department or a unit clears that cache (signals
connected below, importing this module is all it takes); a short time-to-live bounds the
staleness caused by edits made in other processes. A call costs at most two queries: loading
the rules after the cache was cleared, and finding the community when no rule matches.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from zhucheng.core.caches import clear_on_change
from zhucheng.places.models import PATH_SEP, Department, OrgUnit, OrgUnitKind

from .models import Category, RoutingRule

__all__ = ["Route", "clear_cache", "route"]

CACHE_TTL_SECONDS = 60.0
# The units that handle an appeal themselves when no department rule applies.
HANDLING_KINDS = (OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP)


@dataclass(frozen=True)
class Route:
    """Where an appeal goes: a department by ``rule``, or (``rule`` None) the community or township ``unit``.

    ``unit`` is None when a department handles the appeal, and also when no rule matches and the
    unit lies above any community (a district or the city): the dispatcher then chooses by hand.
    """

    department: Department | None
    unit: OrgUnit | None
    rule: RoutingRule | None


@dataclass(frozen=True)
class _Rule:
    category_id: int | None
    unit_path: str | None  # None: city-wide
    unit_depth: int  # -1 for city-wide, so any unit rule is deeper
    priority: int
    pk: int
    rule: RoutingRule


_rules: list[_Rule] | None = None
_born = 0.0
_lock = threading.Lock()


def clear_cache(**_: Any) -> None:
    """Forget the cached rules (signal receiver; tests call it after rolling data back)."""
    global _rules
    with _lock:
        _rules = None


clear_on_change(clear_cache, RoutingRule, Department, OrgUnit, uid="appeals.routing")


def _load() -> list[_Rule]:
    """Every rule that can apply: active, for an active department, and (if it names one) an active unit."""
    rows = (
        RoutingRule.objects.filter(is_active=True, department__is_active=True)
        .exclude(unit__is_active=False)
        .select_related("department", "unit", "category")
    )
    return [
        _Rule(
            category_id=r.category_id,
            unit_path=r.unit.path if r.unit is not None else None,
            unit_depth=r.unit.depth if r.unit is not None else -1,
            priority=r.priority,
            pk=r.pk,
            rule=r,
        )
        for r in rows
    ]


def _active_rules() -> list[_Rule]:
    global _rules, _born
    now = time.monotonic()
    rules = _rules
    if rules is None or now - _born > CACHE_TTL_SECONDS:
        rules = _load()
        with _lock:
            _rules, _born = rules, now
    return rules


def _handling_unit(unit: OrgUnit) -> OrgUnit | None:
    """The community or township that is ``unit`` or contains it (the deepest one, should they nest)."""
    if unit.kind in HANDLING_KINDS:
        return unit
    codes = [c for c in unit.path.split(PATH_SEP) if c]
    prefixes = [PATH_SEP + PATH_SEP.join(codes[: i + 1]) + PATH_SEP for i in range(len(codes) - 1)]
    if not prefixes:
        return None
    return OrgUnit.objects.filter(path__in=prefixes, kind__in=HANDLING_KINDS).order_by("-depth").first()


def route(*, category: Category | None, unit: OrgUnit) -> Route:
    """The department (or, failing a rule, the community or township) that handles ``category`` in ``unit``."""
    leaf_id = category.pk if category is not None else None
    parent_id = category.parent_id if category is not None else None
    best: tuple[int, int, int, int] | None = None
    chosen: _Rule | None = None
    for r in _active_rules():
        if r.category_id is None:
            category_rank = 0
        elif r.category_id == leaf_id:
            category_rank = 2
        elif parent_id is not None and r.category_id == parent_id:
            category_rank = 1
        else:
            continue
        if r.unit_path is not None and not unit.path.startswith(r.unit_path):
            continue
        # Larger is more specific; priority and id are negated so the lower number wins.
        key = (category_rank, r.unit_depth, -r.priority, -r.pk)
        if best is None or key > best:
            best, chosen = key, r
    if chosen is not None:
        return Route(department=chosen.rule.department, unit=None, rule=chosen.rule)
    return Route(department=None, unit=_handling_unit(unit), rule=None)
