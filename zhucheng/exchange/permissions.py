"""Who may do what in the exchange.

* **operators** run batches on a feed: the sending department's handlers, and leaders/admins
  over the feed's unit;
* **reviewers** decide possible matches and undo merges: the registry's registrars
  (grid workers, community staff, admins) over the candidate person's unit.

``actor=None`` is the system (commands, Celery, the demo seeder) and may do everything.
Reading is scoping (``places.selectors.scoped``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from zhucheng.places.models import OrgUnit, Role
from zhucheng.places.selectors import scope_for
from zhucheng.registry.permissions import REGISTRAR_ROLES, can, is_system

from .errors import ExchangeError
from .models import Feed

OPERATOR_ROLES = frozenset({Role.LEADER, Role.ADMIN})
REVIEWER_ROLES = REGISTRAR_ROLES  # fills go through registry.services.person_update


def can_operate(actor: Any, feed: Feed) -> bool:
    if is_system(actor):
        return True
    scope = scope_for(actor)
    if feed.department_id in scope.department_ids:
        return True
    return can(actor, feed.unit, OPERATOR_ROLES)


def require_operate(actor: Any, feed: Feed) -> None:
    if not can_operate(actor, feed):
        raise ExchangeError(_("您没有运行该交换接口的权限。"), code="forbidden")


def can_review(actor: Any, unit: OrgUnit | None) -> bool:
    return can(actor, unit, REVIEWER_ROLES)


def require_review(actor: Any, unit: OrgUnit | None) -> None:
    if not can_review(actor, unit):
        raise ExchangeError(_("您在该辖区没有复核比对结果的岗位权限。"), code="forbidden")
