"""Resolution metrics (化解率, 及时受理率, 按期答复率, …) of the appeals a user may see, as selectors.

``metrics_for`` counts every metric of one population (the user's scope, narrowed by unit
subtree, department, category and submission period) in ONE aggregate query: conditional
counts (``COUNT(*) FILTER (WHERE …)``) over the appeal rows, with ``EXISTS`` / scalar
subqueries for the reply, feedback and supervision rows — each evaluated at most once per
appeal, only for the appeals that need it — grouped by unit, department, top-level category
or month when asked. Nothing is read row by row into Python. ``metrics_raw_sql`` gives the same numbers by one
handwritten statement; the benchmark times the two side by side and a test keeps them equal.
The formulas, with their edge cases, are written out in ``docs/metrics.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    BigIntegerField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, StrIndex, Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.places.models import Department, OrgUnit
from zhucheng.places.selectors import scope_for, unit_roots_for

from .models import (
    ANSWERED_STATUSES,
    CONCLUDED_STATUSES,
    Appeal,
    Assignment,
    AssignmentRole,
    AssignmentState,
    Category,
    Feedback,
    Reply,
    Satisfaction,
    Status,
    Supervision,
    SupervisionKind,
)
from .selectors import appeals_visible_to

GROUP_BY = ("unit", "department", "category", "month")
# Statuses in which the handling department still owes a reply.
AWAITING_REPLY = (Status.REGISTERED, Status.ASSIGNED, Status.IN_PROGRESS)
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASIC)

# The raw counts every metric is built from, in the order both queries return them.
COUNTS = (
    "received",
    "registration_due",  # a registration decision was made, or is overdue (denominator of 及时受理率)
    "registration_on_time",
    "reply_due",  # replied, or a reply is overdue (denominator of 按期答复率)
    "reply_on_time",
    "replied",
    "closed",
    "closed_on_time",
    "resolved",
    "rated",
    "satisfied",
    "repeats",
    "leader",
    "leader_resolved",
    "answered",
    "concluded",
)


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator; ``rate`` is None when there is nothing to divide by."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def percent(self) -> str:
        """"93.5%", or "—" when undefined (for pages and reports)."""
        rate = self.rate
        return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class Metrics:
    """Every metric of one population. Names follow the glossary (``docs/metrics.md``)."""

    received: int
    on_time_registration_rate: Ratio  # 及时受理率
    on_time_reply_rate: Ratio  # 按期答复率
    on_time_closure_rate: Ratio  # 按期办结率
    resolution_rate: Ratio  # 化解率
    satisfaction_rate: Ratio  # 参评满意率
    rating_rate: Ratio  # 参评率
    repeat_rate: Ratio  # 重复信访率
    leader_resolution_rate: Ratio  # 领导包案化解率
    answered_rate: Ratio  # 有说法
    concluded_rate: Ratio  # 有结论

    @classmethod
    def from_counts(cls, c: Mapping[str, int]) -> Metrics:
        n = {k: int(c.get(k) or 0) for k in COUNTS}
        return cls(
            received=n["received"],
            on_time_registration_rate=Ratio(n["registration_on_time"], n["registration_due"]),
            on_time_reply_rate=Ratio(n["reply_on_time"], n["reply_due"]),
            on_time_closure_rate=Ratio(n["closed_on_time"], n["closed"]),
            resolution_rate=Ratio(n["resolved"], n["closed"]),
            satisfaction_rate=Ratio(n["satisfied"], n["rated"]),
            rating_rate=Ratio(n["rated"], n["replied"]),
            repeat_rate=Ratio(n["repeats"], n["received"]),
            leader_resolution_rate=Ratio(n["leader_resolved"], n["leader"]),
            answered_rate=Ratio(n["answered"], n["received"]),
            concluded_rate=Ratio(n["concluded"], n["received"]),
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"received": self.received}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Ratio):
                out[f.name] = {**asdict(value), "rate": value.rate}
        return out


@dataclass(frozen=True)
class MetricsGroup:
    """One row of a grouped result: ``key`` is a unit code, department id, category id or "YYYY-MM"."""

    key: str | int | None
    label: str
    metrics: Metrics


@dataclass(frozen=True)
class MetricsResult:
    start: datetime
    end: datetime
    group_by: str | None
    total: Metrics
    groups: list[MetricsGroup] = field(default_factory=list)


# --- inputs ---------------------------------------------------------------------------------------


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def as_moment(value: date | datetime) -> datetime:
    """A date means local midnight (Asia/Shanghai); a naive datetime is local time too."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=_tz())
    return datetime.combine(value, time.min, _tz())


