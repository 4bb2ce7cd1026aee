"""Everything the case page shows, assembled for one person: attributes, fields, map, photos, history,
clock, pending approval, similar cases and the forms of the actions the person may take."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.cases.actions import available_transitions, pick_role
from taizhang.cases.link_views import links_of
from taizhang.cases.links import may_link
from taizhang.cases.models import STATE_KINDS, Case, Transition
from taizhang.cases.notices import EFFECTIVE, NOTICES
from taizhang.cases.parties import parties_of, party_names
from taizhang.cases.present import is_public_viewer
from taizhang.insight.actions import find_similar
from taizhang.mechanisms.registry import Mechanism, get_mechanism
from taizhang.org.parties import ENFORCEMENT, FORMER, SUPERVISOR
from taizhang.org.roles import Role
from taizhang.org.scopes import case_roles

from ..basemap import geometry_of, shift_coordinates, to_map
from ..colours import badge_class
from ..presenters import clock_view
from .forms import ActionForm, Choices, build_form
from .insight import attach_reply_scores, suggestion_view
from .timeline import Names, field_value, history_rows, moment, show, state_label, timeline

# Who is offered the similar-case suggestions (and so the 并单): the people who take cases in.
INTAKE_ROLES = {Role.DISPATCHER, Role.INTAKE}


@dataclass
class DecisionForm:
    """Approve or refuse the pending request: the approver's opinion and the error of a failed attempt."""

    opinion: str = ""
    message: str = ""
    errors: list[str] = field(default_factory=list)
    status: int = 200


@dataclass
class LinkForm:
    """关联 by hand in the links panel: whether it is offered, and the input and reason of a failed try."""

    allowed: bool = False
    other: str = ""
    opinion: str = ""
    message: str = ""
    status: int = 200


@dataclass
class Pending:
    name: str
    approval: str
    by: str
    at: datetime | None
    opinion: str
    detail: str
    can_decide: bool
    form: DecisionForm


@dataclass
class Attr:
    label: str
    value: str
    css: str = ""


def attributes(mech: Mechanism, case: Case, public: bool) -> list[Attr]:
    """The core attributes, in words; a member of the public is not shown the supervision details."""
    out = [
        Attr(_("编号"), case.number),
        Attr(_("类型"), mech.name),
        Attr(_("类别"), mech.choice_name("category", case.category)),
    ]
    if case.grade:
        badge = badge_class(mech.choice_colour("grade", case.grade))
        out.append(Attr(_("等级"), mech.choice_name("grade", case.grade), badge))
    out += [
        Attr(_("渠道"), mech.choice_name("channel", case.channel)),
        Attr(_("所在区划"), case.division.name),
        Attr(_("地址"), case.address or "—"),
        Attr(_("责任单位"), case.unit.name if case.unit_id else "—"),
    ]
    co_units = list(case.co_units.all())
    if co_units:
        out.append(Attr(_("协办单位"), "、".join(u.name for u in co_units)))
    if not public:
        for kind, label in (
            (SUPERVISOR, _("监督方")),
            (ENFORCEMENT, _("联合执法单位")),
            (FORMER, _("原承办单位")),
        ):
            names = party_names(case, kind)
            if names:
                out.append(Attr(label, "、".join(names)))
    if not public and case.reporter_id:
        out.append(Attr(_("上报人"), str(case.reporter)))
    out.append(Attr(_("上报时间"), moment(case.created_at)))
    if case.due_at and case.state_kind != "closed":
        out.append(Attr(_("截止时间"), moment(case.due_at), "overdue" if case.is_overdue else ""))
    if case.limit_text and not public:
        out.append(Attr(_("当前时限"), case.limit_text))
    if case.closed_at:
        out.append(Attr(_("办结时间"), moment(case.closed_at)))
    if case.supervision_level and not public:
        out.append(Attr(_("督办层级"), str(case.supervision_level), "overdue"))
    merged_from = (case.data or {}).get("merged_from")
    if merged_from:
        out.append(Attr(_("并入的重复件"), "、".join(merged_from)))
    return out


def form_fields(mech: Mechanism, case: Case, public: bool) -> list[Attr]:
    """The mechanism's form fields that have a value, with their labels (the public see public ones)."""
    data = case.data or {}
    return [
        Attr(f.label, field_value(mech, f.name, data.get(f.name)))
        for f in mech.definition.fields
        if data.get(f.name) not in (None, "", []) and (f.public or not public)
    ]


def photos(entries) -> list:
    return [f for e in entries for f in e.files if f.is_image]


def pending_of(user, mech: Mechanism, case: Case, public: bool, names, decision: DecisionForm | None):
    p = case.pending
    if not p:
        return None
    t = mech.transitions.get(p.get("code", ""))
    can = (
        not public
        and t is not None
        and t.approval is not None
        and p.get("by") != user.pk
        and pick_role(user, case, t.approval.roles) is not None
    )
    at = p.get("at")
    return Pending(
        name=p.get("name", ""),
        approval=p.get("approval", ""),
        by="" if public else p.get("by_name", ""),
        at=datetime.fromisoformat(at) if at else None,
        opinion="" if public else p.get("opinion", ""),
        detail="" if public or not p.get("params") else show(mech, "params", p["params"], names),
        can_decide=can,
        form=decision or DecisionForm(),
    )


