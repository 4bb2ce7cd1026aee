"""The loaded mechanisms and rule packs, and the look-ups the engine needs from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from taizhang.clock.clock import Duration

from .computed import computed_order
from .conditions import Facts, met
from .errors import MechanismError, Problem
from .expressions import Expr
from .register import Register, is_register, load_register
from .roles import platform_roles
from .schema import (
    Condition,
    KpiRules,
    Limit,
    MechanismDef,
    PackDef,
    RoleDef,
    StateDef,
    Supervision,
    TotalLimit,
    TransitionDef,
)
from .schema_values import Band
from .validate import entries_of, validate_mechanism
from .validate_links import check_spawn_targets
from .validate_pack import validate_pack
from .validate_register import check_references
from .yamlfile import LinedData, read_lined_yaml


@dataclass(frozen=True)
class SupervisionPlan:
    """Reminders before a deadline and escalations after it, for one state."""

    remind_before: tuple[Duration, ...] = ()
    escalate: tuple[tuple[Duration, int], ...] = ()


def matches(
    cond: Condition | None, grade: str, category: str, channel: str, data: Mapping | None = None, fields=None
) -> bool:
    """Whether a case with these attributes (and form data, with the mechanism's `fields`) satisfies a
    condition (None always does)."""
    facts = Facts({"grade": grade, "category": category, "channel": channel}, data or {})
    return met(cond, fields or {}, facts)


@dataclass
class Mechanism:
    definition: MechanismDef
    file: str
    packs: list[PackDef] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.definition.code

    @property
    def name(self) -> str:
        return self.definition.name

    @cached_property
    def states(self) -> dict[str, StateDef]:
        return {s.code: s for s in self.definition.states}

    @cached_property
    def transitions(self) -> dict[str, TransitionDef]:
        return {t.code: t for t in self.definition.transitions}

    @cached_property
    def fields(self) -> dict:
        return {f.name: f for f in self.definition.fields}

    @cached_property
    def computed(self) -> list[tuple[str, Expr]]:
        """The computed fields' parsed expressions, each after the computed fields it reads."""
        return computed_order(self.definition)

    @cached_property
    def timing_reads_values(self) -> bool:
        """Whether a time limit or supervision entry (the mechanism's or a loaded pack's) has a `when`: only
        then do the deadline look-ups need the case's values (without them they stay memoisable)."""
        overrides = [p.mechanisms[self.code] for p in self.packs if self.code in p.mechanisms]
        entries = [*self.definition.time_limits, *self.definition.supervision]
        entries += [e for o in overrides for e in (*o.time_limits, *o.supervision)]
        return any(e.when is not None for e in entries)

    def band_rows(self, division_path: str) -> dict[str, list[Band]]:
        """Each band table's rows for a division: the deepest rule pack that sets them, else the mechanism's."""
        out = {table.code: table.bands for table in self.definition.bands}
        for pack in reversed(self._packs_for(division_path)):  # the deepest pack goes last and wins
            out.update({code: o.bands for code, o in pack.mechanisms[self.code].bands.items()})
        return out

    def transitions_from(self, state: str) -> list[TransitionDef]:
        return [t for t in self.definition.transitions if state in t.from_]

    def entries_of(self, state: str) -> list[str]:
        """The other states a named transition leads from into `state` (where `to_previous` may return)."""
        return entries_of(self.definition, state)

    def transition_rule(self, t: TransitionDef, key: str, division_path: str) -> str | None:
        """A transition's number (`within`, `extend_max`, `accept_within` of its `supervise`) for a
        division: the deepest pack that sets it, else the mechanism's."""
        for pack in self._packs_for(division_path):
            override = pack.mechanisms[self.code].transitions.get(t.code)
            if override is not None and getattr(override, key) is not None:
                return getattr(override, key)
        return t.figure(key)

    def intake_photos(self, channel: str, division_path: str) -> int:
        """How many photos a report on this channel must carry here: the deepest pack whose intake rule
        covers the channel, else the mechanism's `intake.photos`."""
        for pack in self._packs_for(division_path):
            rule = pack.mechanisms[self.code].intake
            if rule is not None and (rule.channels is None or channel in rule.channels):
                return rule.photos
        return self.definition.intake.photos

    def choice_name(self, kind: str, code: str) -> str:
        """The Chinese name of a category, grade or channel code."""
        for choice in getattr(self.definition, {"category": "categories"}.get(kind, kind + "s")):
            if choice.code == code:
                return choice.name
        return code

    def choice_colour(self, kind: str, code: str) -> str | None:
        """The colour by meaning (`red` … `blue`) of a category, grade or channel code, None without one."""
        for choice in getattr(self.definition, {"category": "categories"}.get(kind, kind + "s")):
            if choice.code == code:
                return choice.colour
        return None

    def state_name(self, code: str) -> str:
        state = self.states.get(code)
        return state.name if state else code

    def _packs_for(self, division_path: str) -> list[PackDef]:
        """Packs that apply to a division, the most specific (deepest division) first."""
        parts = [c for c in division_path.split("/") if c]
        ranked = []
        for pack in self.packs:
            depths = [parts.index(code) for code in pack.divisions if code in parts]
            if depths and self.code in pack.mechanisms:
                ranked.append((max(depths), pack))
        return [p for _, p in sorted(ranked, key=lambda item: -item[0])]

    def limit_for(
        self,
        state: str,
        grade: str,
        category: str,
        channel: str,
        division_path: str,
        data: Mapping | None = None,
    ) -> Duration | None:
        """The duration of a state's time limit for a case (None: none, or one due on a date field)."""
        rule = self.limit_rule_for(state, grade, category, channel, division_path, data)
        return Duration.parse(rule.limit) if rule is not None and rule.limit else None

    def limit_rule_for(
        self,
        state: str,
        grade: str,
        category: str,
        channel: str,
        division_path: str,
        data: Mapping | None = None,
    ) -> Limit | None:
        """The time-limit entry of a state for a case: the deepest rule pack first, then the mechanism;
        within one source the entry naming the most attributes (a `when` counts as one) wins."""
        sources = [p.mechanisms[self.code].time_limits for p in self._packs_for(division_path)]
        sources.append(self.definition.time_limits)
        facts = Facts({"grade": grade, "category": category, "channel": channel}, data or {})
        for limits in sources:
            best = most_specific(
                [x for x in limits if x.state == state], grade, category, channel, self.fields, facts
            )
            if best is not None:
                return best
        return None

    def total_limit_for(
        self, grade: str, category: str, channel: str, division_path: str
    ) -> TotalLimit | None:
        """The total limit of a case (from its creation, whatever the steps): a pack that writes total
        limits replaces the mechanism's; the entry naming the most attributes wins."""
        sources = [p.mechanisms[self.code].total_limits for p in self._packs_for(division_path)]
        sources.append(self.definition.total_limits)
        for limits in sources:
            if limits:
                return most_specific(limits, grade, category, channel)
        return None

    def supervision_for(self, state: str, division_path: str, facts: Facts | None = None) -> SupervisionPlan:
        """Reminders and escalations for a state and a case's values: a pack's entry replaces the
        mechanism's. An entry with a `when` applies only to a case whose `facts` satisfy it (never without
        facts); the most specific entry wins."""
        sources = [p.mechanisms[self.code].supervision for p in self._packs_for(division_path)]
        sources.append(self.definition.supervision)
        for items in sources:
            items = [
                s for s in items if s.when is None or (facts is not None and met(s.when, self.fields, facts))
            ]
            chosen = self._pick_supervision(items, state)
            if chosen is not None:
                return SupervisionPlan(
                    tuple(Duration.parse(t) for t in chosen.remind_before),
                    tuple((Duration.parse(e.after), e.levels) for e in chosen.escalate),
                )
        return SupervisionPlan()

    def kpi_rules(self, division_path: str) -> KpiRules | None:
        """The assessment rules for a division: each key from the deepest rule pack that sets it, else
        from the mechanism; None when the mechanism has no rules (and the packs do not give them all)."""
        sources = [p.mechanisms[self.code].kpi for p in self._packs_for(division_path)]
        sources.append(self.definition.kpi)
        merged: dict = {}
        for rules in sources:
            for key in KpiRules.model_fields if rules is not None else ():
                if merged.get(key) is None:
                    merged[key] = getattr(rules, key)
        if any(merged.get(key) is None for key in KpiRules.model_fields):
            return None
        return KpiRules(**merged)

    @staticmethod
    def _pick_supervision(items: list[Supervision], state: str) -> Supervision | None:
        """The state's own entry, else a general one; among several, the one whose condition names the
        most attributes (then the first in the file)."""
        for group in ([s for s in items if s.state == state], [s for s in items if s.state is None]):
            if group:
                return max(group, key=lambda s: condition_weight(s.when))  # max keeps the first of equals
        return None


def condition_weight(cond: Condition | None) -> int:
    """How many attributes a condition names (a more specific rule beats a general one); a condition on
    the case's values counts as one."""
    if cond is None:
        return 0
    named = sum(getattr(cond, attr) is not None for attr in ("grade", "category", "channel"))
    on_values = cond.field is not None or bool(cond.all or cond.any) or cond.not_ is not None
    return named + on_values


def most_specific(
    limits: list, grade: str, category: str, channel: str, fields: Any = None, facts: Facts | None = None
):
    """The limit entry matching the case that names the most attributes (the first of equals); an entry
    with a `when` counts only when the case's `facts` satisfy it, and as one more attribute."""
    best: tuple[int, Any] | None = None
    for limit in limits:
        attrs = ((limit.grade, grade), (limit.category, category), (limit.channel, channel))
        if any(want is not None and want != have for want, have in attrs):
            continue
        when = getattr(limit, "when", None)
        if when is not None and (facts is None or not met(when, fields, facts)):
            continue
        score = sum(want is not None for want, _ in attrs) + (when is not None)
        if best is None or score > best[0]:
            best = (score, limit)
    return best[1] if best is not None else None


@dataclass
class Registry:
    mechanisms: dict[str, Mechanism]
    packs: list[PackDef]
    # Every role a person may hold: the platform's (org/roles.yaml), then those the mechanisms add.
    roles: dict[str, RoleDef] = field(default_factory=dict)
    # The registers (`kind: register`): long-lived objects, never cases (taizhang.registers).
    registers: dict[str, Register] = field(default_factory=dict)

    def get(self, code: str) -> Mechanism:
        return self.mechanisms[code]


def yaml_files(directory: Path) -> list[Path]:
    """The `*.yaml` and `*.yml` files directly in a directory, by name."""
    return sorted(p for p in directory.glob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_directory(directory: Path) -> Registry:
    """Load the mechanisms (`*.yaml`, `*.yml`) and the rule packs (`packs/*.yaml`) of a directory.

    Every problem of every file is reported together in one MechanismError. Besides each file's own
    checks: mechanism codes, case-number prefixes and pack codes are unique, and two packs for the same
    division do not both set the same state's numbers (which would win would depend on file names).
    """
    directory = Path(directory)
    problems: list[Problem] = []
    mechanisms: dict[str, Mechanism] = {}
    if not directory.is_dir():
        raise MechanismError([Problem(str(directory), 1, "", "机制目录不存在")])
    prefixes: dict[str, str] = {}
    broken: set[str] = set()  # codes of mechanisms whose files have problems
    try:
        platform = platform_roles()
    except MechanismError as exc:
        raise MechanismError(exc.problems) from None  # mechanisms name roles: nothing checks without them
    roles: dict[str, RoleDef] = {r.code: r for r in platform}
    role_files: dict[str, str] = {}
    registers: dict[str, Register] = {}
    lineds: dict[
        str, tuple[MechanismDef, LinedData]
    ] = {}  # each mechanism's file, for the checks across files
    for path in yaml_files(directory):
        lined = None
        try:
            lined = read_lined_yaml(path)
            if is_register(lined):
                taken = {
                    **{c: m.file for c, m in mechanisms.items()},
                    **{c: r.file for c, r in registers.items()},
                }
                load_register(lined, platform, taken, prefixes, registers, problems)
                continue
            mech = validate_mechanism(lined, platform)
        except MechanismError as exc:
            problems.extend(exc.problems)
            if lined is not None and isinstance(lined.data, dict) and isinstance(lined.data.get("code"), str):
                broken.add(lined.data["code"])
            continue
        if mech.code in mechanisms or mech.code in registers:
            other = mechanisms[mech.code] if mech.code in mechanisms else registers[mech.code]
            problems.append(lined.problem(("code",), f"机制编码 '{mech.code}' 与 {other.file} 重复"))
            continue
        if mech.number_prefix in prefixes:
            problems.append(
                lined.problem(
                    ("number_prefix",),
                    f"案件编号前缀 '{mech.number_prefix}' 与 {prefixes[mech.number_prefix]} 重复",
                )
            )
            continue
        prefixes[mech.number_prefix] = path.name
        mechanisms[mech.code] = Mechanism(mech, path.name)
        lineds[mech.code] = (mech, lined)
        for i, role in enumerate(mech.roles):
            if role.code in role_files:
                problems.append(
                    lined.problem(
                        ("roles", i, "code"),
                        f"角色编码 '{role.code}' 与 {role_files[role.code]} 中的角色重复",
                    )
                )
            role_files[role.code] = path.name
            roles.setdefault(role.code, role)
    problems.extend(check_references(lineds, set(registers)))
    defs = {code: m.definition for code, m in mechanisms.items()}
    for code, mech in mechanisms.items():  # a spawn names another mechanism: checked with all loaded
        problems.extend(check_spawn_targets(mech.definition, defs, lineds[code][1], broken))
    packs: list[PackDef] = []
    pack_files: dict[str, str] = {}
    claimed: dict[tuple, str] = {}  # (mechanism, division, rule kind, state) -> the pack that set it
    for path in yaml_files(directory / "packs"):
        name = f"packs/{path.name}"
        try:
            lined = read_lined_yaml(path, name)
            pack = validate_pack(lined, defs, broken)
        except MechanismError as exc:
            problems.extend(exc.problems)
            continue
        if pack.pack in pack_files:
            problems.append(
                lined.problem(("pack",), f"规则包编码 '{pack.pack}' 与 {pack_files[pack.pack]} 重复")
            )
            continue
        pack_files[pack.pack] = name
        overlaps = pack_overlaps(pack, lined, claimed)
        if overlaps:
            problems.extend(overlaps)
            continue
        packs.append(pack)
        for code in pack.mechanisms:
            if code in mechanisms:  # not when the mechanism's own file is broken (reported above)
                mechanisms[code].packs.append(pack)
    if problems:
        raise MechanismError(problems)
    return Registry(mechanisms, packs, roles, registers)


def pack_overlaps(pack: PackDef, lined: LinedData, claimed: dict[tuple, str]) -> list[Problem]:
    """Two packs for the same division may not both set a state's time limits or supervision:
    which of them wins would depend on the order of the files."""
    problems: list[Problem] = []
    mine: set[tuple] = set()
    for code, override in pack.mechanisms.items():
        rules = [("time_limits", i, item.state) for i, item in enumerate(override.time_limits)]
        rules += [("total_limits", None, None)] if override.total_limits else []
        rules += [("supervision", i, item.state) for i, item in enumerate(override.supervision)]
        rules += [("kpi", None, None)] if override.kpi is not None else []
        rules += [("transitions", None, t) for t in override.transitions]
        rules += [("intake", None, None)] if override.intake is not None else []
        rules += [("bands", None, table) for table in override.bands]
        for kind, i, state in rules:
            for division in pack.divisions:
                key = (code, division, kind, state)
                other = claimed.get(key)
                if other is not None and key not in mine:
                    what = (
                        f"状态 '{state}' "
                        if state
                        else ("" if kind in ("kpi", "intake", "total_limits") else "所有状态")
                    )
                    if kind in ("transitions", "bands"):
                        what = f"{'流转' if kind == 'transitions' else '分级表'} '{state}' "
                    label = {
                        "time_limits": "时限",
                        "total_limits": "总时限",
                        "supervision": "催办督办",
                        "kpi": "考核规则",
                        "transitions": "时限数值",
                        "intake": "上报照片要求",
                        "bands": "分级区间",
                    }[kind]
                    where = (
                        (kind, state)
                        if kind in ("transitions", "bands")
                        else (kind,)
                        if i is None
                        else (kind, i)
                    )
                    problems.append(
                        lined.problem(
                            ("mechanisms", code, *where),
                            f"与规则包 {other} 都为区划 '{division}' 设置了{what}的{label}，无法确定以哪个为准",
                        )
                    )
                mine.add(key)
    if not problems:
        claimed.update({key: lined.file for key in mine})
    return problems


_registry: Registry | None = None


def get_registry() -> Registry:
    """The platform's mechanisms, loaded once; a bad file stops start-up with every problem listed."""
    global _registry
    if _registry is None:
        directory = Path(settings.TAIZHANG_MECHANISM_DIR)
        try:
            _registry = load_directory(directory)
        except MechanismError as exc:
            raise ImproperlyConfigured(f"机制定义有误（{directory}）：\n{exc}") from None
    return _registry


def get_mechanism(code: str) -> Mechanism:
    """A mechanism by code; KeyError when there is none."""
    return get_registry().get(code)


def get_register(code: str) -> Register:
    """A register by code; KeyError when there is none."""
    return get_registry().registers[code]


def reset_registry() -> None:
    global _registry
    _registry = None
