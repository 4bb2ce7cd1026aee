"""Register items' actions: `check_*` validates and authorises, `do_*` writes the item and its history row
in one transaction. The pages and the API parse input, call one action and render what it returns.

- create: a new item (建档) by a role of the register's `actions.create` over the place and unit given;
- change: attributes and fields (变更) by `actions.change` over the item's place or unit (and over the new
  ones when it moves); the assessment's fields are refused here;
- assess: a re-assessment (复评) by `actions.assess`: only the assessment's fields, with its basis; the
  earlier assessment stays in the history row before.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db import IntegrityError, connection, transaction

from taizhang.cases.create import parse_coordinate
from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError, FieldError, conflict, forbidden, invalid, not_found, refuse_nul
from taizhang.mechanisms.fieldvalues import clean_fields, missing_fields
from taizhang.mechanisms.register import Register
from taizhang.mechanisms.registry import get_registry
from taizhang.org.models import Division, Unit, User
from taizhang.org.scopes import Acting
from taizhang.text import normalise_data, normalise_text

from .models import ItemParty, ItemSequence, RegisterItem
from .permissions import acting_for, party_rows
from .recording import diff, record, snapshot

NAME_MAX = RegisterItem._meta.get_field("name").max_length
ADDRESS_MAX = RegisterItem._meta.get_field("address").max_length
# The attributes a change may set besides the form fields.
ATTRS = ("name", "category", "division", "unit", "address", "lat", "lon")


@dataclass
class ItemInput:
    """A new item, or (for a change) the attributes to set: in a change, only the keys of `given` count."""

    name: str = ""
    category: str = ""
    division: str = ""  # a division code
    unit: str = ""  # a unit code
    address: str = ""
    lat: Any = None
    lon: Any = None
    fields: dict[str, Any] = field(default_factory=dict)
    opinion: str = ""
    version: int | None = None  # a change: the version the person saw (409 when it moved on)
    given: frozenset[str] = frozenset(ATTRS)


@dataclass
class ItemPlan:
    register: Register
    acting: Acting
    values: dict[str, Any]  # the item's attributes after the action (division and unit as objects)
    data: dict[str, Any]
    item: RegisterItem | None = None
    opinion: str = ""
    moved: bool = False


def get_register_or_404(code: str) -> Register:
    found = get_registry().registers.get(code) if isinstance(code, str) else None
    if found is None:
        raise not_found("找不到该台账")
    return found


def get_item(user: User, number: str, action: str = "view") -> RegisterItem:
    """The item if the person may see it; 404 alike for an item that does not exist and one not seen."""
    refuse_nul(number=number)
    item = (
        RegisterItem.objects.for_user(user, action)
        .select_related("division", "unit")
        .filter(number=number)
        .first()
    )
    if item is None:
        raise not_found("找不到该台账条目或无权查看")
    return item


# -- checks -------------------------------------------------------------------------------------------


def node(model, code: str, name: str, label: str, errors: list[FieldError]):
    if not code:
        return None
    found = model.objects.filter(code=code).first()
    if found is None:
        errors.append(FieldError(name, "unknown_" + name, f"没有编码为 {code} 的{label}"))
    return found


def check_values(reg: Register, data: ItemInput, before: RegisterItem | None, errors: list[FieldError]):
    """The item's attributes after the input (those not given kept from `before`)."""
    d = reg.definition
    values: dict[str, Any] = {}
    for attr in ("name", "category", "address"):
        if attr in data.given:
            values[attr] = normalise_text(getattr(data, attr) or "").strip()
        else:
            values[attr] = getattr(before, attr)
    if not values["name"]:
        errors.append(FieldError("name", "required", "请填写名称"))
    elif len(values["name"]) > NAME_MAX:
        errors.append(FieldError("name", "too_long", f"名称不能超过 {NAME_MAX} 个字"))
    if len(values["address"]) > ADDRESS_MAX:
        errors.append(FieldError("address", "too_long", f"地址不能超过 {ADDRESS_MAX} 个字"))
    codes = {c.code for c in d.categories}
    if codes and values["category"] not in codes:
        errors.append(
            FieldError("category", "invalid_choice", f"无效的类别：{values['category'] or '（未填）'}")
        )
    elif not codes and values["category"]:
        errors.append(FieldError("category", "invalid_choice", "本台账没有类别"))
    for attr, model, label in (("division", Division, "区划"), ("unit", Unit, "单位")):
        if attr in data.given:
            values[attr] = node(model, (getattr(data, attr) or "").strip(), attr, label, errors)
        else:
            values[attr] = getattr(before, attr)
        need = getattr(d.placement, attr)
        if need == "required" and values[attr] is None and not any(e.field == attr for e in errors):
            errors.append(FieldError(attr, "required", f"请选择所在{label}"))
        elif need == "none" and values[attr] is not None:
            errors.append(FieldError(attr, "not_allowed", f"本台账的条目不属于{label}"))
    for attr, bound in (("lat", 90), ("lon", 180)):
        if attr in data.given:
            values[attr] = parse_coordinate(getattr(data, attr), attr, bound, errors)
        else:
            values[attr] = getattr(before, attr)
    if (values["lat"] is None) != (values["lon"] is None) and not any(
        e.field in ("lat", "lon") for e in errors
    ):
        errors.append(FieldError("lat" if values["lat"] is None else "lon", "required", "经纬度须同时填写"))
    return values


