"""Reads of video-link points and bookings, homes, proxy-parent pairings and homeless cases, all scoped."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from zhucheng.places.selectors import NotVisible, scope_for, scoped

from .models_more import (
    BookingState,
    CareHome,
    HomelessCase,
    LinkBooking,
    LinkPoint,
    ProxyPairing,
    ProxyParent,
)
from .services_more import fields_for, sides_of, slots_of


def _get(qs: QuerySet[Any], pk: Any) -> Any:
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError) as exc:
        raise NotVisible() from exc


def link_points_visible_to(user: Any) -> QuerySet[LinkPoint]:
    return scoped(LinkPoint.objects.select_related("unit"), user)


def link_point_get_for_user(user: Any, pk: Any) -> LinkPoint:
    return _get(link_points_visible_to(user), pk)


def bookings_visible_to(user: Any) -> QuerySet[LinkBooking]:
    return scoped(LinkBooking.objects.select_related("point", "person", "booked_by"), user)


def booking_get_for_user(user: Any, pk: Any) -> LinkBooking:
    return _get(bookings_visible_to(user), pk)


def day_sheet(user: Any, point: LinkPoint, day: date) -> list[tuple[datetime, LinkBooking | None]]:
    """The point's slots on ``day`` with the live booking in each (None when free)."""
    taken = {
        b.starts_at: b
        for b in bookings_visible_to(user).filter(point=point, starts_at__date=day).exclude(state=BookingState.CANCELLED)
    }
    return [(s, taken.get(s)) for s in slots_of(point, day)]


def bookings_upcoming(user: Any, *, days: int = 7) -> QuerySet[LinkBooking]:
    now = timezone.now()
    return bookings_visible_to(user).filter(starts_at__gte=now - timedelta(hours=12), starts_at__lt=now + timedelta(days=days)).exclude(
        state=BookingState.CANCELLED
    )


def homes_visible_to(user: Any) -> QuerySet[CareHome]:
    return scoped(CareHome.objects.select_related("unit"), user)


def home_get_for_user(user: Any, pk: Any) -> CareHome:
    return _get(homes_visible_to(user), pk)


def proxy_parents_visible_to(user: Any) -> QuerySet[ProxyParent]:
    return scoped(ProxyParent.objects.select_related("unit"), user)


def pairings_visible_to(user: Any, *, active_only: bool = True) -> QuerySet[ProxyPairing]:
    qs = scoped(ProxyPairing.objects.select_related("parent", "child", "unit"), user)
    return qs.filter(ended_on__isnull=True) if active_only else qs


def pairing_get_for_user(user: Any, pk: Any) -> ProxyPairing:
    return _get(pairings_visible_to(user, active_only=False), pk)


def pairings_review_due(user: Any, *, on: date | None = None) -> QuerySet[ProxyPairing]:
    on = on or timezone.localdate()
    return pairings_visible_to(user).filter(review_due_on__lte=on).order_by("review_due_on")


def homeless_cases_visible_to(user: Any) -> QuerySet[HomelessCase]:
    """Staff of the unit where the person was found; the holding department and every department that held it;
    civil affairs (which co-ordinates) all cases."""
    qs = HomelessCase.objects.select_related("unit", "holder")
    scope = scope_for(user)
    if scope.everything:
        return qs
    if scope.is_empty:
        return qs.none()
    if "civil_affairs" in sides_of(user):
        return qs
    cond = Q(pk__in=scoped(HomelessCase.objects.all(), user, department_field=None).values("pk"))
    if scope.department_ids:
        cond |= Q(holder_id__in=scope.department_ids) | Q(handoffs__to_department_id__in=scope.department_ids)
    return qs.filter(pk__in=HomelessCase.objects.filter(cond).values("pk"))


def homeless_case_get_for_user(user: Any, pk: Any) -> HomelessCase:
    return _get(homeless_cases_visible_to(user), pk)


def homeless_case_view(user: Any, case: HomelessCase) -> dict[str, Any]:
    """The case as this user may see it: the shared part, plus only the fields of the user's side(s)."""
    allowed = fields_for(user, case)
    view: dict[str, Any] = {
        "case": case,
        "code": case.code,
        "found_at": case.found_at,
        "found_place": case.found_place,
        "unit": case.unit,
        "description": case.description,
        "sex": case.sex,
        "apparent_age": case.apparent_age,
        "holder": case.holder,
        "outcome": case.get_outcome_display() if case.outcome else "",
        "outcome_on": case.outcome_on,
        "fields": allowed,
    }
    for name in ("name_given", "identity_notes", "health_notes", "assistance_notes", "outcome_note"):
        if name in allowed:
            view[name] = getattr(case, name)
    if "person" in allowed and case.person_id:
        view["person"] = case.person
    handoffs = []
    for h in case.handoffs.select_related("from_department", "to_department", "by").order_by("created_at", "id"):
        handoffs.append(
            {
                "at": h.created_at,
                "from": h.from_department,
                "to": h.to_department,
                "note": h.note if ("handoff_notes" in allowed or h.to_department_id in scope_for(user).department_ids or h.from_department_id in scope_for(user).department_ids) else None,
            }
        )
    view["handoffs"] = handoffs
    return view
