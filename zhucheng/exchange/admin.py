"""Admin for the exchange's feeds (an administrator defines them); batches read-only.

Source records, reviews and merges hold personal data and are worked through the scoped pages.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .feeds import STANDARD_FIELDS, check_mapping
from .models import Feed, ImportBatch


class FeedAdminForm(forms.ModelForm):
    class Meta:
        model = Feed
        fields = ("code", "name", "department", "record_type", "file_format", "encoding", "mapping", "schedule", "unit", "is_active")
        help_texts = {"mapping": _("JSON:{\"源列名\": \"规范字段\"};规范字段:") + ", ".join(STANDARD_FIELDS)}

    def clean_mapping(self) -> Any:
        mapping = self.cleaned_data["mapping"]
        if isinstance(mapping, str):
            mapping = json.loads(mapping)
        problems = check_mapping(mapping)
        if problems:
            raise forms.ValidationError(problems)
        return mapping


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    form = FeedAdminForm
    list_display = ("code", "name", "department", "record_type", "file_format", "encoding", "schedule", "is_active")
    list_filter = ("department", "file_format", "encoding", "is_active")
    search_fields = ("code", "name", "department__name")
    autocomplete_fields = ("unit",)


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "feed", "file_name", "state", "received_at", "received", "rejected", "staged", "matched", "new", "queued")
    list_filter = ("state", "feed")
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
