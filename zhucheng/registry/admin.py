"""Admin for the registry's reference data: points-based settlement rules and yearly quotas.

Personal records (persons, residences, permits …) are deliberately not in the admin: the admin
would bypass scoping and the audited reveal of identifiers. They are read and changed through
the registry's pages and services only.
"""

from __future__ import annotations

from django.contrib import admin

from .models import PointsQuota, PointsRule


@admin.register(PointsRule)
class PointsRuleAdmin(admin.ModelAdmin):
    list_display = ("order", "code", "name", "kind", "params", "is_active")
    list_display_links = ("code", "name")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    ordering = ("order", "code")


@admin.register(PointsQuota)
class PointsQuotaAdmin(admin.ModelAdmin):
    list_display = ("year", "quota")
    ordering = ("-year",)
