"""Admin for care reference data: categories and their questionnaires, video-link points, homes, the departments'
homeless-assistance sides. Enrolments, consents and visits hold personal data and are worked only through the
scoped pages; sensitive-category grants go through ``services.grant_create`` (audited)."""

from __future__ import annotations

from django.contrib import admin

from .models import CareCategory, CareHome, HomelessAgency, LinkPoint, Questionnaire


@admin.register(CareCategory)
class CareCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sensitivity", "questionnaire", "interval_high", "interval_medium", "interval_low", "is_active")
    list_filter = ("sensitivity", "is_active")
    search_fields = ("code", "name")


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "medium_from", "high_from")


@admin.register(LinkPoint)
class LinkPointAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit", "opens_at", "closes_at", "slot_minutes", "is_active")
    search_fields = ("code", "name")
    autocomplete_fields = ("unit",)


@admin.register(CareHome)
class CareHomeAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "unit", "keeper", "is_active")
    list_filter = ("kind",)
    autocomplete_fields = ("unit",)


@admin.register(HomelessAgency)
class HomelessAgencyAdmin(admin.ModelAdmin):
    list_display = ("department", "side")
