"""Django admin for participation reference data (budgets, headings, councils). Ballots are not here."""

from django.contrib import admin

from .models import Budget, Council, CouncilMember, Heading


class HeadingInline(admin.TabularInline):
    model = Heading
    extra = 0


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "year", "phase", "amount_fen", "voting_rule")
    list_filter = ("phase", "voting_rule", "year")
    readonly_fields = ("phase", "phase_since")
    inlines = [HeadingInline]


class MemberInline(admin.TabularInline):
    model = CouncilMember
    extra = 0


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    list_display = ("name", "unit")
    inlines = [MemberInline]