def year_period(year: int) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of ``year``, local time."""
    return as_moment(date(year, 1, 1)), as_moment(date(year + 1, 1, 1))


def _group_root(user: Any, unit: OrgUnit | None) -> OrgUnit:
    """The unit whose children ``group_by="unit"`` lists: the given one, else the user's only top unit, else the city."""
    if unit is not None:
        return unit
    roots = unit_roots_for(user)
    if len(roots) == 1:
        return roots[0]
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None:
        raise ValueError("there is no unit to group by")
    return root


def _check(group_by: str | None, start: datetime, end: datetime) -> None:
    if group_by is not None and group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY} or None, not {group_by!r}")
    if end <= start:
        raise ValueError("the period is empty: end must be after start")


# --- the ORM query --------------------------------------------------------------------------------


def _population(
    user: Any, *, unit: OrgUnit | None, department: Department | None, category: Category | None, start: datetime, end: datetime
) -> QuerySet[Appeal]:
    qs = appeals_visible_to(user).filter(submitted_at__gte=start, submitted_at__lt=end)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if department is not None:
        qs = qs.filter(department=department)
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__parent=category))
    return qs.order_by()  # no ORDER BY: it would join the GROUP BY


# Two counts that need the same subquery share one aggregate: SUM of PACK per row for the first
# count plus 1 for the second, so the database evaluates the subquery once per appeal, not twice.
PACK = 1 << 32


class _RatingWeight(Func):
    """PACK + 1 for a satisfied or basically satisfied rating, PACK for an unsatisfied one, else 0.

    A simple CASE, so the latest-rating subquery (the operand) is evaluated once per row.
    """

    template = (
        f"CASE %(expressions)s WHEN '{Satisfaction.SATISFIED.value}' THEN {PACK + 1} WHEN '{Satisfaction.BASIC.value}'"
        f" THEN {PACK + 1} WHEN '{Satisfaction.UNSATISFIED.value}' THEN {PACK} ELSE 0 END"
    )
    output_field = BigIntegerField()


def _aggregates(now: datetime) -> dict[str, Aggregate]:
    """The conditional counts, named ``n_<count>`` (the packed pairs ``n_rated_satisfied`` and ``n_leader_pair``)."""
    late_reply = Exists(Reply.objects.filter(appeal=OuterRef("pk"), on_time=False))
    latest_rating = Subquery(
        Feedback.objects.filter(appeal=OuterRef("pk")).order_by("-created_at", "-id").values("department_rating")[:1]
    )
    leader = Exists(Supervision.objects.filter(appeal=OuterRef("pk"), kind=SupervisionKind.LEADER))

    registered = Q(registered_at__isnull=False)
    declined = Q(status=Status.DECLINED)
    register_late_pending = Q(status=Status.SUBMITTED, paused_at__isnull=True, register_due__lt=now)
    no_register_due = Q(register_due__isnull=True)
    registration_on_time = (registered & (no_register_due | Q(registered_at__lte=F("register_due")))) | (
        declined & (no_register_due | Q(closed_at__lte=F("register_due")))
    )
    replied = Q(replied_at__isnull=False)
    reply_late_pending = Q(status__in=AWAITING_REPLY, paused_at__isnull=True, reply_due__lt=now)
    closed = Q(status=Status.CLOSED)
    resolved = closed & Q(resolved=True)
    big: BigIntegerField[Any, Any] = BigIntegerField()

    def count(condition: Q | None = None) -> Count:
        return Count("pk", filter=condition)

    counts: dict[str, Aggregate] = {
        "received": count(),
        "registration_due": count(registered | declined | register_late_pending),
        "registration_on_time": count(registration_on_time),
        "reply_due": count(replied | reply_late_pending),
        # Conditions stay in this order in SQL, so the subquery runs only for replied rows.
        "reply_on_time": count(replied & ~reply_late_pending & ~Q(late_reply)),
        "replied": count(replied),
        "closed": count(closed),
        "closed_on_time": count(closed & (Q(reply_due__isnull=True) | Q(closed_at__lte=F("reply_due")))),
        "resolved": count(resolved),
        "rated_satisfied": Sum(Case(When(replied, then=_RatingWeight(latest_rating)), default=Value(0), output_field=big)),
        "leader_pair": Sum(
            Case(
                When(leader, then=Case(When(resolved, then=Value(PACK + 1)), default=Value(PACK), output_field=big)),
                default=Value(0),
                output_field=big,
            )
        ),
        "repeats": count(Q(repeat_of__isnull=False)),
        "answered": count(Q(status__in=ANSWERED_STATUSES)),
        "concluded": count(Q(status__in=CONCLUDED_STATUSES)),
    }
    # Prefixed, because an annotation named like a field ("reply_due", "resolved") would shadow it in filters.
    return {f"n_{k}": v for k, v in counts.items()}


