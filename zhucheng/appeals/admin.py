"""Admin for the appeals reference data: categories, routing rules, deadline policies."""

from __future__ import annotations

from django.contrib import admin

from .models import Category, DeadlinePolicy, RoutingRule


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "parent", "is_active", "sort_order")
    list_filter = ("is_active", "parent")
    search_fields = ("code", "name", "name_en")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "unit", "department", "priority", "is_active", "note")
    list_filter = ("is_active", "department")
    search_fields = ("category__name", "unit__name", "department__name", "note")
    autocomplete_fields = ("category", "unit", "department")


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "urgency",
        "register_amount",
        "register_unit",
        "reply_amount",
        "reply_unit",
        "extension_max",
        "is_active",
    )
