"""Care metrics as selectors: enrolled by category and unit, visits on time, services delivered and their value,
video-link usage. Counted over the user's units (``places.selectors.scoped``).

Sensitive categories appear only as aggregates, and a count under ``SMALL`` is shown as "<5" — zero too,
so that "none" and "a few" look the same. Unit breakdowns of money count ordinary categories only, so a
sensitive amount cannot be recovered by subtracting one table from another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from zhucheng.places.models import OrgUnit
from zhucheng.places.selectors import scoped

from .models import (
    BookingState,
    CareCategory,
    Enrolment,
    EnrolmentState,
    LinkBooking,
    ServiceDelivery,
    ServiceKind,
    Visit,
)

SMALL = 5
SUPPRESSED = "<5"


def suppress(n: int | None) -> int | str:
    """A sensitive count as it may be shown: itself from 5 on, "<5" below (0 included)."""
    n = n or 0
    return n if n >= SMALL else SUPPRESSED


def cell(n: int | None, sensitive: bool) -> int | str:
    return suppress(n) if sensitive else (n or 0)


@dataclass
class Table:
    """A table of counts: one column per category (sensitive ones suppressed), one row per unit."""

    columns: list[CareCategory]
    rows: list[tuple[str, list[int | str]]] = field(default_factory=list)
    total: list[int | str] = field(default_factory=list)

    def chart(self) -> dict[str, Any]:
        """Category totals for the chart: suppressed values are left out (drawn as no bar)."""
        return {
            "labels": [c.name for c in self.columns],
            "values": [v if isinstance(v, int) else None for v in self.total],
        }


def _categories() -> list[CareCategory]:
    return list(CareCategory.objects.filter(is_active=True).order_by("order", "code"))


def _children(root: OrgUnit) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(parent=root).order_by("code"))


def enrolled_by_category_and_unit(user: Any, *, root: OrgUnit) -> Table:
    """在册关爱对象: active enrolments per category, per child unit of ``root``."""
    cats = _categories()
    base = scoped(Enrolment.objects.filter(state=EnrolmentState.ACTIVE, unit__path__startswith=root.path), user)
    table = Table(columns=cats)

    def counts(qs: Any) -> list[int | str]:
        got = dict(qs.values_list("category_id").annotate(n=Count("id")).order_by())
        return [cell(got.get(c.pk, 0), c.is_sensitive) for c in cats]

    for child in _children(root):
        table.rows.append((child.name, counts(base.filter(unit__path__startswith=child.path))))
    table.total = counts(base)
    return table


@dataclass
class VisitRow:
    category: CareCategory
    visits: int | str
    on_time: int | str
    rate: float | None
    overdue_now: int | str


def visits_on_time(user: Any, *, root: OrgUnit, date_from: date, date_to: date, on: date | None = None) -> list[VisitRow]:
    """按时走访: visits in [date_from, date_to) and how many came by their due date; plans overdue today."""
    on = on or timezone.localdate()
    visits = scoped(Visit.objects.filter(visited_on__gte=date_from, visited_on__lt=date_to), user, unit_field="enrolment__unit").filter(
        enrolment__unit__path__startswith=root.path
    )
    got = {
        r["enrolment__category_id"]: r
        for r in visits.values("enrolment__category_id").annotate(n=Count("id"), ok=Count("id", filter=Q(visited_on__lte=F("due_on")))).order_by()
    }
    overdue = dict(
        scoped(Enrolment.objects.filter(state=EnrolmentState.ACTIVE, unit__path__startswith=root.path, plan__next_due_on__lt=on), user)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = []
    for c in _categories():
        r = got.get(c.pk, {"n": 0, "ok": 0})
        n, ok = r["n"], r["ok"]
        show_rate = n > 0 and (not c.is_sensitive or n >= SMALL)
        rows.append(
            VisitRow(c, cell(n, c.is_sensitive), cell(ok, c.is_sensitive), round(100 * ok / n, 1) if show_rate else None, cell(overdue.get(c.pk, 0), c.is_sensitive))
        )
    return rows


@dataclass
class MoneyRow:
    label: str
    count: int | str
    amount_fen: int | None  # None when suppressed


def _services(user: Any, root: OrgUnit, date_from: date, date_to: date) -> Any:
    return scoped(
        ServiceDelivery.objects.filter(delivered_on__gte=date_from, delivered_on__lt=date_to), user, unit_field="enrolment__unit"
    ).filter(enrolment__unit__path__startswith=root.path)


def services_by_category(user: Any, *, root: OrgUnit, date_from: date, date_to: date) -> list[MoneyRow]:
    got = {
        r["enrolment__category_id"]: r
        for r in _services(user, root, date_from, date_to).values("enrolment__category_id").annotate(n=Count("id"), fen=Sum("amount_fen")).order_by()
    }
    rows = []
    for c in _categories():
        r = got.get(c.pk, {"n": 0, "fen": 0})
        hidden = c.is_sensitive and r["n"] < SMALL
        rows.append(MoneyRow(c.name, cell(r["n"], c.is_sensitive), None if hidden else (r["fen"] or 0)))
    return rows


def services_by_kind(user: Any, *, root: OrgUnit, date_from: date, date_to: date) -> list[MoneyRow]:
    """By kind, ordinary categories only (sensitive ones are in ``services_by_category``, suppressed)."""
    qs = _services(user, root, date_from, date_to)
    got = {r["kind"]: r for r in qs.filter(enrolment__category__sensitivity="ordinary").values("kind").annotate(n=Count("id"), fen=Sum("amount_fen")).order_by()}
    rows = [MoneyRow(str(label), got.get(k, {}).get("n", 0), got.get(k, {}).get("fen") or 0) for k, label in ServiceKind.choices]
    return rows


def services_by_unit(user: Any, *, root: OrgUnit, date_from: date, date_to: date) -> list[MoneyRow]:
    """Per child unit, ordinary categories only."""
    qs = _services(user, root, date_from, date_to).filter(enrolment__category__sensitivity="ordinary")
    rows = []
    for child in _children(root):
        agg = qs.filter(enrolment__unit__path__startswith=child.path).aggregate(n=Count("id"), fen=Sum("amount_fen"))
        rows.append(MoneyRow(child.name, agg["n"] or 0, agg["fen"] or 0))
    return rows


@dataclass
class LinkRow:
    label: str
    bookings: int
    used: int
    no_show: int
    minutes: int


def link_usage(user: Any, *, root: OrgUnit, date_from: date, date_to: date) -> list[LinkRow]:
    """亲情联系点使用: bookings, calls held, no-shows and minutes per point in the period."""
    start = timezone.make_aware(datetime.combine(date_from, time.min))
    end = timezone.make_aware(datetime.combine(date_to, time.min))
    qs = scoped(LinkBooking.objects.filter(starts_at__gte=start, starts_at__lt=end), user).filter(point__unit__path__startswith=root.path)
    rows = (
        qs.exclude(state=BookingState.CANCELLED)
        .values("point__name")
        .annotate(
            n=Count("id"),
            used=Count("id", filter=Q(state=BookingState.USED)),
            no_show=Count("id", filter=Q(state=BookingState.NO_SHOW)),
            minutes=Sum("used_minutes"),
        )
        .order_by("point__name")
    )
    return [LinkRow(r["point__name"], r["n"], r["used"], r["no_show"], r["minutes"] or 0) for r in rows]
