"""Admin for the core app: the working-day calendar (editable) and the audit trail (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, ExtractYear
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, CalendarYear, HolidayCalendar

_WEEKDAYS = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """A year is marked known once its holiday arrangement has been entered in full."""

    list_display = ("year", "source", "note", "day_count")
    search_fields = ("year", "note")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # A year entered by hand must not look like package data (load_holidays would overwrite it).
        return {"source": "admin", **super().get_changeform_initial_data(request)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarYear]:
        per_year = (
            HolidayCalendar.objects.annotate(y=ExtractYear("date"))
            .filter(y=OuterRef("year"))
            .values("y")
            .annotate(n=Count("id"))
            .values("n")
        )
        return super().get_queryset(request).annotate(_day_count=Coalesce(Subquery(per_year, output_field=IntegerField()), 0))

    @admin.display(description=_("节假日安排天数"), ordering="_day_count")
    def day_count(self, obj: CalendarYear) -> int:
        return int(getattr(obj, "_day_count", 0))


@admin.register(HolidayCalendar)
class HolidayCalendarAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "is_working_day", "name")
    list_filter = ("is_working_day",)
    search_fields = ("name",)
    date_hierarchy = "date"

    @admin.display(description=_("星期"))
    def weekday(self, obj: HolidayCalendar) -> str:
        return str(_WEEKDAYS[obj.date.weekday()])

    def save_model(self, request: HttpRequest, obj: HolidayCalendar, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not CalendarYear.objects.filter(year=obj.date.year).exists():
            messages.warning(
                request,
                gettext(
                    "%(year)s 年尚未登记为已公布年度:该年的期限计算仍标记为“临时”。"
                    "录入全部安排后,请在“日历年度”中添加 %(year)s 年。"
                )
                % {"year": obj.date.year},
            )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Viewing only: the trail is append-only and written by ``core.audit.audit_record``."""

    list_display = ("occurred_at", "act", "actor_label", "object_type", "object_id", "request_id", "ip")
    list_filter = ("act",)
    search_fields = ("act", "actor_label", "object_type", "object_id", "request_id")
    date_hierarchy = "occurred_at"
    list_select_related = False
    show_full_result_count = False  # a COUNT over a long trail on every page is wasted work

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
