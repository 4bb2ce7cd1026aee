"""The Open311 service list and service definitions, derived from the mechanisms (no data of their own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taizhang.mechanisms.registry import Mechanism, get_registry
from taizhang.mechanisms.schema import FieldDef
from taizhang.org.roles import Role

from .render import Open311Error

# The channel an Open311 report is filed under: the first of these the mechanism declares.
OPEN311_CHANNELS = ("open311", "hotline")

# Mechanism field type -> Open311 attribute datatype.
DATATYPES = {
    "text": "string",
    "textarea": "text",
    "int": "number",
    "decimal": "number",
    "date": "datetime",
    "datetime": "datetime",
    "choice": "singlevaluelist",
    "multichoice": "multivaluelist",
    "bool": "singlevaluelist",
}
BOOL_VALUES = [{"key": "true", "name": "是"}, {"key": "false", "name": "否"}]


@dataclass(frozen=True)
class Service:
    """One service: a category of a mechanism that outside systems may report to."""

    mech: Mechanism
    category: str
    category_name: str
    channel: str

    @property
    def code(self) -> str:
        return f"{self.mech.code}.{self.category}"

    @property
    def attributes(self) -> list[FieldDef]:
        return reporter_fields(self.mech)


def open311_channel(mech: Mechanism) -> str | None:
    """The channel for Open311 reports, or None when the mechanism does not take them."""
    declared = {c.code for c in mech.definition.channels}
    if Role.INTAKE not in mech.definition.intake.roles:
        return None
    return next((c for c in OPEN311_CHANNELS if c in declared), None)


def filled_by_transitions(mech: Mechanism) -> set[str]:
    """Fields some transition asks staff for or sets itself: their work, not the reporter's."""
    names: set[str] = set()
    for t in mech.definition.transitions:
        names.update(t.fields)
        names.update(t.set_fields)
        for r in t.require:
            names.update(r.fields)
    return names


def reporter_fields(mech: Mechanism) -> list[FieldDef]:
    """The form fields an outside reporter may fill in: public and filled by no transition."""
    staff = filled_by_transitions(mech)
    return [f for f in mech.definition.fields if f.public and f.name not in staff and f.type != "computed"]


def all_services() -> list[Service]:
    """Every service, mechanisms and categories in their declared order."""
    out = []
    for mech in get_registry().mechanisms.values():
        channel = open311_channel(mech)
        if channel is None:
            continue
        out += [Service(mech, c.code, c.name, channel) for c in mech.definition.categories]
    return out


def services_by_code() -> dict[str, Service]:
    return {s.code: s for s in all_services()}


def get_service(code: str) -> Service:
    """A service by its code; 404 when there is none."""
    service = services_by_code().get(code)
    if service is None:
        raise Open311Error(404, f"没有编码为 {code} 的服务（service_code）")
    return service


def service_data(service: Service) -> dict[str, Any]:
    """One entry of GET services."""
    mech = service.mech
    return {
        "service_code": service.code,
        "service_name": service.category_name,
        "description": f"{mech.name}：{service.category_name}。{mech.definition.description}".strip(),
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": ",".join([mech.name, service.category_name]),
        "group": mech.name,
    }


def attribute_data(field: FieldDef, order: int) -> dict[str, Any]:
    """One attribute of a service definition."""
    datatype = DATATYPES.get(field.type, "string")
    data: dict[str, Any] = {
        "variable": True,
        "code": field.name,
        "datatype": datatype,
        "required": field.required,
        "datatype_description": field.help or None,
        "order": order,
        "description": field.label,
    }
    if field.type == "bool":
        data["values"] = BOOL_VALUES
    elif datatype.endswith("valuelist"):
        data["values"] = [{"key": c.code, "name": c.name} for c in field.choices]
    return data


def definition_data(service: Service) -> dict[str, Any]:
    """GET services/{service_code}: the attributes a request for this service may carry."""
    return {
        "service_code": service.code,
        "attributes": [attribute_data(f, i) for i, f in enumerate(service.attributes, start=1)],
    }
