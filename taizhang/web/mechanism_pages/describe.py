"""A mechanism in words: who may take each transition, from and to which state, what it requires and
what it does to the time limit; the time limits and supervision of each state, and the rule packs.

Everything is read from the loaded definition (mechanisms/*.yaml): nothing here knows a mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.cases.models import STATE_KINDS
from taizhang.mechanisms.registry import Mechanism
from taizhang.mechanisms.schema import Condition, Limit, Requirement, Supervision, TransitionDef
from taizhang.org.roles import role_label

KIND_NAMES = dict(STATE_KINDS)
CORE_NAMES = {
    "grade": gettext_lazy("等级"),
    "category": gettext_lazy("类别"),
    "title": gettext_lazy("标题"),
    "description": gettext_lazy("描述"),
    "address": gettext_lazy("地址"),
}


@dataclass(frozen=True)
class TransitionRow:
    code: str
    name: str
    roles: str
    from_: str
    to: str
    requirements: list[str]
    limit: str
    public: bool


def join(items) -> str:
    return "、".join(items)


def condition_text(mech: Mechanism, cond: Condition | None) -> str:
    """E.g. "等级为重大隐患" or "类别为咨询，渠道为12345热线或政府网站"."""
    if cond is None:
        return ""
    parts = []
    for kind, label in (("grade", _("等级为")), ("category", _("类别为")), ("channel", _("渠道为"))):
        codes = getattr(cond, kind)
        if codes:
            parts.append(label + _("或").join(mech.choice_name(kind, c) for c in codes))
    return "，".join(parts)


def needs(mech: Mechanism, opinion: bool, photos: int, fields: list[str]) -> list[str]:
    out = []
    if opinion:
        out.append(_("须填写意见"))
    if photos:
        out.append(_("须上传照片至少 %(n)s 张") % {"n": photos})
    if fields:
        out.append(_("须填写：") + join(mech.fields[f].label if f in mech.fields else f for f in fields))
    return out


def requirement_text(mech: Mechanism, req: Requirement) -> str:
    when = condition_text(mech, req.when)
    what = "；".join(needs(mech, req.opinion, req.photos, req.fields))
    return f"{when}时：{what}" if when else what


def requirements(mech: Mechanism, t: TransitionDef) -> list[str]:
    """Everything a transition asks of the person and what it does besides changing the state."""
    out = needs(mech, t.opinion, t.photos, t.fields)
    out += [requirement_text(mech, r) for r in t.require]
    if t.only_if is not None:
        out.append(_("仅限") + condition_text(mech, t.only_if))
    if t.sets:
        out.append(_("可修改：") + join(str(CORE_NAMES.get(a, a)) for a in t.sets))
    if t.assign == "unit":
        out.append(_("指定责任单位"))
    elif t.assign == "enforcement_unit":
        out.append(_("指定联合执法单位"))
    elif t.assign == "discipline_unit":
        out.append(_("指定纪检监察机关"))
    if t.co_units:
        out.append(_("可指定协办单位"))
    if t.clears_unit:
        out.append(_("清除责任单位"))
    if t.merge:
        out.append(_("并入主案件，各自保留流转记录"))
    if t.notify_merged:
        out.append(_("答复同步给已并入的案件"))
    if t.approval is not None:
        out.append(
            _("须经%(roles)s审批（%(name)s）")
            % {"roles": join(role_label(r) for r in t.approval.roles), "name": t.approval.name}
        )
    if t.distinct_from:
        names = join(f"「{mech.transitions[c].name}」" for c in t.distinct_from if c in mech.transitions)
        out.append(_("不得由办理%(names)s的同一人操作") % {"names": names})
    if t.before_due:
        out.append(_("须在截止前提出"))
    if t.after_due:
        out.append(_("须待期限届满后操作"))
    if t.within:
        out.append(_("须在进入本状态后%(within)s内操作") % {"within": t.within})
    for name, value in t.set_fields.items():
        field = mech.fields.get(name)
        label = field.label if field else name
        shown = next((c.name for c in field.choices if c.code == value), value) if field else value
        out.append(_("记录%(field)s：%(value)s") % {"field": label, "value": shown})
    if not t.public:
        out.append(_("不向群众公开"))
    return out


def limit_text(mech: Mechanism, limit: Limit) -> str:
    when = condition_text(
        mech, Condition(grade=_one(limit.grade), category=_one(limit.category), channel=_one(limit.channel))
    )
    amount = limit_amount(mech, limit)
    return f"{when}：{amount}" if when else amount


def limit_amount(mech: Mechanism, limit: Limit) -> str:
    """'10 工作日', '自受损日期起10 工作日' or '至完成日期' (a limit counted from or until a date field)."""
    label = {name: f.label for name, f in mech.fields.items()}
    if limit.until_field:
        return _("至%(field)s") % {"field": label.get(limit.until_field, limit.until_field)}
    if limit.from_field:
        field = label.get(limit.from_field, limit.from_field)
        return _("自%(field)s起%(limit)s") % {"field": field, "limit": limit.limit}
    return limit.limit or ""


def _one(code: str | None) -> list[str] | None:
    return [code] if code else None


def state_limits(mech: Mechanism, state: str, limits: list[Limit] | None = None) -> list[str]:
    """The time limits of a state (the general one first), as written in the mechanism."""
    rows = [lim for lim in (mech.definition.time_limits if limits is None else limits) if lim.state == state]
    rows.sort(key=lambda lim: (lim.grade, lim.category, lim.channel) != (None, None, None))
    return [limit_text(mech, lim) for lim in rows]


def deadline_text(mech: Mechanism, t: TransitionDef) -> str:
    """What the transition does to the case's time limit."""
    if t.deadline == "keep":
        return _("时限不变")
    if t.deadline == "extend":
        extra = _("，累计不超过%(max)s") % {"max": t.extend_max} if t.extend_max else ""
        return _("延长时限") + extra
    if t.deadline == "resume":
        return _("恢复停表前剩余时限")
    if t.deadline == "recount":
        return _("按新的等级、类别自进入本状态起重新计算时限")
    if t.deadline == "renew":
        return _("重新计时，保留督办层级和超期记录")
    target = t.to or ""
    if t.to_previous:
        return _("返回上一状态，重新计时")
    if target and mech.states[target].kind == "closed":
        return _("办结，停止计时")
    limits = state_limits(mech, target) if target else []
    if not limits:
        return _("重新计时：不限时") if target else _("重新计时")
    return _("重新计时：") + "；".join(limits)


