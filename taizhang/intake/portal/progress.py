"""What the public sees of a case's progress: public states, public replies and ratings, no staff names.

Built on the history rows the engine marks public (as `taizhang.cases.present` gives residents), but
stricter: only rows that move the case or record a public field (答复内容, 满意度) are shown; staff
opinions are internal, except the statement that closes the case (销号, 不予受理) and the rater's
own comment. In the public ledger every text is redacted as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, Q
from django.utils.translation import gettext as _

from taizhang.cases.models import Case, Transition
from taizhang.mechanisms.registry import Mechanism, get_mechanism, get_registry

from .redact import names_in, redact_text

RATE_CODE = "rate"


@dataclass
class PublicRow:
    at: datetime
    label: str
    state: str
    texts: list[tuple[str, str]] = field(default_factory=list)  # (label, text)
    rating: str = ""
    kind: str = ""  # the history row's kind: "create" carries the reporter's own text
    rating_label: str = ""  # 回访满意度 (staff's call) or 群众评价 (the reporter's own)


@dataclass
class PublicCase:
    case: Case
    title: str
    description: str
    mechanism_name: str
    category_name: str
    state_name: str
    state_kind: str
    rows: list[PublicRow]
    reply: str
    satisfaction: str
    rating: PublicRow | None


def public_state(mech: Mechanism, code: str) -> str:
    state = mech.states.get(code)
    return (state.public_name or state.name) if state else code


def public_field_values(mech: Mechanism, changes: dict) -> list[tuple[str, str, str]]:
    """(name, label, value as shown) of the public form fields a row changed."""
    out = []
    for key, (_old, new) in sorted(changes.items()):
        name = key.removeprefix("fields.")
        definition = mech.fields.get(name) if key.startswith("fields.") else None
        if definition is None or not definition.public or new in (None, ""):
            continue
        out.append(
            (name, definition.label, field_choice(mech, name, new) if definition.choices else str(new))
        )
    return out


def field_choice(mech: Mechanism, name: str, code) -> str:
    """The name of a choice field's value ("" when the mechanism has no such field or no value)."""
    definition = mech.fields.get(name)
    if definition is None or code in (None, ""):
        return ""
    return next((c.name for c in definition.choices if c.code == code), str(code))


def shown_keys(mech: Mechanism) -> list[str]:
    """The `changes` keys of the mechanism's public form fields: a row recording one is public work."""
    return [f"fields.{f.name}" for f in mech.definition.fields if f.public]


def shown_rows_q(prefix: str = "") -> Q:
    """History rows the public sees, as a filter (`prefix`: "transitions__" from a case …); the same
    rule as `public_row`: public rows that are the report, move the case, record a public field or rate
    the answer. 催办, reminders and 协办反馈 are internal work."""
    p = prefix
    q = (
        Q(**{f"{p}kind": "create"})
        | ~Q(**{f"{p}to_state": F(f"{p}from_state")})
        | Q(**{f"{p}code": RATE_CODE})
    )
    for mech in get_registry().mechanisms.values():
        keys = shown_keys(mech)
        if keys:
            q |= Q(**{f"{p}case__mechanism": mech.code, f"{p}changes__has_any_keys": keys})
    return Q(**{f"{p}public": True}) & q


def public_row(
    mech: Mechanism, t: Transition, shown: Callable[[str], str], *, description: str = "", rated: str = ""
) -> PublicRow | None:
    """The public view of one history row (None when the public does not see it, see `shown_rows_q`).

    `shown` prepares every text (redaction in public outputs); `description` is the report's text as
    the public may read it; `rated` the 满意度 as of this row.
    """
    changes = t.changes or {}
    moved = t.to_state != t.from_state
    if not t.public or not (
        t.kind == "create" or moved or t.code == RATE_CODE or set(changes) & set(shown_keys(mech))
    ):
        return None
    definition = mech.transitions.get(t.code)
    if t.kind == "create":
        label = _("提交")
    else:
        label = (definition.public_name or definition.name) if definition else t.name
    row = PublicRow(at=t.created_at, label=label, state=public_state(mech, t.to_state), kind=t.kind)
    if t.kind == "create" and description:
        row.texts.append((_("内容"), shown(description)))
    for name, flabel, value in public_field_values(mech, changes):
        if name == "satisfaction":
            row.rating, row.rating_label = value, _("回访满意度")
        else:
            row.texts.append((flabel, shown(value)))
    closing = moved and mech.states.get(t.to_state) is not None and mech.states[t.to_state].kind == "closed"
    if t.opinion and t.kind != "create" and (closing or t.code == RATE_CODE):
        row.texts.append((_("评价意见") if t.code == RATE_CODE else _("办理结果"), shown(t.opinion)))
    if t.code == RATE_CODE:
        row.rating, row.rating_label = field_choice(mech, "satisfaction", rated), _("群众评价")
    return row


def public_case(case: Case, rows: list[Transition], *, redact: bool) -> PublicCase:
    """The public view of a case from its history rows (all of them, ordered by seq; only public ones show).

    `redact`: the public's view (the ledger): texts redacted, the title and description only when the
    mechanism publishes them. Without it, the view of the reporter or the holder of the tracking code.
    """
    mech = get_mechanism(case.mechanism)
    names = names_in(case) if redact else []
    published = set(mech.definition.public.fields) if redact else {"title", "description"}

    def shown(text: str) -> str:
        return redact_text(text, names) if redact else text

    title = case.title if "title" in published else mech.choice_name("category", case.category)
    description = case.description if "description" in published else ""
    out: list[PublicRow] = []
    rating: PublicRow | None = None
    rated = ""  # 满意度 as of each row: a rating equal to the value before it leaves no change in the row
    for t in rows:
        change = (t.changes or {}).get("fields.satisfaction")
        rated = change[1] if change else rated
        row = public_row(mech, t, shown, description=description, rated=rated)
        if row is None:
            continue
        if t.code == RATE_CODE:
            rating = row
        out.append(row)
    data = case.data or {}
    reply_def = mech.fields.get("reply")
    return PublicCase(
        case=case,
        title=shown(title),
        description=shown(description),
        mechanism_name=mech.name,
        category_name=mech.choice_name("category", case.category),
        state_name=public_state(mech, case.state),
        state_kind=case.state_kind,
        rows=out,
        reply=shown(str(data.get("reply") or "")) if reply_def is not None and reply_def.public else "",
        satisfaction=field_choice(mech, "satisfaction", data.get("satisfaction")),
        rating=rating,
    )


def public_rows(case: Case) -> list[Transition]:
    """The case's history rows in order (one query); `public_case` shows only the public ones."""
    return list(case.transitions.order_by("seq"))
