"""The portal's submission form as data: parse a POST, bind inputs for the template."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from taizhang.intake.portal.actions import CONTACT_FIELDS, PortalSubmission
from taizhang.mechanisms.registry import Mechanism

from ..report.spec import errors_by_field, intake_fields, parse_fields
from ..report.widgets import Input, choice, from_field


def resident_fields(mech: Mechanism):
    """Public intake fields, less the contact ones (the portal asks for those itself)."""
    return [f for f in intake_fields(mech, public_only=True) if f.name not in CONTACT_FIELDS.values()]


def submission(mechs: list[Mechanism], post) -> PortalSubmission:
    code = post.get("mechanism") or ""
    mech = next((m for m in mechs if m.code == code), None)
    return PortalSubmission(
        mechanism=code,
        category=(post.get("category") or "").strip(),
        title=(post.get("title") or "").strip(),
        division=(post.get("division") or "").strip(),
        description=(post.get("description") or "").strip(),
        address=(post.get("address") or "").strip(),
        lat=(post.get("lat") or "").strip() or None,
        lon=(post.get("lon") or "").strip() or None,
        contact_name=(post.get("contact_name") or "").strip(),
        contact_phone=(post.get("contact_phone") or "").strip(),
        fields=parse_fields(resident_fields(mech), post) if mech else {},
        honeypot=post.get("website") or "",
    )


def posted(post) -> dict:
    keys = ("mechanism", "category", "title", "division", "description", "address", "lat", "lon")
    values = {k: (post.get(k) or "").strip() for k in (*keys, "contact_name", "contact_phone")}
    values["fields"] = {k.removeprefix("field-"): v for k, v in post.items() if k.startswith("field-")}
    return values


def bind(mechs: list[Mechanism], values: dict, errors, divisions) -> dict:
    """Inputs of the form: the shared ones and one section per mechanism (category and its fields)."""
    by_field = errors_by_field(errors)
    current = values.get("mechanism") or mechs[0].code
    sections = []
    for mech in mechs:
        mine = mech.code == current
        vals, errs = (values, by_field) if mine else ({}, {})
        prefix = f"p-{mech.code}"
        inputs = [
            choice(
                f"{prefix}-category",
                "category",
                _("问题类别"),
                [(c.code, c.name) for c in mech.definition.categories],
                vals.get("category"),
                errs,
            )
        ]
        fvals = vals.get("fields") or {}
        inputs += [from_field(f, prefix, fvals.get(f.name), errs) for f in resident_fields(mech)]
        sections.append({"mech": mech, "current": mine, "inputs": inputs})

    def text(name, label, kind="text", **kw):
        return Input(
            f"p-{name}", name, label, kind, value=values.get(name, ""), errors=by_field.get(name, []), **kw
        )

    return {
        "current": current,
        "sections": sections,
        "title": text(
            "title", _("标题"), required=True, max_length=200, help=_("一句话概括，例如：小区门口路灯不亮")
        ),
        "description": text(
            "description",
            _("详细情况"),
            "textarea",
            help=_("时间、地点、经过和您的诉求；请不要填写身份证号等敏感信息"),
        ),
        "division": choice(
            "p-division", "division", _("所在街道/社区"), divisions, values.get("division"), by_field
        ),
        "address": text("address", _("具体位置"), max_length=300, help=_("如：和心路与英雄路交叉口东北角")),
        "lat": text("lat", _("纬度"), attrs={"inputmode": "decimal"}),
        "lon": text("lon", _("经度"), attrs={"inputmode": "decimal"}),
        "contact_name": text(
            "contact_name", _("您的称呼（选填）"), max_length=50, attrs={"autocomplete": "name"}
        ),
        "contact_phone": text(
            "contact_phone",
            _("联系电话（选填）"),
            "tel",
            help=_("仅用于办理单位联系和回访，不会公开"),
            attrs={"autocomplete": "tel", "inputmode": "tel"},
        ),
        "photo_errors": by_field.get("photos", []),
        "max_photos": settings.TAIZHANG_MAX_PHOTOS_PER_FORM,
        "other_errors": by_field.get("mechanism", []),
    }
