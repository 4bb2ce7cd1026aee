"""The org tree: divisions (市 > 区 > 街道/镇 > 社区/村 > 网格), units, people and their roles."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from .roles import role_def, role_label

# A node's code: letters, digits and - _ . (no "/", which separates the codes of a path), unique whatever
# the case (SQLite's LIKE, behind every prefix search, ignores ASCII case).
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


class TreeNode(models.Model):
    """A node with a materialised path of codes, so a subtree is one indexed prefix query."""

    code = models.CharField("编码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=100)
    path = models.CharField(max_length=600, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        abstract = True

    # The prefix of this tree's nodes in the party rows of cases (taizhang.org.parties.node_path).
    party_prefix = ""

    def clean(self) -> None:
        """The code's form, its uniqueness whatever the case, and no parent below the node itself (the
        admin shows these on the form; save() checks them again for every other caller)."""
        if not CODE.fullmatch(self.code or ""):
            raise ValidationError({"code": "编码只能由字母、数字、-、_、. 组成，且以字母或数字开头"})
        others = type(self).objects.filter(code__iexact=self.code)
        if (others.exclude(pk=self.pk) if self.pk else others).exists():
            raise ValidationError({"code": f"编码 {self.code} 已被使用（不区分大小写）"})
        parent = self.parent
        if parent is not None and self.pk is not None:
            own = type(self).objects.filter(pk=self.pk).values_list("path", flat=True).first()
            if own and parent.path.startswith(own):
                raise ValidationError({"parent": "上级不能是自身或自己的下级"})

    def save(self, *args, **kwargs) -> None:
        """Save, and when the code or the parent changed, move the paths of the subtree and of the case
        parties on it in the same transaction (a renamed or moved unit keeps its cases, and a new node
        with the old code gets none of them)."""
        self.clean()
        parent = self.parent
        before = (
            type(self).objects.filter(pk=self.pk).values_list("path", "depth").first() if self.pk else None
        )
        self.path = f"{parent.path if parent else '/'}{self.code}/"
        self.depth = (parent.depth + 1) if parent else 0
        with transaction.atomic():
            super().save(*args, **kwargs)
            if before is not None and before[0] != self.path:
                self.move_subtree(*before)

    def move_subtree(self, old_path: str, old_depth: int) -> None:
        """Rewrite the paths below this node, and the case parties' keys on them, after a move."""
        from django.apps import apps

        def moved(prefix_old: str, prefix_new: str):
            return Concat(
                Value(prefix_new), Substr("path", len(prefix_old) + 1), output_field=models.CharField()
            )

        below = type(self).objects.filter(path__startswith=old_path).exclude(pk=self.pk)
        below.update(path=moved(old_path, self.path), depth=F("depth") + (self.depth - old_depth))
        old_key, new_key = self.party_prefix + old_path, self.party_prefix + self.path
        for label in ("cases.CaseParty", "registers.ItemParty"):  # the keys of cases' and items' parties
            parties = apps.get_model(label).objects
            parties.filter(path__startswith=old_key).update(path=moved(old_key, new_key))

    def contains(self, other: TreeNode | None) -> bool:
        """True when `other` is this node or below it."""
        return other is not None and other.path.startswith(self.path)

    def ancestor_codes(self) -> list[str]:
        """Codes from the root down to this node."""
        return [c for c in self.path.split("/") if c]

    def __str__(self) -> str:
        return self.name


class Division(TreeNode):
    class Level(models.TextChoices):
        CITY = "city", "市"
        DISTRICT = "district", "区/县"
        STREET = "street", "街道/镇"
        COMMUNITY = "community", "社区/村"
        GRID = "grid", "网格"

    party_prefix = "d"
    level = models.CharField("层级", max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    geometry = models.JSONField("边界 (GeoJSON)", null=True, blank=True)

    class Meta:
        verbose_name = "行政区划/网格"
        verbose_name_plural = verbose_name
        ordering = ["path"]

    def district(self, chain: list[Division] | None = None) -> Division:
        """The district (区/县) this division belongs to: the region key of its cases (one query, none when
        `chain`, the division's ancestors and itself, is given)."""
        if self.level in (self.Level.DISTRICT, self.Level.CITY):
            return self
        if chain is None:
            chain = list(Division.objects.filter(code__in=self.ancestor_codes(), level=self.Level.DISTRICT))
        found = [d for d in chain if d.level == self.Level.DISTRICT]
        return max(found, key=lambda d: d.depth) if found else self

    def ancestors(self) -> list[Division]:
        """From the parent up to the root."""
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class Unit(TreeNode):
    class Kind(models.TextChoices):
        DEPARTMENT = "department", "部门"
        ENTERPRISE = "enterprise", "企业"
        WORKSHOP = "workshop", "车间"
        TEAM = "team", "班组"

    party_prefix = "u"
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    division = models.ForeignKey(
        Division, verbose_name="所在区划", on_delete=models.PROTECT, related_name="units"
    )
    enforcement = models.BooleanField("可联合执法", default=False)
    # 纪检监察机关 (纪委监委 and its 派驻机构): the only bodies a 检举控告类 petition may be transferred to.
    discipline = models.BooleanField("纪检监察机关", default=False)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["path"]


class User(AbstractUser):
    display_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("电话", max_length=20, blank=True)

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"

    def __str__(self) -> str:
        return self.display_name or self.username


class Membership(models.Model):
    """A role held by a person on a division or a unit."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    # A role of the roles file or of a mechanism (checked in clean(): the roles are data).
    role = models.CharField("角色", max_length=32)
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    active = models.BooleanField("在岗", default=True)

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "division", "unit"], name="membership_unique"),
        ]

    def clean(self) -> None:
        definition = role_def(self.role)
        if definition is None:
            raise ValidationError({"role": f"没有编码为 {self.role} 的角色"})
        label, held_on = role_label(self.role), definition.held_on
        if self.division_id and self.unit_id:
            raise ValidationError("岗位只能设在一个区划或一个单位上")
        if not held_on:
            if self.division_id or self.unit_id:
                raise ValidationError(f"{label}不设在区划或单位上")
            return
        if self.division_id is None and self.unit_id is None:
            raise ValidationError(f"{label}须设在一个区划或单位上")
        if self.unit_id is None and "division" not in held_on:
            raise ValidationError({"unit": f"{label}须设在单位上"})
        if self.division_id is None and "unit" not in held_on:
            raise ValidationError({"division": f"{label}须设在区划上"})

    def save(self, *args, **kwargs) -> None:
        self.full_clean(exclude=["user"])
        super().save(*args, **kwargs)

    @property
    def node(self) -> Division | Unit | None:
        return self.division or self.unit

    def __str__(self) -> str:
        return f"{self.user} · {role_label(self.role)} · {self.node or '—'}"


class ApiToken(models.Model):
    """A bearer token for machines; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("名称", max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
