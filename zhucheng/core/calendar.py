"""The statutory working-day calendar (工作日历): is a day a working day, and deadline arithmetic.

A day is a working day by the Monday–Friday rule unless ``HolidayCalendar`` lists it (a statutory
holiday on a weekday, or an adjusted working weekend day, 调休上班). A year counts as *known*
when it has a ``CalendarYear`` row (its arrangement was published and loaded); results that
cross an unknown year are marked ``provisional`` because they rest on the weekday rule alone.

Rows are read once per year and kept in this process; saving or deleting a calendar row clears
that cache (signals connected below, so importing this module is all it takes), and a
time-to-live bounds staleness caused by edits made in other processes.

``load_chinese_calendar`` fills the tables from the ``chinesecalendar`` package; the
``load_holidays`` command and the data migration ``0003_seed_holidays`` both call it.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from zhucheng.core.caches import clear_on_change

from .models import CalendarYear, HolidayCalendar

__all__ = [
    "CalendarResult",
    "LoadReport",
    "add_calendar_days",
    "add_working_days",
    "clear_cache",
    "is_working_day",
    "load_chinese_calendar",
    "working_days_between",
]

CACHE_TTL_SECONDS = 600.0
SOURCE_PACKAGE = "chinesecalendar"


@dataclass(frozen=True)
class CalendarResult:
    """A computed date, and whether it rests on the Monday–Friday rule for a year not yet published."""

    date: date
    provisional: bool


@dataclass(frozen=True)
class _Year:
    known: bool
    exceptions: Mapping[date, bool]


_cache: dict[int, _Year] = {}
_cache_born = time.monotonic()
_lock = threading.Lock()


def clear_cache(**_: Any) -> None:
    """Forget every cached year (signal receiver; tests call it after rolling data back)."""
    global _cache_born
    with _lock:
        _cache.clear()
        _cache_born = time.monotonic()


clear_on_change(clear_cache, HolidayCalendar, CalendarYear, uid="core.calendar")


def _load(first: int, last: int) -> None:
    """Cache years ``first``..``last``: one query for the exceptions, one for the known years."""
    rows = HolidayCalendar.objects.filter(date__gte=date(first, 1, 1), date__lte=date(last, 12, 31)).values_list(
        "date", "is_working_day"
    )
    known = set(CalendarYear.objects.filter(year__gte=first, year__lte=last).values_list("year", flat=True))
    by_year: dict[int, dict[date, bool]] = defaultdict(dict)
    for day, working in rows:
        by_year[day.year][day] = working
    with _lock:
        for year in range(first, last + 1):
            _cache[year] = _Year(known=year in known, exceptions=by_year.get(year, {}))


def _year(year: int) -> _Year:
    if time.monotonic() - _cache_born > CACHE_TTL_SECONDS:
        clear_cache()
    cached = _cache.get(year)
    if cached is None:
        _load(year, year)
        cached = _cache[year]
    return cached


def _prefetch(start: date, end: date) -> None:
    """Load every uncached year between two dates with one query."""
    first, last = min(start, end).year, max(start, end).year
    if time.monotonic() - _cache_born > CACHE_TTL_SECONDS:
        clear_cache()
    if any(y not in _cache for y in range(first, last + 1)):
        _load(first, last)


def _weekday_rule(day: date) -> bool:
    return day.weekday() < 5


def is_working_day(day: date) -> bool:
    """True on a working day: listed exceptions first, otherwise Monday to Friday.

    Rows entered for a year that has no ``CalendarYear`` yet are honoured too; such a year
    only makes results *provisional*.
    """
    return _year(day.year).exceptions.get(day, _weekday_rule(day))


def _is_known(day: date) -> bool:
    return _year(day.year).known


def _span(start: date, n: int) -> date:
    """A generous guess at where ``n`` working days from ``start`` end, for prefetching."""
    days = abs(n) * 7 // 5 + 21
    try:
        return start + timedelta(days=days if n >= 0 else -days)
    except OverflowError:
        return date.max if n >= 0 else date.min


def add_working_days(start: date, n: int) -> CalendarResult:
    """The ``n``-th working day after ``start`` (``start`` itself never counts).

    ``n=0`` returns ``start`` unchanged (even on a holiday); ``n=1`` from a Friday before a
    normal weekend gives the Monday; a negative ``n`` counts back to the ``|n|``-th working
    day before ``start``. ``provisional`` is True when any day passed over, from the day
    after ``start`` to the result, lies in a year with no ``CalendarYear``.
    """
    if n == 0:
        return CalendarResult(date=start, provisional=False)
    _prefetch(start, _span(start, n))
    step = timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    provisional = False
    day = start
    while remaining:
        day += step
        provisional = provisional or not _is_known(day)
        if is_working_day(day):
            remaining -= 1
    return CalendarResult(date=day, provisional=provisional)


def add_calendar_days(start: date, n: int, *, roll_to_working_day: bool = True) -> CalendarResult:
    """``start`` plus ``n`` calendar days; a period ending on a rest day ends on the next working day.

    That roll-over is the general rule for statutory periods counted in days (期间届满的最后一日
    是法定休假日的,以法定休假日后的第一日为期间届满的日期); pass ``roll_to_working_day=False``
    for plain date arithmetic. ``provisional`` is True when a day looked at for the roll-over
    lies in a year with no ``CalendarYear``.
    """
    end = start + timedelta(days=n)
    if not roll_to_working_day:
        return CalendarResult(date=end, provisional=False)
    _prefetch(end, end + timedelta(days=14))
    provisional = not _is_known(end)
    while not is_working_day(end):
        end += timedelta(days=1)
        provisional = provisional or not _is_known(end)
    return CalendarResult(date=end, provisional=provisional)


def _weekdays_in(after: date, upto: date) -> int:
    """Count of Monday–Friday days ``d`` with ``after < d <= upto`` (``after <= upto``)."""
    total = (upto - after).days
    full_weeks, rest = divmod(total, 7)
    count = full_weeks * 5
    day = after
    for _ in range(rest):
        day += timedelta(days=1)
        if _weekday_rule(day):
            count += 1
    return count


def working_days_between(a: date, b: date) -> int:
    """Working days ``d`` with ``a < d <= b`` (negative when ``b`` is before ``a``).

    The inverse of ``add_working_days``: ``add_working_days(a, working_days_between(a, b))``
    is ``b`` whenever ``b`` is a working day after ``a``.
    """
    if b < a:
        return -working_days_between(b, a)
    if a == b:
        return 0
    _prefetch(a, b)
    count = _weekdays_in(a, b)
    for year in range(a.year, b.year + 1):
        for day, working in _year(year).exceptions.items():
            if a < day <= b and working != _weekday_rule(day):
                count += 1 if working else -1
    return count


# --- Loading the published arrangements ------------------------------------------------------


@dataclass
class LoadReport:
    """What ``load_chinese_calendar`` did (or would do, in a dry run)."""

    years_loaded: list[int] = field(default_factory=list)
    years_skipped: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    deleted: int = 0


def _package_days() -> tuple[set[int], dict[int, dict[date, tuple[bool, str]]]]:
    """(years the package covers, exceptions by year) from the ``chinesecalendar`` package.

    A year counts as covered when the package has its Spring Festival: each year's State
    Council notice sets it, while a lone early date (a New Year's Day of the next year, say)
    does not mean that next year was published.
    """
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    def chinese(name: str) -> str:
        try:
            return str(Holiday(name).chinese)
        except ValueError:
            return name

    covered = {d.year for d, name in chinese_calendar.holidays.items() if name == Holiday.spring_festival.value}
    days: dict[int, dict[date, tuple[bool, str]]] = defaultdict(dict)
    for day, name in chinese_calendar.holidays.items():
        if _weekday_rule(day):  # a holiday falling on a weekend needs no row
            days[day.year][day] = (False, chinese(name)[:60])
    for day, name in chinese_calendar.workdays.items():
        if not _weekday_rule(day):
            days[day.year][day] = (True, (chinese(name) + "调休上班")[:60])
    return covered, dict(days)


def load_chinese_calendar(
    *,
    calendar_year_model: Any = CalendarYear,
    holiday_model: Any = HolidayCalendar,
    overwrite: bool = False,
    dry_run: bool = False,
    years: Iterable[int] | None = None,
) -> LoadReport:
    """Bring ``CalendarYear``/``HolidayCalendar`` in line with the package, for every year it covers.

    Idempotent: a second run changes nothing. A covered year is synchronised (rows created,
    corrected, and rows the package does not list removed). Years an administrator maintains
    (``CalendarYear.source`` other than ``chinesecalendar``) are left alone unless ``overwrite``.
    Takes the model classes so the data migration can pass its historical models.
    """
    covered, days = _package_days()
    wanted = set(years) if years is not None else None
    report = LoadReport()
    existing_years = {y.year: y for y in calendar_year_model.objects.all()}
    with transaction.atomic():
        for year in sorted(set(days) | covered):
            if wanted is not None and year not in wanted:
                continue
            current = existing_years.get(year)
            if current is not None and current.source != SOURCE_PACKAGE and not overwrite:
                report.years_skipped.append(year)
                continue
            is_covered = year in covered
            rows = {r.date: r for r in holiday_model.objects.filter(date__year=year)}
            package = days.get(year, {})
            to_create = [holiday_model(date=d, is_working_day=w, name=name) for d, (w, name) in package.items() if d not in rows]
            to_update = []
            for d, (w, name) in package.items():
                row = rows.get(d)
                if row is not None and (row.is_working_day, row.name) != (w, name):
                    row.is_working_day, row.name = w, name
                    to_update.append(row)
            # Only a year the package covers is owned by it: stray rows elsewhere are kept.
            stale = [r.pk for d, r in rows.items() if d not in package] if is_covered else []
            report.created += len(to_create)
            report.updated += len(to_update)
            report.deleted += len(stale)
            if is_covered:
                report.years_loaded.append(year)
            if dry_run:
                continue
            holiday_model.objects.bulk_create(to_create)
            if to_update:
                holiday_model.objects.bulk_update(to_update, ["is_working_day", "name"])
            if stale:
                holiday_model.objects.filter(pk__in=stale).delete()
            if is_covered and (current is None or current.source != SOURCE_PACKAGE):
                calendar_year_model.objects.update_or_create(year=year, defaults={"source": SOURCE_PACKAGE})
    if not dry_run:
        # bulk writes send no signals
        clear_cache()
    return report
