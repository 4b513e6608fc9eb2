from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "kind", "is_active", "is_staff")
    list_filter = ("kind", "is_active", "is_staff")
    search_fields = ("username", "display_name")
    fieldsets = (*BaseUserAdmin.fieldsets, ("筑城", {"fields": ("kind", "display_name")}))  # type: ignore[operator,misc]