def check_fields(
    reg: Register, given: dict, base: dict, assessing: bool, errors: list[FieldError], first: bool = False
) -> dict:
    """The item's fields after the given ones: only the assessment's in an assessment, none of them
    otherwise (a change never rewrites an assessment); `first`: a new item's first assessment, given by
    someone who may assess, goes with its creation."""
    cleaned, field_errors = clean_fields(reg.fields, normalise_data(given or {}))
    errors += field_errors
    for name in cleaned:
        if assessing and name not in reg.assessed:
            errors.append(
                FieldError(f"fields.{name}", "not_assessed", f"评估只能填写评估字段（{name} 不是）")
            )
        elif not assessing and name in reg.assessed and not first:
            label = reg.fields[name].label
            errors.append(FieldError(f"fields.{name}", "assessment_only", f"{label}只能通过评估填写"))
    data = {k: v for k, v in {**base, **cleaned}.items() if v not in (None, "", [])}
    required = [f.name for f in reg.definition.fields if f.required and (f.name in reg.assessed) == assessing]
    errors += missing_fields(reg.fields, data, required)
    return data


def must_act(user: User, reg: Register, action: str, division, unit) -> Acting:
    acting = acting_for(user, reg, action, division, unit)
    if acting is None:
        verb = {"create": "建立", "change": "修改", "assess": "评估"}[action]
        raise forbidden("role_not_allowed", f"您的岗位不能在此{verb}「{reg.name}」的条目")
    return acting


def check_create(user: User, code: str, data: ItemInput) -> ItemPlan:
    reg = get_register_or_404(code)
    refuse_nul(name=data.name, address=data.address, category=data.category, fields=data.fields)
    errors: list[FieldError] = []
    values = check_values(reg, replace(data, given=frozenset(ATTRS)), None, errors)
    assessor = not errors and acting_for(user, reg, "assess", values["division"], values["unit"]) is not None
    fields = check_fields(reg, data.fields, {}, False, errors, first=assessor)
    if errors:
        raise invalid(errors)
    acting = must_act(user, reg, "create", values["division"], values["unit"])
    return ItemPlan(reg, acting, values, fields, opinion=normalise_text(data.opinion or "").strip())


def check_change(user: User, number: str, data: ItemInput) -> ItemPlan:
    item = get_item(user, number, "act")
    reg = get_register_or_404(item.register)
    acting = must_act(user, reg, "change", item.division, item.unit)
    refuse_nul(name=data.name, address=data.address, category=data.category, fields=data.fields)
    errors: list[FieldError] = []
    values = check_values(reg, data, item, errors)
    fields = check_fields(reg, data.fields, item.data or {}, False, errors)
    if errors:
        raise invalid(errors)
    moved = (values["division"], values["unit"]) != (item.division, item.unit)
    if moved:  # moving an item takes the right to change it where it goes, too
        must_act(user, reg, "change", values["division"], values["unit"])
    plan = ItemPlan(reg, acting, values, fields, item, normalise_text(data.opinion or "").strip(), moved)
    check_version(item, data.version)
    if not diff(snapshot(item), after_snapshot(plan)):
        raise ActionError("no_change", "没有任何改动", 422)
    return plan


