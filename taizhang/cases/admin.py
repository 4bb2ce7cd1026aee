"""Cases in the admin: read-only, because every change must go through the actions and be recorded."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

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
    list_display = [
        "original_name",
        "content_type",
        "size",
        "case",
        "uploaded_by",
        "created_at",
        "claimed_at",
    ]
    list_select_related = ["case", "uploaded_by"]
    # The file through the checked download view: media has no URL of its own.
    fields = [
        "download",
        "content_type",
        "size",
        "sha256",
        "case",
        "transition",
        "uploaded_by",
        "created_at",
        "claimed_at",
    ]
    readonly_fields = fields

    @admin.display(description="文件")
    def download(self, obj: Attachment) -> str:
        url = reverse("api-1:attachment_download", kwargs={"attachment_id": obj.pk})
        return format_html('<a href="{}">{}</a>', url, obj.original_name)
