"""Local numbers of hot spots and reply quality: `mechanisms/insight/{hotspots,replies}.yaml`.

Each file holds the defaults at its top level and may override any of them per region (区/县 code)
under `regions:`; an override is merged into the defaults key by key and the result validated as a
whole. Every problem names the file, the line and the field (the mechanism files' reader and
messages). A file missing from TAIZHANG_MECHANISM_DIR is read from the one shipped in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel, Field, ValidationError

from taizhang.mechanisms.errors import MechanismError, Problem
from taizhang.mechanisms.schema import Code, Strict
from taizhang.mechanisms.validate import parse_model, shape_message
from taizhang.mechanisms.yamlfile import LinedData, read_lined_yaml

SHIPPED = Path(__file__).resolve().parent.parent.parent / "mechanisms" / "insight"
Share = Annotated[float, Field(ge=0, le=1)]
Weight = Annotated[float, Field(ge=0)]
Positive = Annotated[int, Field(gt=0, strict=True)]


# --------------------------------------------------------------------------------------- hot spots


class Grouping(Strict):
    window_days: Positive
    join_threshold: Share
    text_weight: Share
    place_weight: Share
    min_problem: Share
    place_unknown: Share
    place_conflict: Share
    same_division: Share
    place_full_share: Annotated[float, Field(gt=0, le=1)]
    query_terms: Positive
    common_share: Share
    candidates: Positive
    group_terms: Positive


class Reporters(Strict):
    phone_field: str = Field(min_length=1)
    self_channels: list[Code] = []


class Naming(Strict):
    problem_terms: Positive
    place_share: Share


class Heat(Strict):
    count: Weight
    reporters: Weight
    support: Weight
    span: Weight
    half_life_days: Annotated[float, Field(gt=0)]


class Dashboard(Strict):
    limit: Positive
    days: Positive
    min_count: Positive
    scan_limit: Positive


class HotspotRules(Strict):
    mechanisms: list[Code] = Field(min_length=1)
    grouping: Grouping
    reporters: Reporters
    naming: Naming
    heat: Heat
    dashboard: Dashboard
    regions: dict[str, Any] = {}


# ----------------------------------------------------------------------------------- reply quality


class ReplyWeights(Strict):
    relevance: Weight
    completeness: Weight
    interpretability: Weight
    timeliness: Weight


class CueClass(Strict):
    weight: Weight
    patterns: list[str] = Field(min_length=1)


class ReplyRules(Strict):
    transitions: dict[Code, list[Code]] = Field(min_length=1)
    viewer_roles: list[Code] = Field(min_length=1)
    weights: ReplyWeights
    weak_below: Share
    component_floor: Share
    relevance_full: Annotated[float, Field(gt=0, le=1)]
    completeness_share: Annotated[float, Field(gt=0, le=1)]
    point_terms: Positive
    max_points: Positive
    demand_chars: Positive
    min_substance: Annotated[int, Field(ge=0, strict=True)]
    late_zero_days: Annotated[float, Field(gt=0)]
    cues: dict[Code, CueClass] = Field(min_length=1)
    boilerplate: list[str] = []
    ask_markers: list[str] = Field(min_length=1)
    regions: dict[str, Any] = {}


# ------------------------------------------------------------------------------------------ checks


def check_hotspots(rules: HotspotRules, lined: LinedData, base: tuple) -> list[Problem]:
    g = rules.grouping
    if abs(g.text_weight + g.place_weight - 1) > 1e-6:
        return [lined.problem((*base, "grouping", "place_weight"), "text_weight 与 place_weight 之和须为 1")]
    return []


def check_replies(rules: ReplyRules, lined: LinedData, base: tuple) -> list[Problem]:
    problems = []
    if sum(rules.weights.model_dump().values()) <= 0:
        problems.append(lined.problem((*base, "weights"), "权重之和须大于 0"))
    from taizhang.org.roles import Role

    for i, role in enumerate(rules.viewer_roles):
        if role not in Role.values:
            problems.append(lined.problem((*base, "viewer_roles", i), f"没有岗位 '{role}'"))
    lists = [("boilerplate", i, p) for i, p in enumerate(rules.boilerplate)]
    lists += [
        ("cues", name, "patterns", i, p) for name, c in rules.cues.items() for i, p in enumerate(c.patterns)
    ]
    for *path, pattern in lists:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(lined.problem((*base, *path), f"正则表达式无效：{exc}"))
    return problems


def merged(base: dict, override: dict) -> dict:
    """`base` with `override` laid over it, mappings merged key by key, anything else replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "regions":
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def overrides(override: dict, loc: tuple) -> bool:
    """Whether the problem at `loc` lies in what a region override sets."""
    node: Any = override
    for part in loc:
        if not isinstance(node, dict):
            return True
        if part not in node:
            return False
        node = node[part]
    return True