def transition_rows(mech: Mechanism) -> list[TransitionRow]:
    rows = []
    for t in mech.definition.transitions:
        rows.append(
            TransitionRow(
                code=t.code,
                name=t.name,
                roles=join(role_label(r) for r in t.roles),
                from_=join(mech.state_name(s) for s in t.from_),
                to=to_text(mech, t),
                requirements=requirements(mech, t),
                limit=deadline_text(mech, t),
                public=t.public,
            )
        )
    return rows


def to_text(mech: Mechanism, t: TransitionDef) -> str:
    """The state a transition leads to, as the table shows it."""
    if t.to_previous:
        names = join(mech.state_name(s) for src in t.from_ for s in mech.entries_of(src))
        return _("返回上一状态（%(states)s）") % {"states": names}
    return mech.state_name(t.to) if t.to else _("（状态不变）")


def state_rows(mech: Mechanism) -> list[dict]:
    initial = mech.definition.intake.initial
    return [
        {
            "code": s.code,
            "name": s.name,
            "kind": s.kind,
            "kind_name": KIND_NAMES.get(s.kind, s.kind),
            "public_name": s.public_name or s.name,
            "stopped": s.clock == "stopped",
            "initial": s.code == initial,
            "limits": state_limits(mech, s.code),
        }
        for s in mech.definition.states
    ]


def supervision_rows(mech: Mechanism, items: list[Supervision]) -> list[dict]:
    return [
        {
            "state": mech.state_name(s.state) if s.state else _("其他计时状态"),
            "remind": join(s.remind_before) or "—",
            "escalate": join(
                _("超期%(after)s后升至第%(n)s级") % {"after": e.after, "n": e.levels} for e in s.escalate
            )
            or "—",
        }
        for s in items
    ]


def pack_rows(mech: Mechanism, division_names: dict[str, str]) -> list[dict]:
    """The rule packs that override this mechanism's numbers, and what they set."""
    out = []
    for pack in mech.packs:
        override = pack.mechanisms.get(mech.code)
        if override is None:
            continue
        states = sorted({lim.state for lim in override.time_limits}, key=list(mech.states).index)
        out.append(
            {
                "name": pack.name,
                "divisions": join(division_names.get(code, code) for code in pack.divisions),
                "source": pack.source,
                "limits": [
                    (mech.state_name(s), "；".join(state_limits(mech, s, override.time_limits)))
                    for s in states
                ],
                "supervision": supervision_rows(mech, override.supervision),
            }
        )
    return out