def check_assess(user: User, number: str, fields: dict, opinion: str, version: int | None = None) -> ItemPlan:
    item = get_item(user, number, "act")
    reg = get_register_or_404(item.register)
    assessment = reg.definition.assessment
    if assessment is None:
        raise ActionError("no_assessment", f"「{reg.name}」没有评估", 409)
    acting = must_act(user, reg, "assess", item.division, item.unit)
    refuse_nul(fields=fields, opinion=opinion)
    errors: list[FieldError] = []
    opinion = normalise_text(opinion or "").strip()
    if assessment.opinion and not opinion:
        errors.append(FieldError("opinion", "required", f"「{assessment.name}」须写明评估依据"))
    if not fields:
        errors.append(FieldError("fields", "required", "请填写评估结果"))
    data = check_fields(reg, fields, item.data or {}, True, errors)
    if errors:
        raise invalid(errors)
    check_version(item, version)
    values = {a: getattr(item, a) for a in ATTRS}
    return ItemPlan(reg, acting, values, data, item, opinion)


def check_version(item: RegisterItem, version: int | None) -> None:
    if version is not None and version != item.version:
        raise conflict("stale_version", "台账条目已被他人更新，请刷新后重试")


# -- do -----------------------------------------------------------------------------------------------


def do_create_item(user: User, code: str, data: ItemInput) -> RegisterItem:
    plan = check_create(user, code, data)
    now = clock_now()
    with transaction.atomic():
        item = RegisterItem(
            register=plan.register.code,
            number=next_number(plan.register),
            region=region_of(plan.values["division"], plan.values["unit"]),
            data=plan.data,
            created_at=now,
            updated_at=now,
            assessed_at=now if plan.register.assessed & set(plan.data) else None,
            **plan.values,
        )
        item.save()
        ItemParty.objects.bulk_create(party_rows(item))
        record(
            item,
            kind="create",
            actor=user,
            role=plan.acting.spec,
            at=now,
            opinion=plan.opinion,
            changes=diff({}, snapshot(item)),
        )
    return item


def do_change_item(user: User, number: str, data: ItemInput) -> RegisterItem:
    plan = check_change(user, number, data)
    return write(user, plan, "change")


def do_assess_item(
    user: User, number: str, fields: dict, opinion: str = "", version: int | None = None
) -> RegisterItem:
    plan = check_assess(user, number, fields, opinion, version)
    return write(user, plan, "assess")


def write(user: User, plan: ItemPlan, kind: str) -> RegisterItem:
    item = plan.item
    now = clock_now()
    with transaction.atomic():
        before = snapshot(item)
        apply(item, plan)
        if kind == "assess":
            item.assessed_at = now
        changes = diff(before, snapshot(item))
        record(
            item, kind=kind, actor=user, role=plan.acting.spec, at=now, opinion=plan.opinion, changes=changes
        )
        if plan.moved:
            ItemParty.objects.filter(item=item).delete()
            ItemParty.objects.bulk_create(party_rows(item))
    return item


def apply(item: RegisterItem, plan: ItemPlan) -> None:
    for attr, value in plan.values.items():
        setattr(item, attr, value)
    item.data = plan.data
    if plan.moved:
        item.region = region_of(item.division, item.unit)


def after_snapshot(plan: ItemPlan) -> dict:
    probe = RegisterItem(**{a: plan.values[a] for a in ATTRS}, data=plan.data)
    return snapshot(probe)


def region_of(division: Division | None, unit: Unit | None) -> str:
    """The district an item belongs to (the region key every table carries)."""
    place = division if division is not None else unit.division
    return place.district().code


def next_number(reg: Register) -> str:
    """QY-000012: a per-register sequence, safe under concurrent creation."""
    last = bump(reg.code)
    if last is None:
        try:
            with transaction.atomic():
                last = ItemSequence.objects.create(register=reg.code, last=1).last
        except IntegrityError:
            last = bump(reg.code)
    return f"{reg.definition.number_prefix}-{last:06d}"


def bump(register: str) -> int | None:
    table = connection.ops.quote_name(ItemSequence._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f'UPDATE {table} SET "last" = "last" + 1 WHERE "register" = %s RETURNING "last"', [register]
        )
        row = cur.fetchone()
    return row[0] if row else None