def notices(case: Case, rows: list[Transition]) -> list[dict[str, str]]:
    """The written notices the case has issued (from the rows already read: no query)."""
    out = []
    for notice in NOTICES.get(case.mechanism, {}).values():
        issued = [r for r in rows if r.code in notice.transitions and r.kind in EFFECTIVE]
        if issued:
            url = reverse("api-1:get_notice", kwargs={"ref": case.number, "kind": notice.kind})
            out.append({"title": notice.title, "url": url, "seq": issued[-1].seq})
    return sorted(out, key=lambda n: n["seq"])


def links_context(user, case: Case, public: bool, link_form: LinkForm | None = None) -> dict[str, Any]:
    """The linked cases the person may see and the children's progress by kind of state (not in the
    public view: other cases are no business of a reporter), and the 关联 form for who may link."""
    if public:
        return {"links": None, "link_progress": [], "link_form": None}
    links = links_of(user, case)
    progress = [(kind, label, links.by_state_kind.get(kind, 0)) for kind, label in STATE_KINDS]
    form = link_form or LinkForm()
    form.allowed = may_link(user, case)
    return {"links": links, "link_progress": progress, "link_form": form}


def map_data(case: Case) -> dict[str, Any] | None:
    """The marker and the basemap for the small map: no tiles unless a tile URL is set, then the
    division's outline on a plain background; points in the basemap's coordinate system."""
    if case.lat is None or case.lon is None:
        return None
    lat, lon = to_map(float(case.lat), float(case.lon))
    outline = geometry_of(case.division)
    return {
        "lat": lat,
        "lon": lon,
        "label": case.address or case.title,
        "tiles": getattr(settings, "TAIZHANG_MAP_TILES", "") or "",
        "attribution": getattr(settings, "TAIZHANG_MAP_ATTRIBUTION", "") or "",
        "outline": {"type": outline["type"], "coordinates": shift_coordinates(outline["coordinates"])}
        if outline
        else None,
    }


def similar_of(user, mech: Mechanism, case: Case, public: bool, held: set[str]):
    """Open cases like this one, for the people who take cases in (each with a 并单 if there is one)."""
    if public or case.state_kind == "closed" or not (held & INTAKE_ROLES):
        return None
    return [
        {
            "number": s.case.number,
            "title": s.case.title,
            "state_name": mech.state_name(s.case.state),
            "percent": round(s.score * 100),
            "reasons": s.reasons,
        }
        for s in find_similar(user, case)
    ]


def action_forms(user, mech: Mechanism, case: Case, failed: ActionForm | None, master: str, open_code: str):
    available = available_transitions(user, case)
    choices = Choices.for_case(case, [t for t, _ in available])
    forms = []
    for t, role in available:
        if failed is not None and failed.code == t.code:
            forms.append(failed)
            continue
        form = build_form(mech, case, t, role, choices, master=master if t.merge else "")
        form.open = t.code == open_code
        forms.append(form)
    return forms


def page_context(
    user,
    case: Case,
    now: datetime,
    *,
    failed: ActionForm | None = None,
    alert: str = "",
    decision: DecisionForm | None = None,
    link_form: LinkForm | None = None,
    flash: str = "",
    master: str = "",
    open_code: str = "",
) -> dict[str, Any]:
    """The case page for `user`: the public view for a resident who reported the case."""
    mech = get_mechanism(case.mechanism)
    public = is_public_viewer(user, case)
    rows = history_rows(case, public)
    names = Names(rows)
    entries = timeline(mech, rows, public, names)
    scored = attach_reply_scores(user, case, public, rows, entries)
    held = case_roles(user, parties_of(case), case.reporter_id)
    forms = action_forms(user, mech, case, failed, master, open_code)
    similar = similar_of(user, mech, case, public, held)
    merge = next((f for f in forms if mech.transitions[f.code].merge), None)
    if failed is not None and failed.code not in {f.code for f in forms} and not alert:
        # The attempted action is not on offer (any more): say why in the alert above the actions.
        alert = "；".join([failed.message, *(m for w in failed.widgets for m in w.errors)])
    return {
        "case": case,
        "mech": mech,
        "public": public,
        "state_name": state_label(mech, case.state, public),
        "attrs": attributes(mech, case, public),
        "fields": form_fields(mech, case, public),
        "clock": clock_view(case, now),
        "entries": list(reversed(entries)),
        "photos": photos(entries),
        "map": map_data(case),
        "forms": forms,
        "alert": alert,
        "flash": flash,
        "pending": pending_of(user, mech, case, public, names, decision),
        "similar": similar,
        "suggestion": suggestion_view(case, public),
        "scored_replies": scored,
        "merge_code": merge.code if merge else "",
        "notices": notices(case, rows),
        **links_context(user, case, public, link_form),
        "now": timezone.localtime(now),
    }
