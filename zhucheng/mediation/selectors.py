"""Every read of mediation data that pages, commands and exports share; all of it goes through
``places.selectors.scoped`` (a mediator also sees the disputes assigned to them). "Missing" and
"forbidden" are the same answer (``NotVisible``). Metrics are in ``metrics.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from zhucheng.places.models import OrgUnit
from zhucheng.places.selectors import NotVisible, scope_for, scoped

from .models import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    Agreement,
    Committee,
    Dispute,
    FollowUp,
    FollowUpState,
    GridReport,
    Mediator,
    ReportState,
    RiskAssessment,
    Room,
    ScreeningRound,
    Session,
    SessionStatus,
)

LIST_RELATED = ("unit", "mediator", "room", "committee")
# Lists never draw maps: leave the units' GeoJSON boundaries in the database.
LIST_DEFER = ("unit__boundary",)


def _is_staff_user(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and not getattr(user, "is_resident", False))


def ancestor_paths(unit: OrgUnit) -> list[str]:
    """The unit's own path and its ancestors' (city first)."""
    codes = [c for c in unit.path.split("/") if c]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


# --- disputes ------------------------------------------------------------------------------------


def visible_through_disputes(qs: QuerySet[Any], user: Any, prefix: str = "") -> QuerySet[Any]:
    """Rows whose dispute (at ``prefix``: "" for disputes, "dispute__", "agreement__dispute__") the user
    may see: ``places.selectors.scoped`` on the dispute's unit, or a dispute the user mediates. One
    query with an OR, not a subquery, so the planner can use the unit path index."""
    if not _is_staff_user(user):
        return qs.none()
    if scope_for(user).everything:
        return qs
    return scoped(qs, user, unit_field=f"{prefix}unit") | qs.filter(**{f"{prefix}mediator__user": user})


def disputes_visible_to(user: Any) -> QuerySet[Dispute]:
    """Disputes in the user's unit subtrees, and those assigned to the user as mediator."""
    return visible_through_disputes(Dispute.objects.all(), user)


def dispute_get_for_user(user: Any, pk: Any) -> Dispute:
    try:
        return disputes_visible_to(user).select_related(*LIST_RELATED, "appeal", "screening_report__grid", "received_by").get(pk=pk)
    except (Dispute.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


def dispute_for_appeal(user: Any, appeal_id: Any) -> Dispute | None:
    """The dispute made of this appeal, if the user may see it."""
    try:
        return disputes_visible_to(user).filter(appeal_id=int(appeal_id)).first()
    except (ValueError, TypeError):
        return None


def disputes_list(user: Any, *, status: str = "", field: str = "", q: str = "", room: Room | None = None) -> QuerySet[Dispute]:
    qs = disputes_visible_to(user).select_related(*LIST_RELATED).defer(*LIST_DEFER)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if field:
        qs = qs.filter(field=field)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(title__icontains=q))
    if room is not None:
        qs = qs.filter(room=room)
    return qs.order_by("-received_at", "-id")


def my_disputes(user: Any) -> QuerySet[Dispute]:
    """The disputes the user mediates that still need work (open, or agreed and being performed)."""
    if not _is_staff_user(user):
        return Dispute.objects.none()
    return (
        Dispute.objects.filter(mediator__user=user, status__in=ACTIVE_STATUSES)
        .select_related(*LIST_RELATED)
        .defer(*LIST_DEFER)
        .order_by("-risk_score", "received_at")
    )


def mediator_of(user: Any) -> Mediator | None:
    if not _is_staff_user(user):
        return None
    return Mediator.objects.filter(user=user).first()


# --- weeks and sessions --------------------------------------------------------------------------


def week_start(day: date | None = None, offset: int = 0) -> date:
    day = day or timezone.localdate()
    return day - timedelta(days=day.weekday()) + timedelta(weeks=offset)


def _week_range(monday: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(monday, time.min))
    return start, start + timedelta(days=7)


def sessions_visible_to(user: Any) -> QuerySet[Session]:
    return visible_through_disputes(Session.objects.all(), user, "dispute__")


def my_week(user: Any, monday: date) -> list[Session]:
    """The user's sessions (as mediator) in the week starting ``monday``, cancelled ones included."""
    start, end = _week_range(monday)
    return list(
        Session.objects.filter(mediator__user=user, starts_at__gte=start, starts_at__lt=end)
        .select_related("dispute", "room", "room__unit")
        .order_by("starts_at")
    )


