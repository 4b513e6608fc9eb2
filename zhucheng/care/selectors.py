"""Every read of care records that pages, exports and the API share, built on ``access.enrolments_readable``.

Withdrawn enrolments (consent withdrawn) are left out of every list, search, export and API answer, and
their page answers "not found": only the audit trail still knows them. Sensitive-category enrolments
exist only for users granted the category (``access``); counts of them live in ``metrics`` (suppressed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from zhucheng.places.models import OrgUnit
from zhucheng.places.selectors import NotVisible, scope_for, scoped

from . import access
from .models import (
    Enrolment,
    EnrolmentState,
    NeedsAssessment,
    Referral,
    ReferralState,
    ServiceDelivery,
    Visit,
)

SHOWN_STATES = (EnrolmentState.ACTIVE, EnrolmentState.ENDED)


def enrolments_visible_to(user: Any) -> QuerySet[Enrolment]:
    """Active and ended enrolments the user may read (never withdrawn ones)."""
    return access.enrolments_readable(user).filter(state__in=SHOWN_STATES).select_related("person", "category", "unit", "carer", "plan")


def enrolment_get_for_user(user: Any, pk: Any) -> Enrolment:
    """One enrolment; ``NotVisible`` when missing, out of scope, sensitive without grant, or withdrawn."""
    try:
        return enrolments_visible_to(user).get(pk=pk)
    except (Enrolment.DoesNotExist, ValueError) as exc:
        raise NotVisible() from exc


def enrolments_search(
    user: Any, *, q: str = "", category_id: Any = None, state: str = "active", unit: OrgUnit | None = None, risk: str = ""
) -> QuerySet[Enrolment]:
    qs = enrolments_visible_to(user)
    if state in SHOWN_STATES:
        qs = qs.filter(state=state)
    if category_id not in (None, ""):
        qs = qs.filter(category_id=category_id)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if risk:
        qs = qs.filter(risk_level=risk)
    q = (q or "").strip()
    if q:
        qs = qs.filter(person__name__startswith=q) if len(q) < 2 else qs.filter(person__name__contains=q)
    return qs.order_by("plan__next_due_on", "pk")


def enrolments_for_person(user: Any, person: Any) -> list[Enrolment]:
    """The person's enrolments this user may know of: the hook for the registry person page."""
    return list(enrolments_visible_to(user).filter(person=person).order_by("-enrolled_on"))


def overdue_for_carer(user: Any, *, on: date | None = None) -> QuerySet[Enrolment]:
    """走访超期 (my list): active enrolments I care for whose next visit is past due, oldest first."""
    on = on or timezone.localdate()
    return (
        enrolments_visible_to(user)
        .filter(state=EnrolmentState.ACTIVE, carer=user, plan__next_due_on__lt=on)
        .order_by("plan__next_due_on", "pk")
    )


def due_soon_for_carer(user: Any, *, on: date | None = None, days: int = 7) -> QuerySet[Enrolment]:
    from datetime import timedelta

    on = on or timezone.localdate()
    return (
        enrolments_visible_to(user)
        .filter(state=EnrolmentState.ACTIVE, carer=user, plan__next_due_on__gte=on, plan__next_due_on__lte=on + timedelta(days=days))
        .order_by("plan__next_due_on", "pk")
    )


def overdue_in(user: Any, *, unit: OrgUnit | None = None, on: date | None = None) -> QuerySet[Enrolment]:
    on = on or timezone.localdate()
    qs = enrolments_visible_to(user).filter(state=EnrolmentState.ACTIVE, plan__next_due_on__lt=on)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs.order_by("plan__next_due_on", "pk")


@dataclass
class OverdueRow:
    label: str
    key: Any
    active: int
    overdue: int


def overdue_by_carer(user: Any, *, unit: OrgUnit | None = None, on: date | None = None) -> list[OverdueRow]:
    """Per carer: active enrolments and how many are overdue (readable enrolments only)."""
    on = on or timezone.localdate()
    qs = enrolments_visible_to(user).filter(state=EnrolmentState.ACTIVE)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    rows = (
        qs.values("carer_id", "carer__display_name", "carer__username", "volunteer_name")
        .annotate(active=Count("id"), overdue=Count("id", filter=Q(plan__next_due_on__lt=on)))
        .order_by("-overdue", "carer__username", "volunteer_name")
    )
    out = []
    for r in rows:
        label = r["carer__display_name"] or r["carer__username"] or f"{r['volunteer_name']}(志愿者)"
        out.append(OverdueRow(label, r["carer_id"], r["active"], r["overdue"]))
    return out


def overdue_by_unit(user: Any, *, root: OrgUnit, on: date | None = None) -> list[OverdueRow]:
    """Per child unit of ``root``: active enrolments and how many are overdue."""
    on = on or timezone.localdate()
    children = list(OrgUnit.objects.filter(parent=root).order_by("code"))
    qs = enrolments_visible_to(user).filter(state=EnrolmentState.ACTIVE, unit__path__startswith=root.path)
    out = []
    for child in children:
        agg = qs.filter(unit__path__startswith=child.path).aggregate(active=Count("id"), overdue=Count("id", filter=Q(plan__next_due_on__lt=on)))
        out.append(OverdueRow(child.name, child.pk, agg["active"], agg["overdue"]))
    return out


def visits_of(enrolment: Enrolment) -> QuerySet[Visit]:
    return enrolment.visits.select_related("recorded_by", "appeal").prefetch_related("referrals__department").order_by("-visited_on", "-id")


def assessments_of(enrolment: Enrolment) -> QuerySet[NeedsAssessment]:
    return enrolment.assessments.select_related("assessed_by").order_by("-assessed_on", "-id")


def services_of(enrolment: Enrolment) -> QuerySet[ServiceDelivery]:
    return enrolment.services.order_by("-delivered_on", "-id")


def services_total_for_person(user: Any, person: Any) -> dict[str, int]:
    """Services and their value for one person, over the enrolments the user may read."""
    agg = ServiceDelivery.objects.filter(enrolment__in=enrolments_visible_to(user).filter(person=person)).aggregate(n=Count("id"), fen=Sum("amount_fen"))
    return {"count": agg["n"] or 0, "amount_fen": agg["fen"] or 0}


def referrals_visible_to(user: Any, *, open_only: bool = True) -> QuerySet[Referral]:
    """Referrals to the user's departments, and those raised in the user's units on enrolments the user may read."""
    scope = scope_for(user)
    qs = Referral.objects.select_related("department", "visit__enrolment__person", "visit__enrolment__category", "visit__enrolment__unit")
    if open_only:
        qs = qs.filter(state=ReferralState.OPEN)
    qs = qs.filter(visit__enrolment__state__in=SHOWN_STATES)
    if scope.everything:
        return qs.order_by("-created_at")
    by_department = Q(department_id__in=scope.department_ids)
    in_units = Q(pk__in=scoped(Referral.objects.all(), user, department_field=None).values("pk")) & access.sensitive_condition(user, "visit__enrolment__")
    return qs.filter(by_department | in_units).order_by("-created_at")


def referral_get_for_user(user: Any, pk: Any) -> Referral:
    try:
        return referrals_visible_to(user, open_only=False).get(pk=pk)
    except (Referral.DoesNotExist, ValueError) as exc:
        raise NotVisible() from exc
