"""Cases in the admin: read-only, because every change must go through the actions and be recorded."""

from django.contrib import admin

from .models import Attachment, Case, Transition


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TransitionInline(admin.TabularInline):
    model = Transition
    fields = ["seq", "name", "actor_name", "role", "from_state", "to_state", "opinion", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnly):
    list_display = [
        "number",
        "title",
        "mechanism",
        "state",
        "grade",
        "division",
        "unit",
        "due_at",
        "created_at",
    ]
    list_filter = ["mechanism", "state_kind", "grade", "channel"]
    search_fields = ["number", "title", "address"]
    list_select_related = ["division", "unit"]
    inlines = [TransitionInline]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnly):
    list_display = ["original_name", "content_type", "size", "case", "uploaded_by", "created_at"]
    list_select_related = ["case", "uploaded_by"]
