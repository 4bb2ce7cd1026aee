"""The org tree, people and roles in the Chinese admin."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, Division, Membership, Unit, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["division", "unit"]


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "parent", "division", "enforcement"]
    list_filter = ["kind", "enforcement"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent", "division"]


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = ["username", "display_name", "phone", "is_active"]
    search_fields = ["username", "display_name", "phone"]
    fieldsets = [*UserAdmin.fieldsets, ("台账", {"fields": ["display_name", "phone"]})]
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at", "last_used_at", "revoked"]
    readonly_fields = ["token_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False  # tokens are issued by `taizhang token create`, which shows the raw value once
