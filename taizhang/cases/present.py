"""Plain-data views of cases and their history, shared by the API and the pages."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.roles import role_label

from .actions import available_transitions
from .link_views import PUBLIC_HIDDEN, links_of
from .models import Attachment, Case, Transition


def node(obj) -> dict[str, str] | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def case_data(case: Case, *, public: bool = False) -> dict[str, Any]:
    """The case's fields; `public` (a resident's view) leaves out how the case was routed."""
    mech = get_mechanism(case.mechanism)
    fields = dict(case.data or {})
    suggestion = fields.pop("suggestion", None)  # the classifier's, at intake: not a form field
    return {
        "id": case.pk,
        "number": case.number,
        "mechanism": case.mechanism,
        "title": case.title,
        "description": case.description,
        "category": case.category,
        "category_name": mech.choice_name("category", case.category),
        "grade": case.grade,
        "grade_name": mech.choice_name("grade", case.grade) if case.grade else "",
        "channel": case.channel,
        "state": case.state,
        "state_name": mech.state_name(case.state),
        "state_kind": case.state_kind,
        "region": case.region,
        "division": node(case.division),
        "address": case.address,
        "lat": case.lat,
        "lon": case.lon,
        "unit": node(case.unit),
        "reporter": str(case.reporter) if case.reporter_id else None,
        "fields": fields,
        "due_at": case.due_at,
        "limit": case.limit_text,
        "overdue": case.is_overdue,
        "overdue_since": case.overdue_since,
        "supervision_level": case.supervision_level,
        "pending": case.pending,
        "suggestion": suggestion if isinstance(suggestion, dict) and not public else None,
        "version": case.version,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "closed_at": case.closed_at,
    }


def attachment_data(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.original_name,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "url": reverse("api-1:attachment_download", kwargs={"attachment_id": a.pk}),
    }


def history_data(rows: list[Transition]) -> list[dict[str, Any]]:
    return [
        {
            "seq": t.seq,
            "kind": t.kind,
            "code": t.code,
            "name": t.name,
            "actor": t.actor_name,
            "role": role_label(t.role),
            "from_state": t.from_state,
            "to_state": t.to_state,
            "opinion": t.opinion,
            "changes": t.changes,
            "due_at": t.due_at,
            "at": t.created_at,
            "hash": t.hash,
            "attachments": [attachment_data(a) for a in t.attachments.all()],
        }
        for t in rows
    ]


def actions_data(user, case: Case) -> list[dict[str, Any]]:
    out = []
    for t, role in available_transitions(user, case):
        params = (
            (["unit"] if t.assign else []) + list(t.sets) + (["extend_by"] if t.deadline == "extend" else [])
        )
        out.append(
            {
                "code": t.code,
                "name": t.name,
                "role": role,
                "opinion": t.opinion,
                "photos": t.photos,
                "fields": list(t.fields),
                "params": params,
                "approval": t.approval.name if t.approval else None,
            }
        )
    return out


def is_public_viewer(user, case: Case) -> bool:
    """A person who sees the case only as its reporter (a resident) gets the public view; anyone whose
    post reaches a party of the case — an earlier lead too — sees it whole."""
    from taizhang.org.scopes import reaches_any, sees_everything

    from .parties import parties_of

    return not sees_everything(user) and not reaches_any(user, parties_of(case))


def case_detail(user, case: Case) -> dict[str, Any]:
    """The case with its history; a resident reporter sees public rows only, without staff names."""
    rows = case.transitions.order_by("seq").prefetch_related("attachments")
    if is_public_viewer(user, case):
        history = history_data(list(rows.filter(public=True)))
        for row in history:
            row["changes"].pop("requested_by", None)
            for key in PUBLIC_HIDDEN:  # links name other cases (link_views.py)
                row["changes"].pop(key, None)
            if row["seq"] != 1:
                row["actor"] = row["role"]  # staff are shown by role, not by name
        data = case_data(case, public=True)
        if data["pending"]:
            data["pending"] = {
                "name": data["pending"].get("name"),
                "approval": data["pending"].get("approval"),
            }
        return {**data, "history": history, "actions": actions_data(user, case)}
    return {
        **case_data(case),
        "history": history_data(list(rows)),
        "actions": actions_data(user, case),
        "links": links_of(user, case).as_dict(),
    }
