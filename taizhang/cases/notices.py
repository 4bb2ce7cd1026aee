"""Written notices (书面告知) generated from a case and its history: 受理告知书, 不予受理告知书, 延期告知书,
处理意见书, 复查意见书, 复核意见书 …

Which notices a mechanism has is data: its file's `notices:` block names each notice's template, the
transitions that issue it and where its values come from (notice_values.py); the files are checked when
loaded. A notice is rendered from the last history row of its transitions, so it reads the same whenever
it is printed again. The output is HTML for printing, or PDF through WeasyPrint (Chinese needs a CJK font
on the server, such as Debian's fonts-noto-cjk).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string

from taizhang.errors import ActionError
from taizhang.mechanisms.registry import get_mechanism, get_registry
from taizhang.mechanisms.schema import NoticeValue
from taizhang.org.models import Membership, Unit

from .models import Case, Transition
from .notice_values import NoticeSources, cn_date


@dataclass(frozen=True)
class Notice:
    kind: str
    title: str
    transitions: tuple[str, ...]  # the transition codes that issue it (the last one taken counts)
    template: str = ""
    # Name in the template -> its source(s): the mechanism's shared values, then the notice's own.
    values: dict[str, NoticeValue] = field(default_factory=dict, hash=False, compare=False)


class MechanismNotices(Mapping):
    """mechanism code -> kind -> Notice, read from the loaded mechanism files (only mechanisms that have
    notices), so that a reloaded registry is followed."""

    def _all(self) -> dict[str, dict[str, Notice]]:
        out: dict[str, dict[str, Notice]] = {}
        for code, mech in get_registry().mechanisms.items():
            spec = mech.definition.notices
            if spec.documents:
                out[code] = {
                    d.kind: Notice(
                        d.kind, d.title, tuple(d.issued_by), d.template, {**spec.values, **d.values}
                    )
                    for d in spec.documents
                }
        return out

    def __getitem__(self, code: str) -> dict[str, Notice]:
        return self._all()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


NOTICES: Mapping[str, dict[str, Notice]] = MechanismNotices()

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
    return render_to_string(notice.template, notice_context(case, notice, row))


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
    """What every notice shows, then the values its mechanism file names (`notices:`)."""
    mech = get_mechanism(case.mechanism)
    sources = NoticeSources(mech, case, row)
    ctx: dict[str, Any] = {
        "title": notice.title,
        "kind": notice.kind,
        "number": case.number,
        "doc_number": f"{case.number}-{row.seq:02d}",
        "matter": case.title,
        "received": cn_date(case.created_at),
        "category": mech.choice_name("category", case.category),
        "channel": mech.choice_name("channel", case.channel),
        "body": issuing_body(case, row),
        "issued": cn_date(row.created_at),
        "opinion": row.opinion,
    }
    ctx.update({name: sources.value(source) for name, source in notice.values.items()})
    return ctx
