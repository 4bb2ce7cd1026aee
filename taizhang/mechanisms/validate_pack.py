"""Checks of a rule pack: it overrides only the figures (limits, reminders, escalation, windows, caps,
intake photos) of mechanisms that are loaded."""

from __future__ import annotations

import re

from .errors import MechanismError, Problem
from .schema import IntakeOverride, MechanismDef, PackDef, TransitionOverride
from .validate import check_duration, check_kpi, check_limits, check_supervision, unknown
from .validate_deadlines import check_total_limits, check_whole
from .validate_shape import parse_model
from .validate_values import check_band_overrides
from .yamlfile import LinedData

# A transition's figures a rule pack may change (`TransitionOverride`), where the mechanism writes them.
OVERRIDABLE = ("within", "extend_max", "accept_within")


def check_transition_overrides(
    overrides: dict[str, TransitionOverride],
    mech: MechanismDef,
    lined: LinedData,
    base: tuple,
    problems: list[Problem],
) -> None:
    """A pack changes a transition's `within`, `extend_max` or (挂牌督办) `accept_within` only where the
    mechanism writes one: the rule itself (a window, a cap, the listed acceptance) belongs to the mechanism,
    the figure to the locality."""
    transitions = {t.code: t for t in mech.transitions}
    for code, override in overrides.items():
        t = transitions.get(code)
        if t is None:
            known = "、".join(transitions)
            problems.append(lined.problem((*base, code), f"未知的流转 '{code}'（可用：{known}）"))
            continue
        if all(getattr(override, key) is None for key in OVERRIDABLE):
            problems.append(
                lined.problem((*base, code), "没有覆盖任何内容（within、extend_max 和 accept_within 都为空）")
            )
        for key in OVERRIDABLE:
            value = getattr(override, key)
            if value is None:
                continue
            if t.figure(key) is None:
                what = "supervise.accept_within" if key == "accept_within" else key
                problems.append(
                    lined.problem(
                        (*base, code, key),
                        f"机制 {mech.code} 的流转 '{code}' 没有 {what}，规则包只能修改机制已有的数值",
                    )
                )
                continue
            duration = check_duration(value, lined, (*base, code, key), problems, positive=True)
            if key == "accept_within":
                check_whole(duration, value, lined, (*base, code, key), problems)


def check_intake_override(
    intake: IntakeOverride | None, mech: MechanismDef, lined: LinedData, base: tuple, problems: list[Problem]
) -> None:
    if intake is None:
        return
    channels = {c.code for c in mech.channels}
    for i, channel in enumerate(intake.channels or []):
        if channel not in channels:
            problems.append(lined.problem((*base, "channels", i), unknown("channel", channel, channels)))
    if intake.channels is not None and not intake.channels:
        problems.append(lined.problem((*base, "channels"), "不能为空（不写 channels 即适用于所有渠道）"))


def validate_pack(
    lined: LinedData, mechanisms: dict[str, MechanismDef], broken: frozenset[str] | set[str] = frozenset()
) -> PackDef:
    """A rule pack may only override numbers (time limits, reminders, escalation) of known mechanisms.

    `broken`: codes of mechanisms whose own files have problems; a pack naming one is not blamed for it.
    """
    pack: PackDef = parse_model(lined, PackDef)
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, code in enumerate(pack.divisions):
        path = ("divisions", i)
        if not re.fullmatch(r"[^\s/]+", code):
            problems.append(
                lined.problem(path, f"区划编码无效：{code!r}（应为区划的编码，如 LZQ，不含空格和 /）")
            )
        elif code in seen:
            problems.append(lined.problem(path, f"重复的区划 '{code}'"))
        seen.add(code)
    for code, override in pack.mechanisms.items():
        mech = mechanisms.get(code)
        if mech is None and code in broken:
            continue
        if mech is None:
            known = "、".join(sorted(mechanisms)) or "无"
            problems.append(lined.problem(("mechanisms", code), f"未知的机制 '{code}'（已加载：{known}）"))
            continue
        if not (
            override.time_limits
            or override.total_limits
            or override.supervision
            or override.transitions
            or override.bands
        ) and (override.kpi is None and override.intake is None):
            problems.append(
                lined.problem(
                    ("mechanisms", code),
                    "没有覆盖任何内容（time_limits、total_limits、supervision、kpi、transitions、intake 和 bands 都为空）",
                )
            )
        check_band_overrides(override.bands, mech, lined, ("mechanisms", code, "bands"), problems)
        check_transition_overrides(
            override.transitions, mech, lined, ("mechanisms", code, "transitions"), problems
        )
        check_intake_override(override.intake, mech, lined, ("mechanisms", code, "intake"), problems)
        check_limits(override.time_limits, mech, lined, ("mechanisms", code, "time_limits"), problems)
        check_total_limits(override.total_limits, mech, lined, ("mechanisms", code, "total_limits"), problems)
        check_supervision(override.supervision, mech, lined, ("mechanisms", code, "supervision"), problems)
        # Without the mechanism's own rules a pack's are all there is: then it must write every key.
        kpi_path = ("mechanisms", code, "kpi")
        check_kpi(override.kpi, mech, lined, kpi_path, problems, complete=mech.kpi is None)
    if problems:
        raise MechanismError(problems)
    return pack
