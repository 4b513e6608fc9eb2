"""Seed the working-day calendar with every year the ``chinesecalendar`` package publishes.

Fresh databases (and test databases) then know the statutory holidays without a manual step;
``./zc manage load_holidays`` runs the same loader after a package upgrade.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from zhucheng.core.calendar import load_chinese_calendar

    load_chinese_calendar(
        calendar_year_model=apps.get_model("core", "CalendarYear"),
        holiday_model=apps.get_model("core", "HolidayCalendar"),
    )


def unseed(apps, schema_editor):
    # Remove only what the package owns; years an administrator entered stay.
    CalendarYear = apps.get_model("core", "CalendarYear")
    HolidayCalendar = apps.get_model("core", "HolidayCalendar")
    years = list(CalendarYear.objects.filter(source="chinesecalendar").values_list("year", flat=True))
    HolidayCalendar.objects.filter(date__year__in=years).delete()
    CalendarYear.objects.filter(year__in=years).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only_trigger")]
    operations = [migrations.RunPython(seed, unseed)]