class RuleSet:
    """The validated defaults of one file and its per-region variants."""

    def __init__(self, default: BaseModel, regions: dict[str, BaseModel]):
        self.default = default
        self.regions = regions

    def for_region(self, region: str = "") -> Any:
        return self.regions.get(region, self.default)


def load_rule_file(path: Path, name: str, model: type[BaseModel], check) -> RuleSet:
    """Read, validate and check one file with its region overrides; MechanismError lists every problem."""
    lined = read_lined_yaml(path, name)
    try:
        default = parse_model(lined, model)
        problems = check(default, lined, ())
    except MechanismError as exc:
        if not isinstance(lined.data, dict):
            raise
        default, problems = None, list(exc.problems)
    regions: dict[str, BaseModel] = {}
    base = {k: v for k, v in lined.data.items() if k != "regions"}
    for code, override in (lined.data.get("regions") or {}).items():
        where = ("regions", code)
        if not isinstance(override, dict):
            problems.append(lined.problem(where, "应为映射（键: 值）"))
            continue
        if "regions" in override:
            problems.append(lined.problem((*where, "regions"), "区域设置中不能再写 regions"))
            continue
        try:
            regions[code] = model.model_validate(merged(base, override))
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(part for part in err["loc"] if part != "[key]")
                if overrides(override, loc):  # the defaults' own problems are reported above
                    problems.append(lined.problem((*where, *loc), shape_message(err, model)))
            continue
        problems += check(regions[code], lined, where)
    if problems:
        raise MechanismError(problems)
    return RuleSet(default, regions)


def rule_path(filename: str) -> Path:
    """The file in the mechanism directory, or the shipped one when the directory has none."""
    local = Path(settings.TAIZHANG_MECHANISM_DIR) / "insight" / filename
    return local if local.is_file() else SHIPPED / filename


_loaded: dict[str, RuleSet] = {}


def _rules(filename: str, model: type[BaseModel], check) -> RuleSet:
    # Keyed by the directory setting and the name, so that a call on the hot path (every transition asks
    # for the reply rules) touches no file system once loaded.
    key = f"{settings.TAIZHANG_MECHANISM_DIR}\0{filename}"
    if key not in _loaded:
        path = rule_path(filename)
        try:
            _loaded[key] = load_rule_file(path, f"insight/{filename}", model, check)
        except MechanismError as exc:
            raise ImproperlyConfigured(f"洞察规则有误（{path}）：\n{exc}") from None
    return _loaded[key]


def hotspot_rules(region: str = "") -> HotspotRules:
    """The hot-spot numbers for a region (its override, else the defaults)."""
    return _rules("hotspots.yaml", HotspotRules, check_hotspots).for_region(region)


def reply_rules(region: str = "") -> ReplyRules:
    """The reply-quality numbers for a region (its override, else the defaults)."""
    return _rules("replies.yaml", ReplyRules, check_replies).for_region(region)


def reset_rules() -> None:
    """Forget the loaded files (tests, or after editing them in a running shell)."""
    _loaded.clear()
