"""The working-day calendar: seeded holidays, deadline arithmetic, provisional years, admin entry, loading."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from zhucheng.core import calendar
from zhucheng.core.calendar import (
    CalendarResult,
    add_calendar_days,
    add_working_days,
    is_working_day,
    working_days_between,
)
from zhucheng.core.models import CalendarYear, HolidayCalendar

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    # Assertions read the Chinese source strings of command output.
    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    # Test rollbacks send no signals: start and end every test with an empty cache.
    calendar.clear_cache()
    yield
    calendar.clear_cache()


def test_migration_seeded_the_package_years() -> None:
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert set(range(2004, 2027)) <= years
    assert not CalendarYear.objects.filter(year=2027).exists()
    national_day = HolidayCalendar.objects.get(date=date(2026, 10, 5))
    assert (national_day.is_working_day, national_day.name) == (False, "国庆节")
    adjusted = HolidayCalendar.objects.get(date=date(2026, 10, 10))
    assert adjusted.is_working_day is True
    # Only departures from the weekday rule are stored.
    assert not HolidayCalendar.objects.filter(date=date(2026, 10, 3)).exists()


def test_is_working_day_around_national_day_2026() -> None:
    # 2026: 1–7 October off; Sunday 20 September and Saturday 10 October are worked (调休).
    assert is_working_day(date(2026, 9, 30))
    for day in range(1, 8):
        assert not is_working_day(date(2026, 10, day))
    assert is_working_day(date(2026, 10, 8))
    assert is_working_day(date(2026, 10, 10))  # Saturday
    assert not is_working_day(date(2026, 10, 11))  # Sunday
    assert is_working_day(date(2026, 9, 20))  # Sunday
    assert not is_working_day(date(2026, 9, 19))  # Saturday


def test_add_working_days_skips_the_holiday() -> None:
    assert add_working_days(date(2026, 9, 30), 1) == CalendarResult(date(2026, 10, 8), provisional=False)
    assert add_working_days(date(2026, 9, 30), 2).date == date(2026, 10, 9)
    # The adjusted Saturday counts.
    assert add_working_days(date(2026, 10, 9), 1).date == date(2026, 10, 10)
    assert add_working_days(date(2026, 9, 30), 4).date == date(2026, 10, 12)


def test_add_working_days_semantics() -> None:
    friday = date(2026, 3, 6)
    assert add_working_days(friday, 0) == CalendarResult(friday, provisional=False)
    holiday = date(2026, 10, 2)
    assert add_working_days(holiday, 0).date == holiday  # n=0 never moves
    assert add_working_days(friday, 1).date == date(2026, 3, 9)  # the start never counts
    assert add_working_days(date(2026, 3, 7), 1).date == date(2026, 3, 9)  # from a Saturday
    assert add_working_days(date(2026, 10, 8), -1).date == date(2026, 9, 30)  # backwards


def test_fifteen_working_days_over_spring_festival_2026() -> None:
    # From Tuesday 10 February: 11, 12, 13, Sat 14 (worked), [15–23 off], 24, 25, 26, 27,
    # Sat 28 (worked), 2, 3, 4, 5, 6 March, then Monday 9 March is the 15th.
    assert add_working_days(date(2026, 2, 10), 15) == CalendarResult(date(2026, 3, 9), provisional=False)
    assert add_working_days(date(2026, 2, 13), 1).date == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 14), 1).date == date(2026, 2, 24)


def test_into_an_unpublished_year_is_provisional() -> None:
    result = add_working_days(date(2026, 12, 30), 3)
    # 31 Dec (Thu), 1 Jan 2027 (Fri, by the weekday rule), 4 Jan (Mon).
    assert result == CalendarResult(date(2027, 1, 4), provisional=True)
    assert add_working_days(date(2026, 12, 29), 2) == CalendarResult(date(2026, 12, 31), provisional=False)
    assert add_working_days(date(2027, 3, 5), 1) == CalendarResult(date(2027, 3, 8), provisional=True)


def test_admin_entered_2027_holiday_is_used_and_ends_provisional(admin_client) -> None:  # type: ignore[no-untyped-def]
    assert add_working_days(date(2026, 12, 31), 1) == CalendarResult(date(2027, 1, 1), provisional=True)  # cache warm

    response = admin_client.post(
        reverse("admin:core_holidaycalendar_add"),
        {"date": "2027-01-01", "is_working_day": "", "name": "元旦"},
        follow=True,
    )
    assert response.status_code == 200
    assert HolidayCalendar.objects.filter(date=date(2027, 1, 1), is_working_day=False).exists()
    assert "临时" in response.content.decode()  # warned that 2027 is not yet marked known
    # The holiday counts at once (signals cleared the cache); 2027 is still provisional.
    assert add_working_days(date(2026, 12, 31), 1) == CalendarResult(date(2027, 1, 4), provisional=True)

    add_form = admin_client.get(reverse("admin:core_calendaryear_add"))
    assert add_form.status_code == 200
    response = admin_client.post(
        reverse("admin:core_calendaryear_add"), {"year": "2027", "source": "admin", "note": "国办发明电"}
    )
    assert response.status_code == 302
    assert add_working_days(date(2026, 12, 31), 1) == CalendarResult(date(2027, 1, 4), provisional=False)
    assert not is_working_day(date(2027, 1, 1))

    changelist = admin_client.get(reverse("admin:core_calendaryear_changelist"))
    assert changelist.status_code == 200
    assert admin_client.get(reverse("admin:core_holidaycalendar_changelist")).status_code == 200


def test_deleting_a_row_is_seen_at_once() -> None:
    assert not is_working_day(date(2026, 10, 5))
    HolidayCalendar.objects.filter(date=date(2026, 10, 5)).first().delete()  # type: ignore[union-attr]
    assert is_working_day(date(2026, 10, 5))


def test_working_days_between() -> None:
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert working_days_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert working_days_between(date(2026, 10, 1), date(2026, 10, 1)) == 0
    assert working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0


@pytest.mark.parametrize("start", [date(2025, 12, 20), date(2026, 2, 1), date(2026, 9, 15), date(2026, 12, 1)])
def test_working_days_between_inverts_add_working_days(start: date) -> None:
    for n in range(0, 45, 4):
        end = add_working_days(start, n).date
        assert working_days_between(start, end) == n
        # And day by day, against is_working_day.
        assert sum(is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)) == n


def test_add_calendar_days_rolls_off_a_holiday() -> None:
    assert add_calendar_days(date(2026, 9, 24), 7) == CalendarResult(date(2026, 10, 8), provisional=False)
    assert add_calendar_days(date(2026, 9, 24), 7, roll_to_working_day=False).date == date(2026, 10, 1)
    assert add_calendar_days(date(2026, 3, 2), 3).date == date(2026, 3, 5)
    assert add_calendar_days(date(2026, 12, 20), 12) == CalendarResult(date(2027, 1, 1), provisional=True)


def test_reads_are_cached(django_assert_max_num_queries, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(2):
        add_working_days(date(2025, 12, 1), 60)  # crosses into 2026: still one load
    with django_assert_num_queries(0):
        add_working_days(date(2025, 12, 1), 60)
        is_working_day(date(2026, 5, 1))
        working_days_between(date(2025, 12, 1), date(2026, 3, 1))


def run_load(*args: str) -> str:
    out = StringIO()
    call_command("load_holidays", *args, stdout=out)
    return out.getvalue()


def test_load_holidays_is_idempotent_and_repairs() -> None:
    before = HolidayCalendar.objects.count()
    assert "新增 0 天,修改 0 天,删除 0 天" in run_load()
    assert HolidayCalendar.objects.count() == before

    HolidayCalendar.objects.filter(date=date(2026, 10, 5)).delete()
    HolidayCalendar.objects.filter(date=date(2026, 10, 6)).update(name="改错了", is_working_day=True)
    HolidayCalendar.objects.create(date=date(2026, 11, 11), is_working_day=False, name="stray")
    assert "试运行" in run_load("--dry-run")
    assert not HolidayCalendar.objects.filter(date=date(2026, 10, 5)).exists()

    assert "新增 1 天,修改 1 天,删除 1 天" in run_load()
    assert HolidayCalendar.objects.count() == before
    assert HolidayCalendar.objects.get(date=date(2026, 10, 6)).name == "国庆节"
    assert not is_working_day(date(2026, 10, 5))


def test_load_holidays_leaves_admin_years_alone() -> None:
    CalendarYear.objects.filter(year=2026).update(source="admin")
    HolidayCalendar.objects.create(date=date(2026, 11, 11), is_working_day=False, name="本地假日")
    output = run_load()
    assert "2026" in output and "--overwrite" in output
    assert HolidayCalendar.objects.filter(date=date(2026, 11, 11)).exists()
    run_load("--overwrite", "--year", "2026")
    assert not HolidayCalendar.objects.filter(date=date(2026, 11, 11)).exists()
    assert CalendarYear.objects.get(year=2026).source == "chinesecalendar"


def test_load_into_empty_tables() -> None:
    HolidayCalendar.objects.all().delete()
    CalendarYear.objects.all().delete()
    calendar.clear_cache()
    assert add_working_days(date(2026, 9, 30), 1) == CalendarResult(date(2026, 10, 1), provisional=True)
    output = run_load()
    assert "2004–2026" in output
    assert add_working_days(date(2026, 9, 30), 1) == CalendarResult(date(2026, 10, 8), provisional=False)
