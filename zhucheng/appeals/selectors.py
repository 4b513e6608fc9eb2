"""Every read of appeals that pages, API and exports share; all of them go through ``places.selectors.scoped``.

A worker sees the appeals of their unit subtree; a department handler those their department
leads or assists; a resident only their own. "Missing" and "forbidden" are the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from zhucheng.core.crypto import keyed_hash
from zhucheng.core.identifiers import normalise_mobile
from zhucheng.places.models import OrgUnit
from zhucheng.places.selectors import NotVisible, scope_for, scoped

from .models import (
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    Assignment,
    AssignmentRole,
    AssignmentState,
    Petitioner,
    Status,
    Supervision,
    SupervisionKind,
)

LIST_RELATED = ("unit", "grid", "department", "category", "category__parent")


def appeals_visible_to(user: Any) -> QuerySet[Appeal]:
    """Appeals in the user's unit subtrees, led by their departments, or assisted by them; a resident's own."""
    base = Appeal.objects.all()
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_resident", False):
        return base.filter(resident=user)
    scope = scope_for(user)
    if scope.everything:
        return base
    visible = scoped(base, user)
    if scope.department_ids:
        assisting = Assignment.objects.filter(
            appeal=OuterRef("pk"),
            department_id__in=scope.department_ids,
            role=AssignmentRole.ASSIST,
            state=AssignmentState.ACTIVE,
        )
        visible = base.filter(Q(pk__in=visible.values("pk")) | Exists(assisting))
    return visible


def appeal_get_for_user(user: Any, pk: Any) -> Appeal:
    try:
        return appeals_visible_to(user).select_related(*LIST_RELATED, "repeat_of", "resident").get(pk=pk)
    except (Appeal.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


def appeal_get_by_code_for_user(user: Any, code: str) -> Appeal:
    try:
        return appeals_visible_to(user).select_related(*LIST_RELATED).get(code=code.strip().upper())
    except Appeal.DoesNotExist as exc:
        raise NotVisible() from exc


def appeal_for_tracking(code: str, phone: str) -> Appeal | None:
    """查询: a petitioner without an account finds their appeal by tracking code and phone."""
    try:
        phone_hash = keyed_hash(normalise_mobile(phone))
    except Exception:
        return None
    code = (code or "").strip().upper()
    if not code or not phone_hash:
        return None
    return (
        Appeal.objects.select_related("category", "department")
        .filter(code=code)
        .filter(Q(petitioner_key=phone_hash) | Exists(Petitioner.objects.filter(appeal=OuterRef("pk"), phone_hash=phone_hash)))
        .first()
    )


def appeals_of_resident(user: Any) -> QuerySet[Appeal]:
    return Appeal.objects.filter(resident=user).select_related("category", "department").order_by("-submitted_at")


def timeline(appeal: Appeal, *, public_only: bool) -> list[AppealEvent]:
    events = AppealEvent.objects.filter(appeal=appeal).select_related("department")
    if public_only:
        events = events.filter(is_public=True)
    return list(events.order_by("at", "id"))


def with_list_columns(qs: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """The columns a list needs, in one query (no N+1)."""
    return qs.select_related(*LIST_RELATED).defer("description")


def _overdue_first(qs: QuerySet[Appeal]) -> QuerySet[Appeal]:
    return qs.order_by(F("due_at").asc(nulls_last=True), "-submitted_at", "-id")


@dataclass(frozen=True)
class InboxTab:
    key: str
    label: str


def inbox_for(user: Any, *, tab: str = "") -> QuerySet[Appeal]:
    """收件箱: what the user should work on, overdue first.

    ``department`` — open appeals the user's departments lead or assist; ``dispatch`` — waiting to
    be registered or routed in the user's units; ``community`` — every open appeal of the user's
    units; ``overdue`` — open and past due in scope. Without ``tab`` the first that applies.
    """
    scope = scope_for(user)
    visible = appeals_visible_to(user)
    if not tab:
        tab = "department" if scope.department_ids else "community"
    if tab == "department":
        if not scope.department_ids:
            return Appeal.objects.none()
        assisting = Assignment.objects.filter(
            appeal=OuterRef("pk"),
            department_id__in=scope.department_ids,
            role=AssignmentRole.ASSIST,
            state=AssignmentState.ACTIVE,
        )
        qs = Appeal.objects.filter(status__in=OPEN_STATUSES).filter(
            Q(department_id__in=scope.department_ids) | Exists(assisting)
        )
    elif tab == "dispatch":
        qs = visible.filter(status__in=[Status.SUBMITTED, Status.REGISTERED])
    elif tab == "overdue":
        qs = visible.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now(), paused_at__isnull=True)
    else:
        qs = visible.filter(status__in=OPEN_STATUSES)
    return _overdue_first(with_list_columns(qs))


def inbox_counts(user: Any) -> dict[str, int]:
    """How many appeals wait in each tab (one query per tab)."""
    scope = scope_for(user)
    tabs = ["community", "dispatch", "overdue"] + (["department"] if scope.department_ids else [])
    return {t: inbox_for(user, tab=t).order_by().count() for t in tabs}


def appeals_search(
    user: Any,
    *,
    q: str = "",
    code: str = "",
    category: Any = None,
    unit: OrgUnit | None = None,
    department: Any = None,
    status: str | list[str] = "",
    kind: str = "",
    channel: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    overdue: bool = False,
) -> QuerySet[Appeal]:
    """检索: every filter narrows; text matches title, description and address."""
    qs = appeals_visible_to(user)
    if code:
        qs = qs.filter(code__icontains=code.strip())
    if q:
        for word in q.split():
            qs = qs.filter(Q(title__icontains=word) | Q(description__icontains=word) | Q(address__icontains=word) | Q(code__iexact=word))
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__parent=category))
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if department is not None:
        qs = qs.filter(department=department)
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else status)
    if kind:
        qs = qs.filter(kind=kind)
    if channel:
        qs = qs.filter(channel=channel)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(submitted_at__gte=datetime.combine(date_from, datetime.min.time(), tz))
    if date_to:
        qs = qs.filter(submitted_at__lt=datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tz))
    if overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now(), paused_at__isnull=True)
    return with_list_columns(qs).order_by("-submitted_at", "-id")


def appeals_overdue(user: Any, *, now: datetime | None = None) -> QuerySet[Appeal]:
    now = now or timezone.now()
    return _overdue_first(
        with_list_columns(appeals_visible_to(user).filter(status__in=OPEN_STATUSES, due_at__lt=now, paused_at__isnull=True))
    )


def appeals_due_soon(user: Any, *, hours: int = 48, now: datetime | None = None) -> QuerySet[Appeal]:
    now = now or timezone.now()
    return _overdue_first(
        with_list_columns(
            appeals_visible_to(user).filter(
                status__in=OPEN_STATUSES, due_at__gte=now, due_at__lt=now + timedelta(hours=hours), paused_at__isnull=True
            )
        )
    )


# --- backlog (积案) -------------------------------------------------------------------------------

AGE_BUCKETS: list[tuple[str, int, int | None]] = [
    ("lt30", 0, 30),
    ("d30_90", 30, 90),
    ("d90_180", 90, 180),
    ("d180_365", 180, 365),
    ("gt365", 365, None),
]


def backlog(user: Any, *, now: datetime | None = None) -> QuerySet[Appeal]:
    """积案: open appeals past their deadline (``is_backlog``), in scope."""
    return appeals_overdue(user, now=now)


def backlog_board(user: Any, *, by: str = "unit", now: datetime | None = None) -> list[dict[str, Any]]:
    """Backlog counts per district/community (``by="unit"``) or department, in age buckets since submission.

    ``by="unit"`` groups by the child units of the user's top unit(s) — a city leader sees
    districts, a district sees communities.
    """
    now = now or timezone.now()
    qs = backlog(user, now=now).order_by()
    buckets = {
        key: Count("pk", filter=Q(submitted_at__lte=now - timedelta(days=lo)) & (Q(submitted_at__gt=now - timedelta(days=hi)) if hi else Q()))
        for key, lo, hi in AGE_BUCKETS
    }
    if by == "department":
        rows = qs.values("department_id", "department__name").annotate(total=Count("pk"), **buckets).order_by("-total")
        return [
            {"key": r["department_id"], "name": r["department__name"] or "—", "total": r["total"], **{k: r[k] for k, _, _ in AGE_BUCKETS}}
            for r in rows
        ]
    groups = _board_units(user)
    out = []
    for unit in groups:
        agg = qs.filter(unit__path__startswith=unit.path).aggregate(total=Count("pk"), **buckets)
        out.append({"key": unit.pk, "name": unit.name, "total": agg["total"], **{k: agg[k] for k, _, _ in AGE_BUCKETS}})
    return sorted(out, key=lambda r: -r["total"])


def _board_units(user: Any) -> list[OrgUnit]:
    scope = scope_for(user)
    if scope.everything:
        roots = list(OrgUnit.objects.filter(parent__isnull=True))
    else:
        roots = list(OrgUnit.objects.filter(path__in=scope.paths))
    children: list[OrgUnit] = []
    for root in roots:
        kids = list(OrgUnit.objects.filter(parent=root).exclude(kind="grid").order_by("code"))
        children.extend(kids or [root])
    return children


def supervised_board(user: Any, *, kind: str = "") -> QuerySet[Supervision]:
    """督办 / 领导交办 board: open instructions on appeals in scope, soonest due first."""
    qs = Supervision.objects.filter(appeal__in=appeals_visible_to(user).values("pk"), closed_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("appeal", "appeal__department", "appeal__unit", "by").order_by(
        F("due_at").asc(nulls_last=True), "created_at"
    )


def leader_cases(user: Any) -> QuerySet[Supervision]:
    return supervised_board(user, kind=SupervisionKind.LEADER)


# --- map -------------------------------------------------------------------------------------------


def open_counts_by_grid(user: Any) -> list[dict[str, Any]]:
    """Open appeals per grid in scope, for the map (grids coloured by count)."""
    rows = (
        appeals_visible_to(user)
        .filter(status__in=OPEN_STATUSES, grid__isnull=False)
        .order_by()
        .values("grid_id")
        .annotate(n=Count("pk"))
    )
    counts = {r["grid_id"]: r["n"] for r in rows}
    grids = OrgUnit.objects.filter(pk__in=counts.keys()).only("id", "name", "code", "boundary", "lat", "lon")
    return [{"unit": g, "count": counts[g.pk]} for g in grids]


def open_points(user: Any, *, limit: int = 2000) -> list[dict[str, Any]]:
    """Located open appeals (the newest ``limit``) for map markers."""
    rows = (
        appeals_visible_to(user)
        .filter(status__in=OPEN_STATUSES, lat__isnull=False)
        .order_by("-submitted_at")
        .values("pk", "code", "title", "lat", "lon", "status", "due_at")[:limit]
    )
    return [dict(r) for r in rows]