def room_week(room: Room, monday: date) -> list[Session]:
    start, end = _week_range(monday)
    return list(
        Session.objects.filter(room=room, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("dispute", "mediator")
        .order_by("starts_at")
    )


def dispute_sessions(dispute: Dispute) -> list[Session]:
    return list(
        dispute.sessions.select_related("room", "mediator").prefetch_related("attendances__party").order_by("starts_at")
    )


def session_get_for_user(user: Any, pk: Any) -> Session:
    try:
        return sessions_visible_to(user).select_related("dispute", "room", "mediator").get(pk=pk)
    except (Session.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


# --- rooms, committees, mediators ----------------------------------------------------------------


def rooms_visible_to(user: Any) -> QuerySet[Room]:
    if not _is_staff_user(user):
        return Room.objects.none()
    return scoped(Room.objects.select_related("unit", "committee"), user)


def room_get_for_user(user: Any, pk: Any) -> Room:
    try:
        return rooms_visible_to(user).get(pk=pk)
    except (Room.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


def rooms_for_dispute(dispute: Dispute) -> QuerySet[Room]:
    """Active rooms at the dispute's unit or above it, or in the same district: where a session can meet."""
    paths = ancestor_paths(dispute.unit)
    district = paths[1] if len(paths) > 1 else paths[0]
    return (
        Room.objects.filter(is_active=True)
        .filter(Q(unit__path__in=paths) | Q(unit__path__startswith=district))
        .select_related("unit")
        .order_by("unit__path", "code")
    )


def committees_all() -> QuerySet[Committee]:
    return Committee.objects.filter(is_active=True).select_related("unit").order_by("code")


def with_load(qs: QuerySet[Mediator]) -> QuerySet[Mediator]:
    return qs.annotate(load=Count("disputes", filter=Q(disputes__status__in=OPEN_STATUSES), distinct=True))


def mediators_visible_to(user: Any) -> QuerySet[Mediator]:
    if not _is_staff_user(user):
        return Mediator.objects.none()
    return with_load(scoped(Mediator.objects.select_related("unit", "committee", "user"), user)).order_by("unit__path", "name")


def mediators_for_dispute(dispute: Dispute) -> QuerySet[Mediator]:
    """Every active mediator who may take this dispute (no declared conflict), with load."""
    conflicted = dispute.conflicts.filter(has_conflict=True).values("mediator")
    return (
        Mediator.objects.filter(is_active=True)
        .exclude(pk__in=conflicted)
        .select_related("unit", "committee")
        .annotate(load=Count("disputes", filter=Q(disputes__status__in=OPEN_STATUSES), distinct=True))
    )


@dataclass(frozen=True)
class Suggestion:
    mediator: Mediator
    score: float
    field_match: bool
    place: str  # "community", "district" or ""
    load: int


def mediator_suggestions(dispute: Dispute, *, limit: int = 5) -> list[Suggestion]:
    """Who should take it: expertise in the dispute's field, working where it is, and spare capacity.

    Ranked in SQL: field match 3 points, posted over the dispute's community 2 (same district 1),
    minus the share of their load limit in use; full mediators and declared conflicts are left out.
    """
    paths = ancestor_paths(dispute.unit)
    near = paths[2:] or paths  # community level and below
    district = paths[1] if len(paths) > 1 else paths[0]
    conflicted = dispute.conflicts.filter(has_conflict=True).values("mediator")
    qs = (
        Mediator.objects.filter(is_active=True)
        .exclude(pk__in=conflicted)
        .select_related("unit", "committee")
        .annotate(
            load=Count("disputes", filter=Q(disputes__status__in=OPEN_STATUSES), distinct=True),
            field_points=Case(When(fields__contains=f",{dispute.field},", then=Value(3.0)), default=Value(0.0), output_field=FloatField()),
            place_points=Case(
                When(unit__path__in=near, then=Value(2.0)),
                When(unit__path__startswith=district, then=Value(1.0)),
                default=Value(0.0),
                output_field=FloatField(),
            ),
        )
        .filter(load__lt=F("max_load"))
        .annotate(score=F("field_points") + F("place_points") - Cast("load", FloatField()) / Cast("max_load", FloatField()))
        .filter(Q(field_points__gt=0) | Q(place_points__gt=0))
        .order_by("-score", "load", "name")[:limit]
    )
    return [
        Suggestion(
            mediator=m,
            score=round(m.score, 2),  # type: ignore[attr-defined]
            field_match=m.field_points > 0,  # type: ignore[attr-defined]
            place="community" if m.place_points >= 2 else ("district" if m.place_points >= 1 else ""),  # type: ignore[attr-defined]
            load=m.load,  # type: ignore[attr-defined]
        )
        for m in qs
    ]


# --- agreements, follow-ups, risk ----------------------------------------------------------------


def agreements_of(dispute: Dispute) -> list[Agreement]:
    return list(dispute.agreements.prefetch_related("terms__obligor").order_by("-signed_on", "-id"))


def agreement_get_for_user(user: Any, pk: Any) -> Agreement:
    """An agreement whose dispute the user may see (the PDF download checks this)."""
    try:
        return Agreement.objects.select_related("dispute").get(pk=pk, dispute__in=disputes_visible_to(user))
    except (Agreement.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


def my_followups(user: Any) -> QuerySet[FollowUp]:
    if not _is_staff_user(user):
        return FollowUp.objects.none()
    return FollowUp.objects.filter(owner=user, state=FollowUpState.OPEN).select_related("dispute").order_by("due_on", "id")


def latest_assessment(dispute: Dispute) -> RiskAssessment | None:
    return dispute.risk_assessments.order_by("-assessed_at", "-id").first()


def risk_board(user: Any, *, level: str = "") -> QuerySet[Dispute]:
    """Disputes still being worked, highest risk first (the score is stored on the dispute, sorted in SQL)."""
    qs = (
        disputes_visible_to(user)
        .filter(status__in=ACTIVE_STATUSES, risk_score__isnull=False)
        .select_related(*LIST_RELATED)
        .defer(*LIST_DEFER)
    )
    if level:
        qs = qs.filter(risk_level=level)
    return qs.order_by("-risk_score", "received_at")


def risk_counts(user: Any) -> dict[str, int]:
    rows = disputes_visible_to(user).filter(status__in=ACTIVE_STATUSES).values("risk_level").annotate(n=Count("pk")).order_by()
    return {r["risk_level"] or "": r["n"] for r in rows}


# --- screening -----------------------------------------------------------------------------------


def rounds_visible_to(user: Any) -> QuerySet[ScreeningRound]:
    if not _is_staff_user(user):
        return ScreeningRound.objects.none()
    return scoped(ScreeningRound.objects.select_related("unit", "unit__parent"), user)


def round_get_for_user(user: Any, pk: Any) -> ScreeningRound:
    try:
        return rounds_visible_to(user).get(pk=pk)
    except (ScreeningRound.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


def reports_visible_to(user: Any) -> QuerySet[GridReport]:
    if not _is_staff_user(user):
        return GridReport.objects.none()
    return scoped(GridReport.objects.select_related("round", "grid", "grid__parent"), user)


def report_get_for_user(user: Any, pk: Any) -> GridReport:
    try:
        return reports_visible_to(user).get(pk=pk)
    except (GridReport.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


def coverage_board(user: Any, month: date, *, district: OrgUnit | None = None) -> QuerySet[ScreeningRound]:
    """One row per round of the month in scope with its grids counted by state (one grouped query)."""
    qs = rounds_visible_to(user).filter(month=month).defer("unit__boundary", "unit__parent__boundary")
    if district is not None:
        qs = qs.filter(unit__path__startswith=district.path)
    return qs.annotate(
        total=Count("reports"),
        pending=Count("reports", filter=Q(reports__state=ReportState.PENDING)),
        found=Count("reports", filter=Q(reports__state=ReportState.FOUND)),
        none_found=Count("reports", filter=Q(reports__state=ReportState.NONE_FOUND)),
    ).order_by("-pending", "unit__path")


def coverage_totals(user: Any, month: date, *, district: OrgUnit | None = None) -> dict[str, Any]:
    qs = reports_visible_to(user).filter(round__month=month)
    if district is not None:
        qs = qs.filter(grid__path__startswith=district.path)
    row = qs.aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(state=ReportState.PENDING)),
        found=Count("pk", filter=Q(state=ReportState.FOUND)),
    )
    total = row["total"] or 0
    row["reported"] = total - (row["pending"] or 0)
    row["coverage"] = round(100 * row["reported"] / total, 1) if total else None
    return row


def my_grid_reports(user: Any, month: date) -> QuerySet[GridReport]:
    """The reports of the month for the grids the user works in as grid worker (what they answer)."""
    from zhucheng.places.models import Membership, Role

    if not _is_staff_user(user):
        return GridReport.objects.none()
    paths = list(Membership.objects.active().filter(user=user, role=Role.GRID_WORKER, unit__isnull=False).values_list("unit__path", flat=True))
    if not paths:
        return GridReport.objects.none()
    cond = Q(pk__in=[])
    for p in paths:
        cond |= Q(grid__path__startswith=p)
    return GridReport.objects.filter(cond, round__month=month).select_related("round", "grid", "grid__parent").order_by("grid__path")
