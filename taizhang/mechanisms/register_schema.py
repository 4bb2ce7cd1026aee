"""The shape of a register file (`kind: register`): long-lived objects with attributes and a history.

An enterprise (一企一档), a building or self-built house (一楼一档), a risk point, a river reach, a monitoring
point: no states and no deadline, but fields, a place in the org tree that decides who sees an item (as a
case's place and lead unit do), who may create, change and re-assess items, and an append-only history.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .schema import Choice, Code, FieldDef, RoleSpec, Strict

# Whether an item must, may or must not lie on a division and on a unit of the org tree.
Need = Literal["required", "optional", "none"]


class Placement(Strict):
    """Where an item lies in the org tree: its division (the place: 区划 roles of that subtree read it)
    and its unit (an enterprise, a department: the unit's roles and those above read it)."""

    division: Need = "required"
    unit: Need = "optional"


class RegisterActions(Strict):
    """Who may create items, change their attributes and re-assess them: role specs as in a case
    mechanism, relative to the item's place (`role@place`) or unit (`role@unit`); a bare division role
    acts on the place, a bare unit role on the unit."""

    create: list[RoleSpec] = Field(min_length=1)
    change: list[RoleSpec] = Field(min_length=1)
    assess: list[RoleSpec] = []


class Assessment(Strict):
    """The fields an assessment sets (风险等级, 评估日期 …): only a re-assessment changes them, and the
    earlier assessment stays in the item's history."""

    name: str = Field(default="评估", min_length=1)
    fields: list[Code] = Field(min_length=1)
    opinion: bool = True  # an assessment states its basis


class RegisterDef(Strict):
    kind: Literal["register"]
    code: Code
    name: str = Field(min_length=1)
    # Item numbers: the prefix and a running number (QY-000012), unique beside the case-number prefixes.
    number_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,6}$")]
    version: int = Field(default=1, ge=1, strict=True)
    description: str = ""
    categories: list[Choice] = []
    fields: list[FieldDef] = []
    placement: Placement = Placement()
    actions: RegisterActions
    assessment: Assessment | None = None
    # Form fields shown as columns of the list and the export (besides number, name, category, place).
    columns: list[Code] = []
    # choice fields offered as filters of the list (besides category, division and unit).
    filters: list[Code] = []
    # Fields that identify a person (法定代表人, 联系电话): masked in exports, shown to who sees the item.
    personal: list[Code] = []
