"""Checks of a mechanism's `notices:` block: written notices (书面告知) as templates the mechanism names.

Every notice names transitions of the mechanism, a template the platform can find, and values whose
sources exist (taizhang.cases.notice_values computes them).
"""

from __future__ import annotations

from .errors import Problem
from .schema import MechanismDef, NoticeValue
from .yamlfile import LinedData

# What every notice's template receives without declaring it.
BASE_VALUES = (
    "title",
    "kind",
    "number",
    "doc_number",
    "matter",
    "received",
    "category",
    "channel",
    "body",
    "issued",
    "opinion",
)
# Sources without an argument: the issuing row's opinion and deadline (and the one before it), the
# extension it granted and the opinion of the request it approved, the reporter's name, the description.
SOURCES = ("opinion", "due", "due_before", "extend_by", "request_opinion", "reporter", "description", "title")
# Sources with an argument: `field.<name>`, `label.<name>` (a choice's name), `limit.<state>` (the case's
# time limit of the state, as a notice writes it: 60日), `extend_max.<transition>`.
PREFIXES = ("field", "label", "limit", "extend_max")


def check_notices(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    base = ("notices",)
    check_values(mech, mech.notices.values, lined, (*base, "values"), problems)
    codes = {t.code for t in mech.transitions}
    seen: set[str] = set()
    for i, notice in enumerate(mech.notices.documents):
        path = (*base, "documents", i)
        if notice.kind in seen:
            problems.append(lined.problem((*path, "kind"), f"重复的书面告知 '{notice.kind}'"))
        seen.add(notice.kind)
        for j, code in enumerate(notice.issued_by):
            if code not in codes:
                problems.append(lined.problem((*path, "issued_by", j), f"未知的流转 '{code}'"))
        problem = template_problem(notice.template)
        if problem:
            problems.append(lined.problem((*path, "template"), problem))
        check_values(mech, notice.values, lined, (*path, "values"), problems)


def template_problem(name: str) -> str | None:
    """Why the platform cannot render the template, or None."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.loader import get_template

    try:
        get_template(name)
    except TemplateDoesNotExist:
        return f"找不到模板 '{name}'（模板须在平台的模板目录中，如 taizhang/cases/templates/notices/）"
    except TemplateSyntaxError as exc:
        return f"模板 '{name}' 有语法错误：{exc}"
    return None


def check_values(
    mech: MechanismDef, values: dict[str, NoticeValue], lined: LinedData, base: tuple, problems: list[Problem]
) -> None:
    for name, value in values.items():
        path = (*base, name)
        if name in BASE_VALUES:
            problems.append(lined.problem(path, f"'{name}' 是每份告知都有的内容，不能另行定义"))
        sources = value if isinstance(value, list) else [value]
        if not sources:
            problems.append(lined.problem(path, "至少写一个取值来源"))
        for j, source in enumerate(sources):
            problem = source_problem(mech, source)
            if problem:
                problems.append(lined.problem((*path, j) if isinstance(value, list) else path, problem))


def source_problem(mech: MechanismDef, source: str) -> str | None:
    """Why a value source names nothing the engine knows, or None."""
    prefix, _, arg = source.partition(".")
    if not arg:
        if source in SOURCES:
            return None
        return f"未知的取值来源 '{source}'（可用：{'、'.join(SOURCES)}，或 {'、'.join(p + '.…' for p in PREFIXES)}）"
    fields = {f.name: f for f in mech.fields}
    if prefix == "field" and arg not in fields:
        return f"未知的表单字段 '{arg}'"
    if prefix == "label" and (arg not in fields or fields[arg].type not in ("choice", "multichoice")):
        return f"label.{arg}：'{arg}' 不是本机制的选择型字段"
    if prefix == "limit":
        state = next((s for s in mech.states if s.code == arg), None)
        if state is None or state.kind == "closed":
            return f"limit.{arg}：'{arg}' 不是本机制有时限的状态"
    if prefix == "extend_max":
        t = next((t for t in mech.transitions if t.code == arg), None)
        if t is None or t.extend_max is None:
            return f"extend_max.{arg}：'{arg}' 不是本机制设有延期上限（extend_max）的流转"
    if prefix not in PREFIXES:
        return f"未知的取值来源 '{source}'（带参数的来源：{'、'.join(p + '.…' for p in PREFIXES)}）"
    return None
