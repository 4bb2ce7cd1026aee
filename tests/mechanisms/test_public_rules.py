"""The `public:` block of a mechanism file: what the public ledger and machine outputs may show.

In the style of test_validation.py: each case starts from its MINIMAL mechanism with a public block,
breaks one thing, and checks the one Problem (file, line, field, message) that comes out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from taizhang.mechanisms.registry import load_directory
from taizhang.mechanisms.validate import validate_mechanism
from taizhang.mechanisms.yamlfile import parse_lined_yaml

from . import test_validation as tv

PUBLIC = """\
public:
  channels: [grid, hotline]
  fields: [title, description, unit]
  location: {decimals: 3}
  personal: [measures]
"""
TEXT = tv.MINIMAL + PUBLIC


def broken(*edits: tuple[str, str]) -> str:
    text = TEXT
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def test_a_public_block_is_read():
    rules = validate_mechanism(parse_lined_yaml(TEXT, tv.FILE)).public
    assert rules.channels == ["grid", "hotline"] and rules.fields == ["title", "description", "unit"]
    assert rules.location.decimals == 3 and rules.personal == ["measures"]


def test_without_a_public_block_nothing_is_public():
    rules = validate_mechanism(parse_lined_yaml(tv.MINIMAL, tv.FILE)).public
    assert rules.channels == [] and rules.fields == [] and rules.location is None


def test_the_shipped_mechanisms_publish_what_the_ledger_may_show():
    registry = load_directory(Path(settings.TAIZHANG_MECHANISM_DIR))
    rules = {code: m.definition.public for code, m in registry.mechanisms.items()}
    assert rules["petition"].channels == [] and "petitioner_name" in rules["petition"].personal
    assert not {"self_check", "inspection"} & set(rules["hazard"].channels)
    assert {"resident", "hotline", "open311"} <= set(rules["hazard"].channels)
    assert {"caller_name", "caller_phone"} <= set(rules["demand"].personal)
    assert all(r.location is None or r.location.decimals <= 3 for r in rules.values())


CASES = [
    # (id, edits, needle of the expected line, field, message fragment)
    (
        "unknown-channel",
        [("channels: [grid, hotline]", "channels: [grid, phone]")],
        "channels: [grid, phone]",
        "public.channels[1]",
        "未知的渠道 'phone'（可用：grid、hotline）",
    ),
    (
        "duplicate-channel",
        [("channels: [grid, hotline]", "channels: [grid, grid]")],
        "channels: [grid, grid]",
        "public.channels[1]",
        "重复的渠道 'grid'",
    ),
    (
        "unknown-attribute",
        [("fields: [title, description, unit]", "fields: [title, phone]")],
        "fields: [title, phone]",
        "public.fields[1]",
        "不在允许范围内",
    ),
    (
        "duplicate-attribute",
        [("fields: [title, description, unit]", "fields: [title, title]")],
        "fields: [title, title]",
        "public.fields[1]",
        "重复的字段 'title'",
    ),
    (
        "unknown-personal-field",
        [("personal: [measures]", "personal: [caller]")],
        "personal: [caller]",
        "public.personal[0]",
        "未知的表单字段 'caller'（可用：measures、kind）",
    ),
    (
        "personal-field-marked-public",
        [("label: 整改措施, type: textarea}", "label: 整改措施, type: textarea, public: true}")],
        "personal: [measures]",
        "public.personal[0]",
        "标为 public: true（公开），不能同时列为个人信息",
    ),
    (
        "too-precise",
        [("location: {decimals: 3}", "location: {decimals: 6}")],
        "decimals: 6",
        "public.location.decimals",
        "坐标公开精度须为 1 到 4 位小数",
    ),
    (
        "decimals-as-text",
        [("location: {decimals: 3}", "location: {decimals: '3'}")],
        "decimals: '3'",
        "public.location.decimals",
        "应为整数",
    ),
    (
        "location-as-a-number",
        [("location: {decimals: 3}", "location: 3")],
        "location: 3",
        "public.location",
        "应为映射",
    ),
    (
        "misspelt-key",
        [("  channels: [grid, hotline]", "  channel: [grid, hotline]")],
        "channel: [grid, hotline]",
        "public.channel",
        "是否应为 'channels'",
    ),
    (
        "fields-without-channels",
        [("channels: [grid, hotline]", "channels: []"), ("  location: {decimals: 3}\n", "")],
        "fields: [title",
        "public.fields",
        "public.channels 为空，本机制的事项都不公开，此项不会生效",
    ),
    ("not-a-mapping", [(PUBLIC, "public: [grid]\n")], "public: [grid]", "public", "应为映射"),
]


@pytest.mark.parametrize(
    ("edits", "needle", "field", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_public_block_errors(edits, needle, field, fragment):
    text = broken(*edits)
    problems = tv.problems_of(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert (problem.file, problem.line, problem.field) == (tv.FILE, tv.line_with(text, needle), field), str(
        problem
    )
    assert fragment in problem.message, str(problem)
