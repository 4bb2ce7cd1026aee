"""The local side of automatic dispatch: `mechanisms/insight/dispatch.yaml`.

Which mechanism's new cases get a suggestion and which form field the model predicts; then, per
locality (any division code: a district, or a street with its own table), which unit handles each
topic, the confidence at or above which a suggestion is trusted, and whether the system then
dispatches by itself. A case takes the deepest locality on its division's path; each locality's keys
are laid over the file's top-level defaults. Every problem names the file, the line and the field,
like the mechanism files. A file missing from TAIZHANG_MECHANISM_DIR is read from the repository's.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pydantic import Field, StrictBool, ValidationError

from taizhang.mechanisms.errors import MechanismError, Problem
from taizhang.mechanisms.schema import Code, Strict
from taizhang.mechanisms.validate import parse_model, shape_message
from taizhang.mechanisms.yamlfile import LinedData, read_lined_yaml
from taizhang.org.roles import SYSTEM

FILENAME = "dispatch.yaml"
SHIPPED = Path(__file__).resolve().parents[3] / "mechanisms" / "insight" / FILENAME
UnitCode = Annotated[str, Field(min_length=1, max_length=64)]
Share = Annotated[float, Field(ge=0, le=1)]


class Locality(Strict):
    """What one locality decides: the unit per topic, the threshold, and whether to dispatch alone."""

    threshold: Share
    auto_dispatch: StrictBool
    units: dict[Annotated[str, Field(min_length=1)], UnitCode] = {}
    name: str = ""


class DispatchRules(Strict):
    mechanism: Code
    field: Code
    transition: Code
    threshold: Share
    auto_dispatch: StrictBool
    units: dict[Annotated[str, Field(min_length=1)], UnitCode] = {}
    localities: dict[str, dict[str, Any]] = {}


class Routing:
    """The validated file: the defaults and the localities by division code."""

    def __init__(self, rules: DispatchRules, localities: dict[str, Locality], file: str):
        self.rules = rules
        self.localities = localities
        self.default = Locality(
            threshold=rules.threshold, auto_dispatch=rules.auto_dispatch, units=rules.units
        )
        self.file = file

    @property
    def mechanism(self) -> str:
        return self.rules.mechanism

    @property
    def field(self) -> str:
        return self.rules.field

    @property
    def transition(self) -> str:
        return self.rules.transition

    def locality_for(self, division_codes: list[str]) -> tuple[str, Locality]:
        """(code, table) of the deepest locality among a division's codes (root first); ("", defaults)."""
        for code in reversed(division_codes):
            if code in self.localities:
                return code, self.localities[code]
        return "", self.default


def check_against_mechanism(rules: DispatchRules, lined: LinedData, auto: bool) -> list[Problem]:
    """The mechanism, its field and its transition exist; a system dispatch needs `system` in the roles."""
    from taizhang.mechanisms.registry import get_registry

    mech = get_registry().mechanisms.get(rules.mechanism)
    if mech is None:
        return [lined.problem(("mechanism",), f"没有编码为 '{rules.mechanism}' 的机制")]
    problems = []
    if rules.field not in mech.fields:
        problems.append(lined.problem(("field",), f"机制 {rules.mechanism} 没有字段 '{rules.field}'"))
    t = mech.transitions.get(rules.transition)
    if t is None:
        problems.append(
            lined.problem(("transition",), f"机制 {rules.mechanism} 没有流转 '{rules.transition}'")
        )
    elif t.assign != "unit":
        problems.append(
            lined.problem(("transition",), f"流转 '{t.code}' 不指定承办单位（assign: unit），不能用于派单")
        )
    elif auto and SYSTEM not in t.roles:
        problems.append(
            lined.problem(
                ("transition",),
                f"有区域开启了自动派单，但流转 '{t.code}' 的 roles 中没有 system：请在机制中允许系统派单",
            )
        )
    return problems


def load_routing(path: Path, name: str | None = None) -> Routing:
    """Read and validate the file; MechanismError lists every problem with file, line and field."""
    lined = read_lined_yaml(path, name or f"insight/{FILENAME}")
    rules = parse_model(lined, DispatchRules)
    base = rules.model_dump(include={"threshold", "auto_dispatch", "units"})
    problems: list[Problem] = []
    localities: dict[str, Locality] = {}
    for code, override in rules.localities.items():
        where = ("localities", code)
        try:
            localities[code] = Locality.model_validate({**base, **override})
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(part for part in err["loc"] if part != "[key]")
                problems.append(lined.problem((*where, *loc), shape_message(err, Locality)))
    auto = rules.auto_dispatch or any(t.auto_dispatch for t in localities.values())
    problems += check_against_mechanism(rules, lined, auto)
    if problems:
        raise MechanismError(problems)
    return Routing(rules, localities, lined.file)


def routing_path() -> Path:
    """The file in the mechanism directory, or the shipped one when the directory has none."""
    local = Path(settings.TAIZHANG_MECHANISM_DIR) / "insight" / FILENAME
    return local if local.is_file() else SHIPPED


_lock = threading.Lock()
_loaded: dict[str, Routing] = {}


def get_routing() -> Routing:
    """The dispatch rules, loaded once; a bad file is ImproperlyConfigured with every problem."""
    path = routing_path()
    key = str(path)
    if key not in _loaded:
        with _lock:
            if key not in _loaded:
                try:
                    _loaded[key] = load_routing(path)
                except MechanismError as exc:
                    raise ImproperlyConfigured(f"自动派单规则有误（{path}）：\n{exc}") from None
    return _loaded[key]


def reset_routing() -> None:
    """Forget the loaded file (tests, or after editing it in a running shell)."""
    _loaded.clear()
