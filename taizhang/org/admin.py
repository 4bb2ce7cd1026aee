"""The org tree, people and roles in the Chinese admin."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, Division, Membership, Unit, User
from .roles import role_choices, role_label

# Indentation per level of the tree in the lists (a full-width space reads as one character).
INDENT = "\u3000"


class MembershipForm(forms.ModelForm):
    # The roles are data (mechanisms/org/roles.yaml and the mechanisms' own roles).
    role = forms.ChoiceField(label="角色", choices=role_choices)

    class Meta:
        model = Membership
        fields = ["user", "role", "division", "unit", "active"]
        labels = {"user": "人员", "division": "所在区划", "unit": "所在单位"}
        help_texts = {
            "division": "区划类岗位（网格员、派遣员、领导、纪委监督等）",
            "unit": "单位类岗位（处置人、核查员等）",
        }


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    autocomplete_fields = ["division", "unit"]


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["tree_name", "code", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]

    @admin.display(description="名称", ordering="path")
    def tree_name(self, obj: Division) -> str:
        return INDENT * obj.depth + obj.name


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["tree_name", "code", "kind", "parent", "division", "enforcement", "discipline"]
    list_filter = ["kind", "enforcement", "discipline"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent", "division"]
    list_select_related = ["parent", "division"]

    @admin.display(description="名称", ordering="path")
    def tree_name(self, obj: Unit) -> str:
        return INDENT * obj.depth + obj.name


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = ["username", "display_name", "phone", "is_active"]
    search_fields = ["username", "display_name", "phone"]
    fieldsets = [*UserAdmin.fieldsets, ("台账", {"fields": ["display_name", "phone"]})]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Every post in one list: who holds which role where (also editable on each person's page)."""

    form = MembershipForm
    list_display = ["person", "role_name", "node", "active"]
    list_filter = ["role", "active"]
    search_fields = ["user__username", "user__display_name", "division__name", "unit__name"]
    autocomplete_fields = ["user", "division", "unit"]
    list_select_related = ["user", "division", "unit"]

    @admin.display(description="人员", ordering="user__username")
    def person(self, obj: Membership) -> str:
        return str(obj.user)

    @admin.display(description="角色", ordering="role")
    def role_name(self, obj: Membership) -> str:
        return role_label(obj.role)

    @admin.display(description="所在区划/单位")
    def node(self, obj: Membership) -> str:
        return str(obj.node or "—")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created", "last_used", "is_revoked"]
    fields = ["name", "user", "revoked", "digest", "created", "last_used"]
    readonly_fields = ["digest", "created", "last_used"]

    @admin.display(description="令牌摘要（SHA-256，原值只在签发时显示一次）")
    def digest(self, obj: ApiToken) -> str:
        return obj.token_hash

    @admin.display(description="创建时间", ordering="created_at")
    def created(self, obj: ApiToken):
        return obj.created_at

    @admin.display(description="最近使用", ordering="last_used_at")
    def last_used(self, obj: ApiToken):
        return obj.last_used_at or "—"

    @admin.display(description="已吊销", boolean=True, ordering="revoked")
    def is_revoked(self, obj: ApiToken) -> bool:
        return obj.revoked

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        for name, label in (("user", "人员"), ("revoked", "已吊销")):
            if name in form.base_fields:
                form.base_fields[name].label = label
        return form

    def has_add_permission(self, request) -> bool:
        return False  # tokens are issued by `taizhang token create`, which shows the raw value once
