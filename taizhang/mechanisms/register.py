"""A loaded register definition and the look-ups its pages and actions need; loading it beside mechanisms."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .errors import MechanismError, Problem
from .register_schema import RegisterDef
from .schema import FieldDef, RoleDef
from .validate_register import validate_register
from .yamlfile import LinedData


@dataclass
class Register:
    definition: RegisterDef
    file: str

    @property
    def code(self) -> str:
        return self.definition.code

    @property
    def name(self) -> str:
        return self.definition.name

    @cached_property
    def fields(self) -> dict[str, FieldDef]:
        return {f.name: f for f in self.definition.fields}

    @cached_property
    def assessed(self) -> frozenset[str]:
        """The fields only a re-assessment sets."""
        a = self.definition.assessment
        return frozenset(a.fields if a else ())

    def category_name(self, code: str) -> str:
        return next((c.name for c in self.definition.categories if c.code == code), code)

    def choice_name(self, field: str, code) -> str:
        """The name of a choice (or of each of a multichoice) of a field, for display."""
        f = self.fields.get(field)
        names = {c.code: c.name for c in f.choices} if f else {}
        if isinstance(code, list):
            return "、".join(names.get(c, str(c)) for c in code)
        if isinstance(code, bool):
            return "是" if code else "否"
        return names.get(code, "" if code is None else str(code))


def is_register(lined: LinedData) -> bool:
    """Whether a file declares `kind: register` (every other file is a case mechanism)."""
    return isinstance(lined.data, dict) and lined.data.get("kind") == "register"


def load_register(
    lined: LinedData,
    platform: tuple[RoleDef, ...],
    taken_codes: dict[str, str],
    prefixes: dict[str, str],
    registers: dict[str, Register],
    problems: list[Problem],
) -> None:
    """Validate a register file and add it to `registers`: its code and number prefix unique beside the
    mechanisms' (`taken_codes`, `prefixes`: code or prefix -> file); problems are appended."""
    try:
        reg = validate_register(lined, platform)
    except MechanismError as exc:
        problems.extend(exc.problems)
        return
    if reg.code in taken_codes:
        problems.append(lined.problem(("code",), f"编码 '{reg.code}' 与 {taken_codes[reg.code]} 重复"))
        return
    if reg.number_prefix in prefixes:
        problems.append(
            lined.problem(
                ("number_prefix",), f"编号前缀 '{reg.number_prefix}' 与 {prefixes[reg.number_prefix]} 重复"
            )
        )
        return
    prefixes[reg.number_prefix] = lined.file
    registers[reg.code] = Register(reg, lined.file)
