"""Checks of a mechanism's `public:` block: what the public ledger and machine outputs may show."""

from __future__ import annotations

from .errors import Problem
from .schema import MechanismDef
from .yamlfile import LinedData

DECIMALS = range(1, 5)  # 1 ≈ 10 km … 4 ≈ 10 m; more is the exact point


def check_public(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    """Channels and personal fields the mechanism declares, a sane coordinate precision, no duplicates,
    nothing personal marked public, and nothing that could never take effect."""
    from .validate import unknown, unknown_field  # validate.py calls this: import late

    rules = mech.public
    channels = {c.code for c in mech.channels}
    fields = {f.name: f for f in mech.fields}
    base = ("public",)
    for i, code in enumerate(rules.channels):
        if code not in channels:
            problems.append(lined.problem((*base, "channels", i), unknown("channel", code, channels)))
    duplicates(rules.channels, "渠道", (*base, "channels"), lined, problems)
    duplicates(list(rules.fields), "字段", (*base, "fields"), lined, problems)
    duplicates(rules.personal, "字段", (*base, "personal"), lined, problems)
    for i, name in enumerate(rules.personal):
        path = (*base, "personal", i)
        if name not in fields:
            problems.append(lined.problem(path, unknown_field(name, fields)))
        elif fields[name].public:
            problems.append(
                lined.problem(path, f"字段 '{name}' 标为 public: true（公开），不能同时列为个人信息")
            )
    if rules.location is not None and rules.location.decimals not in DECIMALS:
        problems.append(
            lined.problem(
                (*base, "location", "decimals"),
                f"坐标公开精度须为 1 到 4 位小数（3 位约 100 米，2 位约 1 公里），现为 {rules.location.decimals}",
            )
        )
    if not rules.channels:
        for key in ("fields", "location"):
            if getattr(rules, key):
                problems.append(
                    lined.problem((*base, key), "public.channels 为空，本机制的事项都不公开，此项不会生效")
                )
    check_ledger(mech, lined, problems)


def check_ledger(mech: MechanismDef, lined: LinedData, problems: list[Problem]) -> None:
    """The form fields the public ledger shows exist, are marked public and are never personal."""
    from .validate import unknown_field  # validate.py calls this: import late

    ledger = mech.public.ledger
    fields = {f.name: f for f in mech.fields}
    base = ("public", "ledger", "fields")
    duplicates(ledger.fields, "字段", base, lined, problems)
    for i, name in enumerate(ledger.fields):
        if name not in fields:
            problems.append(lined.problem((*base, i), unknown_field(name, fields)))
        elif name in mech.public.personal:
            problems.append(
                lined.problem((*base, i), f"字段 '{name}' 是个人信息（public.personal），不能在台账中公开")
            )
        elif not fields[name].public:
            problems.append(lined.problem((*base, i), f"字段 '{name}' 未标为 public: true，不能在台账中公开"))
    if ledger.fields and not (mech.public.channels and ledger.listed):
        problems.append(
            lined.problem(
                base, "本机制的事项不在为民办事台账中公开（channels 为空或 listed: false），此项不会生效"
            )
        )


def duplicates(values: list[str], label: str, path: tuple, lined: LinedData, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            problems.append(lined.problem((*path, i), f"重复的{label} '{value}'"))
        seen.add(value)
