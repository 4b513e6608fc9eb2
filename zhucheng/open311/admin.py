"""Admin for Open311: API clients (a key is shown once, when created), service attributes, submissions (read only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record

from . import keys
from .models import ApiClient, RequestAttributeValue, ServiceAttribute, ServiceRequest


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "is_active", "rate_limit", "created_at", "last_used_at", "revoked_at")
    list_filter = ("is_active",)
    search_fields = ("name", "key_prefix", "note")
    filter_horizontal = ("categories",)
    readonly_fields = ("key_prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "key_prefix", "categories", "rate_limit", "is_active", "note", "created_at", "last_used_at", "revoked_at")

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        if not change:
            key = keys.new_key()
            obj.key_prefix, obj.key_hash = key[: keys.PREFIX_LENGTH], keys.hash_key(key)
            super().save_model(request, obj, form, change)
            audit_record(actor=request.user, act="open311.key_create", obj=obj, changed_fields=["key_hash"], reason=f"api_client={obj.pk}; admin")
            messages.warning(request, _("新密钥（只显示这一次，请立即复制交给对方）：%(key)s") % {"key": key})
            return
        super().save_model(request, obj, form, change)
        if "is_active" in form.changed_data:
            audit_record(actor=request.user, act="open311.key_revoke" if not obj.is_active else "open311.key_restore", obj=obj, changed_fields=["is_active"])


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ("category", "order", "code", "datatype", "required", "variable", "description", "is_active")
    list_filter = ("datatype", "required", "is_active")
    search_fields = ("code", "description", "category__code", "category__name")
    autocomplete_fields = ("category",)


class RequestAttributeValueInline(admin.TabularInline):
    model = RequestAttributeValue
    extra = 0
    can_delete = False
    readonly_fields = ("code", "value", "attribute")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ("appeal", "client", "created_at", "media_url")
    list_filter = ("client",)
    search_fields = ("appeal__code", "token")
    # Contacts stay out of the admin: the appeal's pages show them masked, with an audited reveal.
    exclude = ("email",)
    readonly_fields = ("appeal", "client", "token", "media_url", "address_id", "device_id", "account_id", "created_at")
    inlines = [RequestAttributeValueInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
