"""Mediation metrics as selectors: disputes received, mediated, success rate, median days to agreement,
fulfilment rate and screening coverage, by committee, room, unit or month, within the user's scope.

Every figure is a grouped aggregate in SQL (one query per figure); the median takes the middle
one or two rows of each group with window functions, so Python only averages two values per
group. Each figure counts by its own date: received by ``received_at``, agreements by
``agreed_at``, failures by ``concluded_at``, fulfilment by the term's deadline, coverage by the
round's month. Periods are half-open: ``date_from`` ≤ day < ``date_to`` (local dates).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber, Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.places.models import OrgUnit

from .models import AgreementTerm, Committee, Dispute, DisputeStatus, GridReport, ReportState, Room, TermResult
from .selectors import disputes_visible_to, reports_visible_to, visible_through_disputes

GROUPS = ("committee", "room", "unit", "month", "total")


@dataclass
class Row:
    key: Any
    label: str
    received: int = 0
    mediated: int = 0
    agreed: int = 0
    median_days: float | None = None
    fulfilled: int = 0
    breached: int = 0
    grids: int = 0
    grids_reported: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def success_rate(self) -> float | None:
        return round(100 * self.agreed / self.mediated, 1) if self.mediated else None

    @property
    def fulfilment_rate(self) -> float | None:
        checked = self.fulfilled + self.breached
        return round(100 * self.fulfilled / checked, 1) if checked else None

    @property
    def coverage(self) -> float | None:
        return round(100 * self.grids_reported / self.grids, 1) if self.grids else None


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(date_from, time.min, tzinfo=tz), datetime.combine(date_to, time.min, tzinfo=tz)


def _unit_key(units: list[OrgUnit], prefix: str) -> Any:
    """The child unit (of the chosen root) a row's unit lies in.

    Siblings' paths usually have one length (codes of one level are as long as each other):
    then the key is that prefix of the row's path, one cheap SUBSTR per row, mapped back to the
    unit afterwards (``_remap``). Otherwise a CASE tries each child's prefix.
    """
    lengths = {len(u.path) for u in units}
    if len(lengths) == 1:
        return Substr(f"{prefix}path", 1, lengths.pop())
    whens = [When(**{f"{prefix}path__startswith": u.path}, then=Value(u.pk)) for u in units]
    return Case(*whens, default=Value(None), output_field=IntegerField()) if whens else Value(None, output_field=IntegerField())


def _remap(rows: dict[Any, Any], units: list[OrgUnit]) -> dict[Any, Any]:
    """Path-prefix keys (see ``_unit_key``) back to unit ids; other keys unchanged."""
    by_path = {u.path: u.pk for u in units}
    out: dict[Any, Any] = {}
    for k, v in rows.items():
        key = by_path.get(k) if isinstance(k, str) else k
        if key in out and isinstance(v, dict):  # several rows outside the children: summed under None
            out[key] = {f: out[key].get(f, 0) + n for f, n in v.items()}
        else:
            out[key] = v
    return out


def _key(by: str, *, dispute: str, anchor: str, units: list[OrgUnit], unit_prefix: str | None = None) -> Any:
    """The grouping expression for a queryset whose dispute is at ``dispute`` ("" or "agreement__dispute__")."""
    if by == "committee":
        return F(f"{dispute}committee_id")
    if by == "room":
        return F(f"{dispute}room_id")
    if by == "unit":
        return _unit_key(units, unit_prefix if unit_prefix is not None else f"{dispute}unit__")
    if by == "month":
        return TruncMonth(anchor)
    return Value("all")


def _grouped(qs: QuerySet[Any], key: Any, **aggregates: Any) -> dict[Any, dict[str, Any]]:
    rows = qs.annotate(k=key).values("k").annotate(**aggregates).order_by()
    return {_norm(r.pop("k")): r for r in rows}


def _norm(key: Any) -> Any:
    """Month keys come back as datetimes (aware) or dates depending on the column: one form."""
    if isinstance(key, datetime):
        return timezone.localtime(key).date().replace(day=1) if timezone.is_aware(key) else key.date().replace(day=1)
    return key


def _medians(qs: QuerySet[Dispute], key: Any) -> dict[Any, float]:
    """Median days from receipt to agreement per group: the middle row(s) picked in SQL by window functions."""
    ranked = (
        qs.annotate(
            k=key,
            dur=ExpressionWrapper(F("agreed_at") - F("received_at"), output_field=DurationField()),
        )
        .annotate(
            rn=Window(RowNumber(), partition_by=[F("k")], order_by=[F("dur").asc(), F("pk").asc()]),
            n=Window(Count("pk"), partition_by=[F("k")]),
        )
        .filter(Q(rn=(F("n") + 1) / 2) | Q(rn=(F("n") + 2) / 2))
        .values_list("k", "dur")
    )
    middle: dict[Any, list[timedelta]] = defaultdict(list)
    for k, dur in ranked:
        middle[_norm(k)].append(dur)
    return {k: round(sum(v, timedelta()).total_seconds() / len(v) / 86400, 1) for k, v in middle.items()}


def _labels(by: str, keys: set[Any], units: list[OrgUnit]) -> dict[Any, str]:
    if by == "committee":
        return dict(Committee.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name"))
    if by == "room":
        return dict(Room.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name"))
    if by == "unit":
        return {u.pk: u.name for u in units}
    if by == "month":
        return {k: f"{k:%Y-%m}" for k in keys if k}
    return {"all": _("合计")}


def metrics(
    user: Any,
    *,
    date_from: date,
    date_to: date,
    by: str = "total",
    root: OrgUnit | None = None,
) -> list[Row]:
    """The metrics table, one row per group (``by`` in ``GROUPS``), within the user's scope.

    ``by="unit"`` groups by the children of ``root`` (required then): e.g. the districts of the
    city, or the communities of a district. Rows without a group (a dispute with no room) are
    kept under the label "未归属".
    """
    if by not in GROUPS:
        raise ValueError(f"by must be one of {GROUPS}")
    units = list(root.children.filter(is_active=True).order_by("code")) if by == "unit" and root is not None else []
    start, end = _bounds(date_from, date_to)
    disputes = disputes_visible_to(user)
    if root is not None:
        disputes = disputes.filter(unit__path__startswith=root.path)

    received = _grouped(disputes.filter(received_at__gte=start, received_at__lt=end), _key(by, dispute="", anchor="received_at", units=units), n=Count("pk"))
    agreed_qs = disputes.filter(agreed_at__gte=start, agreed_at__lt=end)
    agreed = _grouped(agreed_qs, _key(by, dispute="", anchor="agreed_at", units=units), n=Count("pk"))
    failed = _grouped(
        disputes.filter(status=DisputeStatus.FAILED, concluded_at__gte=start, concluded_at__lt=end),
        _key(by, dispute="", anchor="concluded_at", units=units),
        n=Count("pk"),
    )
    medians = _medians(agreed_qs, _key(by, dispute="", anchor="agreed_at", units=units))

    terms = visible_through_disputes(
        AgreementTerm.objects.filter(due_on__gte=date_from, due_on__lt=date_to, result__in=[TermResult.FULFILLED, TermResult.BREACHED]),
        user,
        "agreement__dispute__",
    )
    if root is not None:
        terms = terms.filter(agreement__dispute__unit__path__startswith=root.path)
    fulfilment = _grouped(
        terms,
        _key(by, dispute="agreement__dispute__", anchor="due_on", units=units),
        fulfilled=Count("pk", filter=Q(result=TermResult.FULFILLED)),
        breached=Count("pk", filter=Q(result=TermResult.BREACHED)),
    )

    coverage: dict[Any, dict[str, Any]] = {}
    if by in ("unit", "month", "total"):
        reports: QuerySet[GridReport] = reports_visible_to(user).filter(round__month__gte=date_from.replace(day=1), round__month__lt=date_to)
        if root is not None:
            reports = reports.filter(grid__path__startswith=root.path)
        coverage = _grouped(
            reports,
            _key(by, dispute="", anchor="round__month", units=units, unit_prefix="grid__"),
            grids=Count("pk"),
            reported=Count("pk", filter=~Q(state=ReportState.PENDING)),
        )

    if by == "unit":
        received, agreed, failed, fulfilment, coverage = (_remap(d, units) for d in (received, agreed, failed, fulfilment, coverage))
        medians = _remap(medians, units)
    keys = set(received) | set(agreed) | set(failed) | set(fulfilment) | set(coverage)
    if by == "unit":
        keys |= {u.pk for u in units}
    labels = _labels(by, keys, units)
    rows = []
    for k in keys:
        row = Row(key=k, label=labels.get(k, _("未归属")) if k is not None else _("未归属"))
        row.received = received.get(k, {}).get("n", 0)
        row.agreed = agreed.get(k, {}).get("n", 0)
        row.mediated = row.agreed + failed.get(k, {}).get("n", 0)
        row.median_days = medians.get(k)
        row.fulfilled = fulfilment.get(k, {}).get("fulfilled", 0)
        row.breached = fulfilment.get(k, {}).get("breached", 0)
        row.grids = coverage.get(k, {}).get("grids", 0)
        row.grids_reported = coverage.get(k, {}).get("reported", 0)
        rows.append(row)
    if by == "month":
        rows.sort(key=lambda r: (r.key is None, r.key or date.min))
    else:
        rows.sort(key=lambda r: (r.key is None, r.label))
    return rows


def summary(user: Any, *, date_from: date, date_to: date, root: OrgUnit | None = None) -> Row:
    """The whole scope as one row."""
    rows = metrics(user, date_from=date_from, date_to=date_to, by="total", root=root)
    return rows[0] if rows else Row(key="all", label=_("合计"))
