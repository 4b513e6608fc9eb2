"""Exchange reports: the daily exchange summary per department (日交换) and the monthly dispatch
summary (月调度) — volumes, rejection reasons, match rates and the review backlog — over the batches
the user may see.
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Min, QuerySet, Sum
from django.utils import timezone

from zhucheng.places.selectors import scoped

from .models import BatchState, ImportBatch, MergeEvent, RecordState, ReviewItem, ReviewState, RowIssue, SourceRecord
from .selectors import batches_for


@dataclass
class DepartmentLine:
    """One department's exchange over a period."""

    department: str
    batches: int = 0
    failed: int = 0
    received: int = 0
    rejected: int = 0
    duplicates: int = 0
    staged: int = 0
    matched: int = 0
    new: int = 0
    queued: int = 0
    merged: int = 0
    pending: int = 0
    oldest_pending_days: int | None = None
    reasons: list[tuple[str, str, int]] = field(default_factory=list)  # (code, message, rows)

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected / self.received if self.received else None

    @property
    def match_rate(self) -> float | None:
        """Share of linked records that matched a registry person (merged or queued)."""
        linked = self.matched + self.new
        return self.matched / linked if linked else None


@dataclass
class ExchangeReport:
    title: str
    start: date
    end: date  # exclusive
    lines: list[DepartmentLine]
    reasons: list[tuple[str, str, int]]
    total: DepartmentLine
    daily: list[tuple[date, int, int]] = field(default_factory=list)  # (day, received, rejected)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end, time.min, tzinfo=tz)


def _report(user: Any, start: date, end: date, title: str) -> ExchangeReport:
    lo, hi = _bounds(start, end)
    batches: QuerySet[ImportBatch] = batches_for(user).filter(received_at__gte=lo, received_at__lt=hi)
    lines: dict[int, DepartmentLine] = {}
    names: dict[int, str] = {}
    sums = (
        batches.order_by()
        .values("feed__department_id", "feed__department__name", "feed__department__short_name")
        .annotate(
            n=Count("id"),
            received=Sum("received"),
            rejected=Sum("rejected"),
            duplicates=Sum("duplicates"),
            staged=Sum("staged"),
            matched=Sum("matched"),
            new=Sum("new"),
            queued=Sum("queued"),
        )
    )
    for s in sums:
        dept = s["feed__department_id"]
        names[dept] = s["feed__department__short_name"] or s["feed__department__name"]
        lines[dept] = DepartmentLine(
            department=names[dept],
            batches=s["n"],
            received=s["received"] or 0,
            rejected=s["rejected"] or 0,
            duplicates=s["duplicates"] or 0,
            staged=s["staged"] or 0,
            matched=s["matched"] or 0,
            new=s["new"] or 0,
            queued=s["queued"] or 0,
        )
    for dept, n in batches.filter(state=BatchState.FAILED).order_by().values_list("feed__department_id").annotate(n=Count("id")):
        lines[dept].failed = n
    merged = (
        MergeEvent.objects.filter(record__batch__in=batches, undone_at__isnull=True)
        .order_by()
        .values_list("record__feed__department_id")
        .annotate(n=Count("id"))
    )
    for dept, n in merged:
        lines[dept].merged = n
    # Backlog: pending reviews of these departments' records, whenever received (what is still owed).
    pending = (
        scoped(ReviewItem.objects.filter(state=ReviewState.PENDING, record__isnull=False), user)
        .filter(record__feed__department_id__in=list(lines))
        .order_by()
        .values_list("record__feed__department_id")
        .annotate(n=Count("record_id", distinct=True), oldest=Min("created_at"))
    )
    now = timezone.now()
    for dept, n, oldest in pending:
        lines[dept].pending = n
        lines[dept].oldest_pending_days = (now - oldest).days if oldest else None
    reasons_by_dept: dict[int, Counter[tuple[str, str]]] = defaultdict(Counter)
    messages: dict[tuple[str, str], str] = {}
    for dept, code, fld, n in (
        RowIssue.objects.filter(batch__in=batches).order_by().values_list("batch__feed__department_id", "code", "field").annotate(n=Count("id"))
    ):
        reasons_by_dept[dept][(code, fld)] += n
    for code, fld, message in RowIssue.objects.filter(batch__in=batches).order_by("id").values_list("code", "field", "message")[:2000]:
        messages.setdefault((code, fld), message)
    total_reasons: Counter[tuple[str, str]] = Counter()
    for dept, counter in reasons_by_dept.items():
        lines[dept].reasons = [(c, messages.get((c, f), c), n) for (c, f), n in counter.most_common(5)]
        total_reasons.update(counter)
    ordered = sorted(lines.values(), key=lambda line: line.department)
    total = DepartmentLine(department="合计")
    for line in ordered:
        for attr in ("batches", "failed", "received", "rejected", "duplicates", "staged", "matched", "new", "queued", "merged", "pending"):
            setattr(total, attr, getattr(total, attr) + getattr(line, attr))
    olds = [line.oldest_pending_days for line in ordered if line.oldest_pending_days is not None]
    total.oldest_pending_days = max(olds) if olds else None
    reasons = [(c, messages.get((c, f), c), n) for (c, f), n in total_reasons.most_common(10)]
    return ExchangeReport(title, start, end, ordered, reasons, total)


def daily_summary(user: Any, day: date | None = None) -> ExchangeReport:
    """日交换: each department's batches received on ``day``."""
    day = day or timezone.localdate()
    return _report(user, day, day + timedelta(days=1), f"{day:%Y年%m月%d日} 日交换")


def monthly_dispatch(user: Any, year: int, month: int) -> ExchangeReport:
    """月调度: the month's volumes, rejection reasons, match rates and review backlog per department."""
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1]) + timedelta(days=1)
    report = _report(user, start, end, f"{year}年{month}月 月调度")
    lo, hi = _bounds(start, end)
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for received_at, received, rejected in batches_for(user).filter(received_at__gte=lo, received_at__lt=hi).values_list("received_at", "received", "rejected"):
        d = timezone.localtime(received_at).date()
        per_day[d][0] += received
        per_day[d][1] += rejected
    report.daily = [(d, v[0], v[1]) for d, v in sorted(per_day.items())]
    return report


def record_states(user: Any) -> dict[str, int]:
    """Source records by state (for the home page)."""
    rows = scoped(SourceRecord.objects.all(), user).order_by().values_list("state").annotate(n=Count("id"))
    return {str(RecordState(s).label): n for s, n in rows}