def _unpack(row: Mapping[str, Any]) -> dict[str, int]:
    """The COUNTS of one result row (``n_``-prefixed), the packed pairs split."""
    out = {k: int(row.get(f"n_{k}") or 0) for k in COUNTS if k not in ("rated", "satisfied", "leader", "leader_resolved")}
    out["rated"], out["satisfied"] = divmod(int(row.get("n_rated_satisfied") or 0), PACK)
    out["leader"], out["leader_resolved"] = divmod(int(row.get("n_leader_pair") or 0), PACK)
    return out


def _group_expression(group_by: str | None, root: OrgUnit | None) -> Any:
    if group_by == "department":
        return F("department_id")
    if group_by == "category":
        return Coalesce(F("category__parent_id"), F("category_id"), output_field=IntegerField())
    if group_by == "month":
        return TruncMonth("submitted_at", tzinfo=_tz())
    assert group_by == "unit" and root is not None
    # "/5201/520102/520102001/…" below root "/5201/520102/": the next code, "520102001".
    rest = Substr(F("unit__path"), len(root.path) + 1)
    return Case(
        When(unit__path=root.path, then=Value("")),
        default=Substr(rest, 1, StrIndex(rest, Value("/")) - 1),
        output_field=CharField(),
    )


def metrics_for(
    user: Any,
    *,
    unit: OrgUnit | None = None,
    department: Department | None = None,
    category: Category | None = None,
    start: date | datetime,
    end: date | datetime,
    group_by: str | None = None,
    now: datetime | None = None,
) -> MetricsResult:
    """The metrics of the appeals ``user`` may see, submitted in [start, end), narrowed by the filters.

    ``group_by``: ``"unit"`` (the child units of ``unit``, or of the user's top unit),
    ``"department"`` (lead department; key None = not yet assigned), ``"category"`` (top-level),
    ``"month"`` (local calendar month of submission). ``now`` decides what is already overdue.
    """
    start_at, end_at = as_moment(start), as_moment(end)
    _check(group_by, start_at, end_at)
    now = now or timezone.now()
    root = _group_root(user, unit) if group_by == "unit" else None
    counts = _aggregates(now)
    # Grouping by unit looks at the root's subtree only (a department's appeals may lie anywhere).
    qs = _population(user, unit=root or unit, department=department, category=category, start=start_at, end=end_at)
    if group_by is None:
        rows: Iterable[Mapping[str, Any]] = [{"_group": None, **qs.aggregate(**counts)}]
    else:
        rows = qs.annotate(_group=_group_expression(group_by, root)).values("_group").annotate(**counts)
    by_key = {_normal_key(group_by, r["_group"]): _unpack(r) for r in rows}
    return _result(group_by, root, by_key, start_at, end_at)


def _normal_key(group_by: str | None, value: Any) -> str | int | None:
    if group_by == "month":
        if value is None:
            return None
        if isinstance(value, str):  # a raw SQLite row
            return value[:7]
        return timezone.localtime(value, _tz()).strftime("%Y-%m") if timezone.is_aware(value) else value.strftime("%Y-%m")
    if group_by is None:
        return None
    return value


def _labels(group_by: str | None, root: OrgUnit | None, keys: Iterable[Any]) -> dict[Any, tuple[str, tuple[Any, ...]]]:
    """key → (label, sort key), read in one query per grouping."""
    keys = list(keys)
    if group_by == "unit":
        assert root is not None
        kids = {u.code: u for u in OrgUnit.objects.filter(parent=root)}
        out: dict[Any, tuple[str, tuple[Any, ...]]] = {}
        for k in keys:
            if k == "" or k is None:
                out[k] = (_("%(name)s（本级）") % {"name": root.name}, ("",))
            else:
                out[k] = (kids[k].name if k in kids else str(k), (str(k),))
        return out
    if group_by == "department":
        depts = {pk: (name, code) for pk, name, code in Department.objects.filter(pk__in=keys).values_list("pk", "name", "code")}
        return {k: (depts[k][0] if k in depts else _("未交办"), (k is None, depts[k][1] if k in depts else "")) for k in keys}
    if group_by == "category":
        cats = {c.pk: c for c in Category.objects.filter(pk__in=[k for k in keys if k is not None])}
        return {
            k: (cats[k].name if k in cats else _("未分类"), (k is None, cats[k].sort_order if k in cats else 0, k or 0))
            for k in keys
        }
    if group_by == "month":
        return {k: (str(k or "—"), (str(k or ""),)) for k in keys}
    return dict.fromkeys(keys, ("", ()))


