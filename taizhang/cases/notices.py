"""Written notices (书面告知) generated from a case and its history: 受理告知书, 不予受理告知书, 延期告知书,
处理意见书, 复查意见书, 复核意见书.

Which transition issues which notice is decided here, per mechanism; a notice is rendered from the last
history row of its transition, so it reads the same whenever it is printed again. The output is HTML for
printing (PDF needs WeasyPrint and a CJK font on the server, which the project cannot install itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from taizhang.clock.clock import Duration
from taizhang.errors import ActionError
from taizhang.mechanisms.registry import Mechanism, get_mechanism
from taizhang.org.models import Membership, Unit

from .models import Case, Transition


@dataclass(frozen=True)
class Notice:
    kind: str
    title: str
    transitions: tuple[str, ...]  # the transition codes that issue it (the last one taken counts)


# mechanism code -> kind -> notice. The kind names the template `notices/<kind>.html`.
NOTICES: dict[str, dict[str, Notice]] = {
    "petition": {
        n.kind: n
        for n in (
            Notice("acceptance", "信访事项受理告知书", ("accept",)),
            Notice("non_acceptance", "信访事项不予受理告知书", ("decline",)),
            Notice("extension", "信访事项延期办理告知书", ("extend",)),
            Notice("reply", "信访事项处理意见书", ("reply",)),
            Notice("review", "信访事项复查意见书", ("review_reply",)),
            Notice("recheck", "信访事项复核意见书", ("recheck_reply",)),
        )
    },
}

# The state in which the petitioner may ask for the next step after a reply, and so its window.
WINDOW = {"reply": "replied", "review": "review_replied"}

# A row that took effect: a transition taken directly, or an approved request (延期 is approved).
EFFECTIVE = ("transition", "approve")


def notice_of(case: Case, kind: str) -> Notice:
    notice = NOTICES.get(case.mechanism, {}).get(kind)
    if notice is None:
        known = "、".join(NOTICES.get(case.mechanism, {})) or "无"
        raise ActionError("unknown_notice", f"本类案件没有名为 {kind} 的书面告知（可用：{known}）", 404)
    return notice


def issuing_row(case: Case, notice: Notice) -> Transition | None:
    rows = case.transitions.filter(code__in=notice.transitions, kind__in=EFFECTIVE)
    return rows.order_by("-seq").first()


def issued_notices(case: Case) -> list[dict[str, Any]]:
    """The notices this case has issued so far, in the order of the history."""
    out = []
    for notice in NOTICES.get(case.mechanism, {}).values():
        row = issuing_row(case, notice)
        if row is not None:
            out.append({"kind": notice.kind, "title": notice.title, "seq": row.seq, "at": row.created_at})
    return sorted(out, key=lambda n: n["seq"])


def render_notice(case: Case, kind: str) -> str:
    """The notice as an HTML page; 404 for a kind the mechanism has not, 409 when not issued yet."""
    notice = notice_of(case, kind)
    row = issuing_row(case, notice)
    if row is None:
        raise ActionError("notice_not_issued", f"本案件尚未出具{notice.title}", 409)
    return render_to_string(f"notices/{notice.kind}.html", notice_context(case, notice, row))


def notice_pdf(html: str) -> bytes:
    """The notice as a PDF (WeasyPrint; Chinese needs a CJK font such as Debian's fonts-noto-cjk).

    A server without Pango gets a clear 503 rather than a broken document.
    """
    try:
        from weasyprint import HTML
    except OSError as exc:  # the Python package is there but the system's Pango is not
        raise ActionError(
            "pdf_unavailable", f"本服务器缺少生成 PDF 所需的系统组件（Pango），请打印 HTML 版本：{exc}", 503
        ) from None
    return HTML(string=html).write_pdf()


# -- the context --------------------------------------------------------------------------------------


def cn_date(moment: datetime | None) -> str:
    """2026年3月10日 (local date)."""
    if moment is None:
        return ""
    d = timezone.localtime(moment).date()
    return f"{d.year}年{d.month}月{d.day}日"


def period(duration: Duration | None) -> str:
    """A time limit as a notice writes it: 30日, 5个工作日, 48小时."""
    if duration is None:
        return ""
    amount = f"{duration.amount.normalize():f}"
    return {"days": f"{amount}日", "workdays": f"{amount}个工作日"}.get(duration.unit, str(duration))


def field_at(case: Case, row: Transition, name: str) -> Any:
    """A form field's value as the row left it (later rows may have changed the case since)."""
    change = (row.changes or {}).get(f"fields.{name}")
    return change[1] if change else (case.data or {}).get(name)


def choice_label(mech: Mechanism, name: str, code: Any) -> str:
    field = mech.fields.get(name)
    for choice in field.choices if field else []:
        if choice.code == code:
            return choice.name
    return str(code or "")


def unit_at(case: Case, row: Transition) -> Unit | None:
    """The responsible unit when the row was written, replayed from the history's unit changes."""
    changes = list(case.transitions.order_by("seq").values_list("seq", "changes"))
    unit_id: Any = case.unit_id
    first_change = next((c["unit_id"] for _, c in changes if "unit_id" in (c or {})), None)
    if first_change is not None:
        unit_id = first_change[0]
    for seq, change in changes:
        if seq > row.seq:
            break
        if "unit_id" in (change or {}):
            unit_id = change["unit_id"][1]
    return Unit.objects.filter(pk=unit_id).first() if unit_id else None


def issuing_body(case: Case, row: Transition) -> str:
    """Who issues the notice: the responsible unit at the time, else the node the actor acted for."""
    unit = unit_at(case, row)
    if unit is not None:
        return unit.name
    grant = (
        Membership.objects.filter(user_id=row.actor_id, role=row.role, active=True)
        .select_related("unit", "division")
        .first()
    )
    if grant is not None and (grant.unit or grant.division):
        return (grant.unit or grant.division).name
    return case.division.name


def notice_context(case: Case, notice: Notice, row: Transition) -> dict[str, Any]:
    mech = get_mechanism(case.mechanism)
    data = case.data or {}

    def limit(state: str) -> Duration | None:
        return mech.limit_for(state, case.grade, case.category, case.channel, case.division.path)

    ctx: dict[str, Any] = {
        "title": notice.title,
        "kind": notice.kind,
        "number": case.number,
        "doc_number": f"{case.number}-{row.seq:02d}",
        "petitioner": data.get("petitioner_name") or (str(case.reporter) if case.reporter_id else ""),
        "petitioner_address": data.get("petitioner_address", ""),
        "matter": case.title,
        "request": data.get("request") or case.description,
        "received": cn_date(case.created_at),
        "category": mech.choice_name("category", case.category),
        "channel": mech.choice_name("channel", case.channel),
        "body": issuing_body(case, row),
        "issued": cn_date(row.created_at),
        "opinion": row.opinion,
    }
    if notice.kind == "acceptance":
        extend = mech.transitions.get("extend")
        ctx.update(
            handling_limit=period(limit("handling")),
            handling_due=cn_date(row.due_at),
            extend_max=period(Duration.parse(cap))
            if extend and (cap := mech.transition_rule(extend, "extend_max", case.division.path))
            else "",
        )
    elif notice.kind == "non_acceptance":
        ctx.update(
            reason=field_at(case, row, "decline_reason") or row.opinion,
            proper_channel=field_at(case, row, "proper_channel") or "",
        )
    elif notice.kind == "extension":
        request = (
            case.transitions.filter(kind="request", code=row.code, seq__lt=row.seq).order_by("-seq").first()
        )
        due = (row.changes or {}).get("due_at") or [None, None]
        extend_by = (row.changes or {}).get("extend_by") or [None, ""]
        ctx.update(
            reason=request.opinion if request else row.opinion,
            extend_by=period(Duration.parse(extend_by[1])) if extend_by[1] else "",
            old_due=cn_date(_parse(due[0])),
            new_due=cn_date(row.due_at),
        )
    elif notice.kind in ("reply", "review", "recheck"):
        prefix = {"reply": "", "review": "review_", "recheck": "recheck_"}[notice.kind]
        result_field = "decision" if notice.kind == "reply" else f"{prefix}result"
        ctx.update(
            result=choice_label(mech, result_field, field_at(case, row, result_field)),
            text=field_at(case, row, f"{prefix}reply") or "",
            request_text=field_at(case, row, f"{prefix}request") if prefix else "",
            next_window=period(limit(WINDOW[notice.kind])) if notice.kind in WINDOW else "",
            next_due=cn_date(row.due_at) if notice.kind in WINDOW else "",
        )
    return ctx


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
