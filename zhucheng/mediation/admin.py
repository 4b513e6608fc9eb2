"""Admin for mediation reference data: committees, rooms, mediators and the risk factors' weights.

Disputes, parties and agreements hold personal data and are worked only through the scoped pages.
"""

from __future__ import annotations

from django.contrib import admin

from .models import Committee, Mediator, RiskFactor, Room


@admin.register(Committee)
class CommitteeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "field", "unit", "phone", "is_active")
    list_filter = ("field", "is_active")
    search_fields = ("code", "name")
    autocomplete_fields = ("unit",)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit", "committee", "open_days", "opens_at", "closes_at", "is_active")
    list_filter = ("is_active", "committee")
    search_fields = ("code", "name", "unit__name", "address")
    autocomplete_fields = ("unit", "committee")


@admin.register(Mediator)
class MediatorAdmin(admin.ModelAdmin):
    list_display = ("name", "affiliation", "committee", "unit", "fields", "languages", "max_load", "is_active")
    list_filter = ("affiliation", "is_active", "committee")
    search_fields = ("name", "unit__name", "user__username")
    autocomplete_fields = ("unit", "committee", "user")
    exclude = ("phone_hash",)


@admin.register(RiskFactor)
class RiskFactorAdmin(admin.ModelAdmin):
    """Weights (points at full strength) and saturation (the input that earns the full weight)."""

    list_display = ("code", "weight", "saturation", "is_active", "note")
    list_editable = ("weight", "saturation", "is_active")
    list_filter = ("is_active",)