def _result(
    group_by: str | None, root: OrgUnit | None, by_key: Mapping[Any, Mapping[str, Any]], start: datetime, end: datetime
) -> MetricsResult:
    totals = {k: sum(int(r[k] or 0) for r in by_key.values()) for k in COUNTS}
    groups: list[MetricsGroup] = []
    if group_by is not None:
        labels = _labels(group_by, root, by_key)
        for key in sorted(by_key, key=lambda k: labels[k][1]):
            groups.append(MetricsGroup(key=key, label=labels[key][0], metrics=Metrics.from_counts(by_key[key])))
    return MetricsResult(start=start, end=end, group_by=group_by, total=Metrics.from_counts(totals), groups=groups)


# --- the same numbers by one handwritten statement (the benchmark's baseline) ---------------------


def _like_prefix(path: str) -> str:
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def metrics_raw_sql(
    user: Any,
    *,
    unit: OrgUnit | None = None,
    department: Department | None = None,
    category: Category | None = None,
    start: date | datetime,
    end: date | datetime,
    group_by: str | None = None,
    now: datetime | None = None,
) -> MetricsResult:
    """``metrics_for`` written by hand as one SQL statement (PostgreSQL and SQLite).

    The population is selected once into a materialised CTE with, per appeal, whether a reply
    was late, the latest rating and whether a leader took it up; the counts are taken over it.
    """
    start_at, end_at = as_moment(start), as_moment(end)
    _check(group_by, start_at, end_at)
    now = now or timezone.now()
    root = _group_root(user, unit) if group_by == "unit" else None
    vendor = connection.vendor
    ops = connection.ops

    def dt(value: datetime) -> Any:
        return ops.adapt_datetimefield_value(value)

    appeal_t, unit_t, cat_t = Appeal._meta.db_table, OrgUnit._meta.db_table, Category._meta.db_table
    reply_t, fb_t, sup_t, asg_t = (
        Reply._meta.db_table,
        Feedback._meta.db_table,
        Supervision._meta.db_table,
        Assignment._meta.db_table,
    )
    where: list[str] = ["a.submitted_at >= %s", "a.submitted_at < %s"]
    params: list[Any] = [dt(start_at), dt(end_at)]

    # Scope: the same rule as selectors.appeals_visible_to, spelled out.
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_resident", False):
        where.append("a.resident_id = %s")
        params.append(user.pk)
    else:
        scope = scope_for(user)
        if not scope.everything:
            ors: list[str] = []
            for path in scope.paths:
                ors.append("u.path LIKE %s ESCAPE '\\'")
                params.append(_like_prefix(path))
            if scope.department_ids:
                ids = sorted(scope.department_ids)
                marks = ", ".join(["%s"] * len(ids))
                ors.append(f"a.department_id IN ({marks})")
                assisting = f"EXISTS (SELECT 1 FROM {asg_t} s WHERE s.appeal_id = a.id AND s.role = %s AND s.state = %s"  # noqa: S608
                ors.append(f"{assisting} AND s.department_id IN ({marks}))")
                params += [*ids, AssignmentRole.ASSIST, AssignmentState.ACTIVE, *ids]
            where.append("(" + " OR ".join(ors) + ")" if ors else "1 = 0")
    within = root or unit
    if within is not None:
        where.append("u.path LIKE %s ESCAPE '\\'")
        params.append(_like_prefix(within.path))
    if department is not None:
        where.append("a.department_id = %s")
        params.append(department.pk)
    if category is not None:
        where.append("(a.category_id = %s OR c.parent_id = %s)")
        params += [category.pk, category.pk]

    key_params: list[Any] = []
    if group_by == "department":
        key = "a.department_id"
    elif group_by == "category":
        key = "COALESCE(c.parent_id, a.category_id)"
    elif group_by == "month":
        if vendor == "postgresql":
            key = "to_char(a.submitted_at AT TIME ZONE %s, 'YYYY-MM')"
            key_params.append(settings.TIME_ZONE)
        else:  # Django's own SQLite function, the one TruncMonth uses
            key = "substr(django_datetime_trunc('month', a.submitted_at, %s, 'UTC'), 1, 7)"
            key_params.append(settings.TIME_ZONE)
    elif group_by == "unit":
        assert root is not None
        find = "strpos" if vendor == "postgresql" else "instr"
        n = len(root.path)
        key = (
            f"CASE WHEN u.path = %s THEN '' ELSE substr(substr(u.path, {n + 1}), 1,"
            f" {find}(substr(u.path, {n + 1}), '/') - 1) END"
        )
        key_params.append(root.path)
    else:
        key = "0"

    s = {
        "submitted": Status.SUBMITTED.value,
        "declined": Status.DECLINED.value,
        "closed": Status.CLOSED.value,
    }
    awaiting = ", ".join(f"'{st.value}'" for st in AWAITING_REPLY)
    answered = ", ".join(f"'{st.value}'" for st in ANSWERED_STATUSES)
    concluded = ", ".join(f"'{st.value}'" for st in CONCLUDED_STATUSES)
    satisfied = ", ".join(f"'{v.value}'" for v in SATISFIED)
    # "IS NOT NULL" so that NOT (…) is true, not unknown, for an appeal without a due date.
    reg_late = f"(p.status = '{s['submitted']}' AND p.paused_at IS NULL AND p.register_due IS NOT NULL AND p.register_due < %s)"
    reply_late = f"(p.status IN ({awaiting}) AND p.paused_at IS NULL AND p.reply_due IS NOT NULL AND p.reply_due < %s)"
    sql = f"""
WITH pop AS MATERIALIZED (
    SELECT {key} AS k, a.status, a.registered_at, a.register_due, a.replied_at, a.reply_due, a.closed_at, a.resolved,
           a.paused_at, a.repeat_of_id,
           CASE WHEN a.replied_at IS NOT NULL THEN
               EXISTS (SELECT 1 FROM {reply_t} r WHERE r.appeal_id = a.id AND r.on_time IS FALSE) END AS late,
           CASE WHEN a.replied_at IS NOT NULL THEN
               (SELECT f.department_rating FROM {fb_t} f WHERE f.appeal_id = a.id ORDER BY f.created_at DESC, f.id DESC LIMIT 1)
           END AS rating,
           EXISTS (SELECT 1 FROM {sup_t} sv WHERE sv.appeal_id = a.id AND sv.kind = '{SupervisionKind.LEADER.value}') AS leader
    FROM {appeal_t} a
    JOIN {unit_t} u ON u.id = a.unit_id
    LEFT JOIN {cat_t} c ON c.id = a.category_id
    WHERE {" AND ".join(where)}
)
SELECT p.k,
    COUNT(*),
    COUNT(*) FILTER (WHERE p.registered_at IS NOT NULL OR p.status = '{s["declined"]}' OR {reg_late}),
    COUNT(*) FILTER (WHERE (p.registered_at IS NOT NULL AND (p.register_due IS NULL OR p.registered_at <= p.register_due))
                        OR (p.status = '{s["declined"]}' AND (p.register_due IS NULL OR p.closed_at <= p.register_due))),
    COUNT(*) FILTER (WHERE p.replied_at IS NOT NULL OR {reply_late}),
    COUNT(*) FILTER (WHERE p.replied_at IS NOT NULL AND NOT {reply_late} AND p.late IS FALSE),
    COUNT(*) FILTER (WHERE p.replied_at IS NOT NULL),
    COUNT(*) FILTER (WHERE p.status = '{s["closed"]}'),
    COUNT(*) FILTER (WHERE p.status = '{s["closed"]}' AND (p.reply_due IS NULL OR p.closed_at <= p.reply_due)),
    COUNT(*) FILTER (WHERE p.status = '{s["closed"]}' AND p.resolved IS TRUE),
    COUNT(*) FILTER (WHERE p.rating IS NOT NULL),
    COUNT(*) FILTER (WHERE p.rating IN ({satisfied})),
    COUNT(*) FILTER (WHERE p.repeat_of_id IS NOT NULL),
    COUNT(*) FILTER (WHERE p.leader),
    COUNT(*) FILTER (WHERE p.leader AND p.status = '{s["closed"]}' AND p.resolved IS TRUE),
    COUNT(*) FILTER (WHERE p.status IN ({answered})),
    COUNT(*) FILTER (WHERE p.status IN ({concluded}))
FROM pop p
GROUP BY p.k
"""  # noqa: S608  (no user text is interpolated: table names, enum values and %s parameters only)
    when = dt(now)
    all_params = key_params + params + [when, when, when]
    with connection.cursor() as cur:
        cur.execute(sql, all_params)
        rows = cur.fetchall()
    by_key: dict[Any, dict[str, Any]] = {}
    for row in rows:
        by_key[_normal_key(group_by, row[0])] = dict(zip(COUNTS, row[1:], strict=True))
    return _result(group_by, root, by_key, start_at, end_at)
