"""Every validation error of a mechanism file: the file, the line, the field and what is wrong.

Each case starts from MINIMAL (a small but complete mechanism), breaks one thing, and checks the one
Problem that comes out. Lines are found from the broken text itself (the line holding `needle`), so
the expected line is independent of the parser.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from taizhang.mechanisms.errors import MechanismError, Problem, field_name
from taizhang.mechanisms.register import is_register
from taizhang.mechanisms.registry import load_directory
from taizhang.mechanisms.validate import validate_mechanism
from taizhang.mechanisms.yamlfile import parse_lined_yaml, read_lined_yaml

FILE = "demo.yaml"

# A small mechanism that uses every feature a check looks at. transitions: 0 accept, 1 done, 2 park,
# 3 resume, 4 review, 5 extend, 6 urge.
MINIMAL = """\
code: demo
name: 演示机制
number_prefix: DM
categories:
  - {code: fire, name: 消防}
  - {code: other, name: 其他}
grades:
  - {code: general, name: 一般}
  - {code: major, name: 重大}
channels:
  - {code: grid, name: 网格巡查}
  - {code: hotline, name: 热线}
fields:
  - {name: measures, label: 整改措施, type: textarea}
  - name: kind
    label: 类型
    type: choice
    choices:
      - {code: a, name: 甲}
      - {code: b, name: 乙}
intake:
  initial: reported
  roles: [grid_worker, resident, dispatcher]
  channel_by_role: {grid_worker: grid}
states:
  - {code: reported, name: 待受理, kind: open}
  - {code: working, name: 办理中, kind: open}
  - {code: parked, name: 挂账, kind: parked, clock: stopped}
  - {code: closed, name: 已办结, kind: closed}
transitions:
  - code: accept
    name: 受理
    from: [reported]
    to: working
    roles: [dispatcher]
    sets: [grade]
    assign: unit
  - code: done
    name: 办结
    from: [working]
    to: closed
    roles: [handler]
    fields: [measures]
    require:
      - when: {grade: [major]}
        photos: 1
        fields: [kind]
  - code: park
    name: 挂账
    from: [working]
    to: parked
    roles: [handler]
    approval: {roles: [leader], name: 挂账审批}
  - code: resume
    name: 恢复
    from: [parked]
    to: working
    roles: [leader]
    deadline: resume
  - code: review
    name: 复核
    from: [working]
    to: closed
    roles: [verifier]
    only_if: {category: [fire], channel: [grid]}
    distinct_from: [done]
  - code: extend
    name: 延期
    from: [working]
    roles: [handler]
    deadline: extend
    before_due: true
  - code: urge
    name: 催办
    from: [working, parked]
    roles: [leader, system]
    deadline: keep
time_limits:
  - {state: working, limit: 5 工作日}
  - {state: working, grade: major, limit: 2 自然日}
supervision:
  - state: working
    remind_before: [1 工作日]
    escalate:
      - {after: 0 小时, levels: 1}
      - {after: 2 工作日, levels: 2}
"""


def line_with(text: str, needle: str | tuple[str, int]) -> int:
    """The 1-based line of the only line of `text` that contains `needle` (plus an offset, if given)."""
    needle, offset = needle if isinstance(needle, tuple) else (needle, 0)
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"needle {needle!r} is on lines {hits}"
    return hits[0] + offset


def broken(*edits: tuple[str, str]) -> str:
    """MINIMAL with each (old, new) replaced; `old` must occur exactly once."""
    text = MINIMAL
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def problems_of(text: str, name: str = FILE) -> list[Problem]:
    with pytest.raises(MechanismError) as info:
        validate_mechanism(parse_lined_yaml(text, name))
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return info.value.problems


def assert_one_problem(text: str, needle: str, field: str, fragment: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    assert (problem.file, problem.line, problem.field) == (FILE, line_with(text, needle), field), str(problem)
    assert fragment in problem.message, str(problem)
    return problem


def test_minimal_mechanism_is_valid():
    mech = validate_mechanism(parse_lined_yaml(MINIMAL, FILE))
    assert mech.code == "demo"
    assert [t.code for t in mech.transitions] == [
        "accept",
        "done",
        "park",
        "resume",
        "review",
        "extend",
        "urge",
    ]


def test_the_real_mechanisms_directory_loads_without_problems():
    registry = load_directory(Path(settings.TAIZHANG_MECHANISM_DIR))
    assert "hazard" in registry.mechanisms
    assert "luzhou" in [p.pack for p in registry.packs]
    for path in sorted(Path(settings.TAIZHANG_MECHANISM_DIR).glob("*.yaml")):
        lined = read_lined_yaml(path)
        if not is_register(lined):  # registers (kind: register) are checked by tests/registers
            validate_mechanism(lined)


# -- reading the YAML ---------------------------------------------------------------------------------

YAML_CASES = [
    # (id, edits, needle of the expected line, field, message fragment)
    ("colon-in-value", [("name: 演示机制", "name: 演示: 机制")], "演示: 机制", "", "此处不能出现"),
    ("tab-indent", [("  initial: reported", "\tinitial: reported")], "initial: reported", "", "制表符"),
    ("unclosed-quote", [("name: 演示机制", 'name: "演示机制')], "演示机制", "", "未闭合"),
    (
        "unclosed-bracket",
        [("roles: [dispatcher]\n    sets", "roles: [dispatcher\n    sets")],
        "    sets: [grade]",
        "",
        "方括号",
    ),
    (
        "bad-indent",
        [("  initial: reported", "   initial: reported")],
        "  roles: [grid_worker",
        "",
        "缩进不一致",
    ),
    (
        "undefined-alias",
        [("roles: [leader]\n    deadline: resume", "roles: *leaders\n    deadline: resume")],
        "*leaders",
        "",
        "未定义的锚点",
    ),
    ("control-char", [("name: 演示机制", "name: 演示\x07机制")], "演示", "", "控制字符 #x0007"),
    (
        "duplicate-root-key",
        [("number_prefix: DM", "number_prefix: DM\nname: 另一个名字")],
        "另一个名字",
        "name",
        "重复的键",
    ),
    (
        "duplicate-nested-key",
        [("    deadline: resume", "    deadline: resume\n    deadline: restart")],
        "deadline: restart",
        "transitions[3].deadline",
        "重复的键",
    ),
    (
        "duplicate-flow-key",
        [
            (
                "{code: closed, name: 已办结, kind: closed}",
                "{code: closed, code: end, name: 已办结, kind: closed}",
            )
        ],
        "code: end",
        "states[3].code",
        "重复的键",
    ),
    ("unknown-tag", [("name: 演示机制", "name: !zh 演示机制")], "!zh", "name", "不支持的 YAML 标签 '!zh'"),
    ("unknown-tag-on-mapping", [("intake:\n", "intake: !inbox\n")], "!inbox", "intake", "不支持的 YAML 标签"),
    ("bad-binary", [("name: 演示机制", "name: !!binary 'a'")], "!!binary", "name", "无法识别的值"),
    (
        "not-a-date",
        [("name: 演示机制", "name: 2026-13-01")],
        "2026-13-01",
        "name",
        "无法识别的值 '2026-13-01'",
    ),
    (
        "complex-key",
        [("number_prefix: DM", "number_prefix: DM\n? [a, b]\n: 1")],
        "? [a, b]",
        "",
        "键必须是简单的文字",
    ),
    (
        "recursive-alias",
        [("roles: [leader]\n    deadline: resume", "roles: &loop [leader, *loop]\n    deadline: resume")],
        "&loop",
        "transitions[3].roles[1]",
        "引用了包含它自身",
    ),
    (
        "merge-non-mapping",
        [("  - code: urge\n", "  - code: urge\n    <<: [1]\n")],
        "<<: [1]",
        "transitions[6]",
        "合并键 << 只能引用映射",
    ),
]


@pytest.mark.parametrize(
    ("edits", "needle", "field", "fragment"), [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES]
)
def test_yaml_reading_errors(edits, needle, field, fragment):
    problem = assert_one_problem(broken(*edits), needle, field, fragment)
    if field == "" and "YAML" in fragment + problem.message:
        assert problem.message.startswith("YAML 语法错误")


def test_unclosed_quote_points_at_where_it_opened_not_the_end_of_the_file():
    text = broken(("name: 演示机制", 'name: "演示机制'))
    (problem,) = problems_of(text)
    assert problem.line == 2


def test_non_utf8_file_names_the_line_of_the_first_bad_byte(tmp_path):
    path = tmp_path / FILE
    path.write_bytes(
        MINIMAL.replace("name: 演示机制", "name: 演示")
        .encode("utf-8")
        .replace("name: 演示".encode(), "name: 演示".encode("gbk"))
    )
    with pytest.raises(MechanismError) as info:
        read_lined_yaml(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == (FILE, 2, "")
    assert "不是 UTF-8 编码" in problem.message


def test_gbk_encoded_file_is_refused_whole(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes(MINIMAL.encode("gbk"))
    with pytest.raises(MechanismError, match=r"gbk\.yaml:2: 文件不是 UTF-8 编码"):
        read_lined_yaml(path)


def test_missing_file_is_a_problem_not_a_crash(tmp_path):
    with pytest.raises(MechanismError) as info:
        read_lined_yaml(tmp_path / "nope.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("nope.yaml", 1, "")
    assert "无法读取文件" in problem.message


def test_read_names_the_file_as_asked(tmp_path):
    path = tmp_path / FILE
    path.write_text(broken(("kind: closed}", "kind: done}")), encoding="utf-8")
    with pytest.raises(MechanismError) as info:
        validate_mechanism(read_lined_yaml(path, "packs/x.yaml"))
    assert info.value.problems[0].file == "packs/x.yaml"


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / FILE
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode("utf-8"))
    assert validate_mechanism(read_lined_yaml(path)).code == "demo"


def test_anchors_aliases_and_merge_keys_work_and_keep_lines():
    text = broken(
        ("  - code: park\n", "  - &handler_step\n    code: park\n"),
        (
            "  - code: extend\n    name: 延期\n    from: [working]\n    roles: [handler]\n",
            "  - <<: *handler_step\n    code: extend\n    name: 延期\n    to: null\n    approval: null\n",
        ),
    )
    lined = parse_lined_yaml(text, FILE)
    mech = validate_mechanism(lined)
    extend = mech.transitions[5]
    assert (extend.code, extend.from_, extend.roles, extend.to, extend.approval) == (
        "extend",
        ["working"],
        ["handler"],
        None,
        None,
    )
    # Merged keys take the line of the anchor they come from; own keys their own line.
    assert lined.line_of(("transitions", 5, "code")) == line_with(text, "    code: extend")
    assert lined.line_of(("transitions", 5, "roles")) == line_with(text, "&handler_step") + 5


def test_yaml_booleans_as_keys_stay_text():
    # `on:` is the key "on" (unknown), not True: the message names it as written.
    assert_one_problem(
        broken(("number_prefix: DM", "number_prefix: DM\non: 1")), "on: 1", "on", "未知的键 'on'"
    )


# -- the shape (schema.py) ----------------------------------------------------------------------------

SHAPE_CASES = [
    ("empty-file", None, "", "", "文件为空"),
    ("list-root", "- a\n- b\n", "- a", "", "顶层应为映射"),
    (
        "unknown-root-key",
        [("number_prefix: DM", "number_prefix: DM\nowner: 应急局")],
        "owner",
        "owner",
        "未知的键 'owner'",
    ),
    (
        "unknown-key-suggests",
        [("before_due: true", "befor_due: true")],
        "befor_due",
        "transitions[5].befor_due",
        "未知的键 'befor_due'，是否应为 'before_due'？",
    ),
    (
        "unknown-key-lists-allowed",
        [("    deadline: keep", "    deadline: keep\n    colour: red")],
        "colour",
        "transitions[6].colour",
        "可用：code、name、from、to、roles",
    ),
    (
        "unknown-key-in-state",
        [("kind: parked, clock", "kind: parked, colour: red, clock")],
        "colour",
        "states[2].colour",
        "未知的键",
    ),
    (
        "unknown-key-in-escalation",
        [("{after: 0 小时, levels: 1}", "{after: 0 小时, levels: 1, to: x}")],
        "levels: 1, to",
        "supervision[0].escalate[0].to",
        "未知的键 'to'",
    ),
    ("missing-root-key", [("number_prefix: DM\n", "")], "code: demo", "number_prefix", "缺少必填项"),
    (
        "missing-from",
        [("    from: [reported]\n    to: working", "    to: working")],
        "- code: accept",
        "transitions[0].from",
        "缺少必填项",
    ),
    (
        "missing-kind",
        [("{code: reported, name: 待受理, kind: open}", "{code: reported, name: 待受理}")],
        "待受理",
        "states[0].kind",
        "缺少必填项",
    ),
    ("missing-intake-initial", [("  initial: reported\n", "")], "intake:", "intake.initial", "缺少必填项"),
    ("bad-code-pattern", [("code: demo", "code: Demo")], "code: Demo", "code", "格式不符"),
    (
        "bad-state-code",
        [("{code: working, name: 办理中", "{code: work-ing, name: 办理中")],
        "work-ing",
        "states[1].code",
        "'work-ing'",
    ),
    (
        "bad-role-code-in-from",
        [("    from: [parked]", "    from: [Parked]")],
        "[Parked]",
        "transitions[3].from[0]",
        "格式不符",
    ),
    ("code-too-long", [("code: demo", "code: " + "d" * 41)], "d" * 41, "code", "最多 40 个字符"),
    (
        "bad-number-prefix",
        [("number_prefix: DM", "number_prefix: dm")],
        "number_prefix",
        "number_prefix",
        "格式不符",
    ),
    (
        "wrong-state-kind",
        [("kind: open}\n  - {code: working", "kind: opened}\n  - {code: working")],
        "opened",
        "states[0].kind",
        "取值 'opened' 不在允许范围内",
    ),
    ("wrong-clock", [("clock: stopped", "clock: paused")], "paused", "states[2].clock", "'running'"),
    ("wrong-field-type", [("type: textarea", "type: longtext")], "longtext", "fields[0].type", "'textarea'"),
    (
        "wrong-deadline",
        [("deadline: resume", "deadline: continue")],
        "continue",
        "transitions[3].deadline",
        "'resume'",
    ),
    (
        "wrong-assign",
        [("assign: unit", "assign: person")],
        "assign",
        "transitions[0].assign",
        "'enforcement_unit'",
    ),
    (
        "wrong-sets",
        [("sets: [grade]", "sets: [grade, deadline]")],
        "sets:",
        "transitions[0].sets[1]",
        "'address'",
    ),
    (
        "empty-roles",
        [("    roles: [dispatcher]\n", "    roles: []\n")],
        "roles: []",
        "transitions[0].roles",
        "不能为空",
    ),
    (
        "empty-intake-roles",
        [("roles: [grid_worker, resident, dispatcher]", "roles: []")],
        "roles: []",
        "intake.roles",
        "不能为空",
    ),
    (
        "empty-approval-roles",
        [("approval: {roles: [leader], name", "approval: {roles: [], name")],
        "approval",
        "transitions[2].approval.roles",
        "不能为空",
    ),
    ("empty-from", [("    from: [reported]", "    from: []")], "from: []", "transitions[0].from", "不能为空"),
    ("empty-name", [("name: 演示机制", "name: ''")], "name: ''", "name", "不能为空"),
    (
        "empty-categories",
        [("categories:\n  - {code: fire, name: 消防}\n  - {code: other, name: 其他}\n", "categories: []\n")],
        "categories",
        "categories",
        "不能为空",
    ),
    (
        "one-state",
        [
            (
                "  - {code: working, name: 办理中, kind: open}\n  - {code: parked, name: 挂账, kind: parked, "
                "clock: stopped}\n  - {code: closed, name: 已办结, kind: closed}\n",
                "",
            )
        ],
        "states:",
        "states",
        "至少要有 2 项",
    ),
    (
        "no-transitions",
        [(MINIMAL[MINIMAL.index("transitions:") : MINIMAL.index("time_limits:")], "transitions: []\n")],
        "transitions: []",
        "transitions",
        "不能为空",
    ),
    (
        "negative-photos",
        [("photos: 1", "photos: -1")],
        "photos: -1",
        "transitions[1].require[0].photos",
        "数值过小",
    ),
    (
        "bool-photos",
        [("photos: 1", "photos: true")],
        "photos: true",
        "transitions[1].require[0].photos",
        "应为整数",
    ),
    (
        "float-version",
        [("number_prefix: DM", "number_prefix: DM\nversion: 1.5")],
        "version",
        "version",
        "应为整数",
    ),
    (
        "zero-version",
        [("number_prefix: DM", "number_prefix: DM\nversion: 0")],
        "version",
        "version",
        "数值过小",
    ),
    (
        "levels-too-high",
        [("levels: 2}", "levels: 6}")],
        "levels: 6",
        "supervision[0].escalate[1].levels",
        "数值过大",
    ),
    (
        "zero-max-length",
        [("type: textarea}", "type: text, max_length: 0}")],
        "max_length",
        "fields[0].max_length",
        "数值过小",
    ),
    (
        "roles-not-a-list",
        [("    roles: [dispatcher]\n", "    roles: dispatcher\n")],
        "roles: dispatcher",
        "transitions[0].roles",
        "应为列表",
    ),
    (
        "intake-not-a-mapping",
        [
            (
                "intake:\n  initial: reported\n  roles: [grid_worker, resident, dispatcher]\n"
                "  channel_by_role: {grid_worker: grid}\n",
                "intake: [reported]\n",
            )
        ],
        "intake: [reported]",
        "intake",
        "应为映射",
    ),
    (
        "only-if-not-a-mapping",
        [("only_if: {category: [fire], channel: [grid]}", "only_if: fire")],
        "only_if",
        "transitions[4].only_if",
        "应为映射",
    ),
    (
        "limit-without-unit",
        [("limit: 5 工作日}", "limit: 5}")],
        "limit: 5}",
        "time_limits[0].limit",
        "时限须写明单位",
    ),
    (
        "remind-without-unit",
        [("remind_before: [1 工作日]", "remind_before: [1]")],
        "remind_before",
        "supervision[0].remind_before[0]",
        "时限须写明单位",
    ),
    ("name-read-as-bool", [("name: 演示机制", "name: yes")], "name: yes", "name", "布尔值"),
    (
        "name-read-as-number",
        [("{code: hotline, name: 热线}", "{code: hotline, name: 12345}")],
        "12345",
        "channels[1].name",
        "数字请加引号",
    ),
    (
        "bool-not-parsable",
        [("before_due: true", "before_due: maybe")],
        "maybe",
        "transitions[5].before_due",
        "应为 true 或 false",
    ),
]


@pytest.mark.parametrize(
    ("edits", "needle", "field", "fragment"), [c[1:] for c in SHAPE_CASES], ids=[c[0] for c in SHAPE_CASES]
)
def test_shape_errors(edits, needle, field, fragment):
    if edits is None:
        text = ""
    elif isinstance(edits, str):
        text = edits
    else:
        text = broken(*edits)
    problems = problems_of(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    (problem,) = problems
    line = line_with(text, needle) if needle else 1
    assert (problem.file, problem.line, problem.field) == (FILE, line, field), str(problem)
    assert fragment in problem.message, str(problem)


def test_every_shape_message_is_chinese():
    texts = [broken(*c[1]) for c in SHAPE_CASES if isinstance(c[1], list)]
    for text in texts:
        for problem in problems_of(text):
            assert any("\u4e00" <= ch <= "\u9fff" for ch in problem.message), str(problem)
            assert "Input should" not in problem.message


# -- the meaning (validate.py) ------------------------------------------------------------------------

SEMANTIC_CASES = [
    # duplicates
    (
        "duplicate-state",
        [("kind: closed}\n", "kind: closed}\n  - {code: working, name: 又一个, kind: open}\n")],
        "又一个",
        "states[4].code",
        "重复的编码 'working'",
    ),
    (
        "duplicate-transition",
        [("  - code: urge", "  - code: review")],
        ("name: 催办", -1),
        "transitions[6].code",
        "重复的编码 'review'",
    ),
    (
        "duplicate-category",
        [("{code: other, name: 其他}", "{code: fire, name: 其他}")],
        "name: 其他",
        "categories[1].code",
        "重复的编码 'fire'",
    ),
    (
        "duplicate-grade",
        [("{code: major, name: 重大}", "{code: major, name: 重大}\n  - {code: general, name: 重复}")],
        "重复}",
        "grades[2].code",
        "重复的编码 'general'",
    ),
    (
        "duplicate-channel",
        [("{code: hotline, name: 热线}", "{code: grid, name: 热线}")],
        "热线",
        "channels[1].code",
        "重复的编码 'grid'",
    ),
    (
        "duplicate-field",
        [("intake:\n", "  - {name: measures, label: 又一个}\nintake:\n")],
        "又一个",
        "fields[2].name",
        "重复的编码 'measures'",
    ),
    (
        "duplicate-field-choice",
        [("{code: b, name: 乙}", "{code: a, name: 乙}")],
        "乙",
        "fields[1].choices[1].code",
        "重复的编码 'a'",
    ),
    # form fields
    (
        "choice-without-choices",
        [("    choices:\n      - {code: a, name: 甲}\n      - {code: b, name: 乙}\n", "")],
        "  - name: kind",
        "fields[1].choices",
        "必须列出选项",
    ),
    (
        "choices-on-text-field",
        [("type: textarea}", "type: textarea, choices: [{code: x, name: 某}]}")],
        "choices: [",
        "fields[0].choices",
        "只有 choice 或 multichoice",
    ),
    (
        "max-length-on-choice",
        [("    type: choice\n", "    type: choice\n    max_length: 10\n")],
        "max_length",
        "fields[1].max_length",
        "只有 text 或 textarea",
    ),
    # intake
    (
        "unknown-initial",
        [("initial: reported", "initial: new")],
        "initial: new",
        "intake.initial",
        "未知的状态 'new'",
    ),
    (
        "closed-initial",
        [("initial: reported", "initial: closed")],
        "initial: closed",
        "intake.initial",
        "不能是终态",
    ),
    (
        "unknown-intake-role",
        [("roles: [grid_worker, resident, dispatcher]", "roles: [grid_worker, residnet, dispatcher]")],
        "residnet",
        "intake.roles[1]",
        "是否应为 'resident'",
    ),
    (
        "reporter-intake-role",
        [("roles: [grid_worker, resident, dispatcher]", "roles: [grid_worker, reporter, dispatcher]")],
        "reporter",
        "intake.roles[1]",
        "reporter 不能作为上报角色",
    ),
    (
        "channel-by-unknown-role",
        [("{grid_worker: grid}", "{grid_worker: grid, gridman: grid}")],
        "gridman",
        "intake.channel_by_role.gridman",
        "未知的角色 'gridman'",
    ),
    (
        "channel-by-role-not-reporting",
        [("{grid_worker: grid}", "{grid_worker: grid, inspector: grid}")],
        "inspector",
        "intake.channel_by_role.inspector",
        "不在 intake.roles 中",
    ),
    (
        "channel-by-role-unknown-channel",
        [("{grid_worker: grid}", "{grid_worker: patrol}")],
        "patrol",
        "intake.channel_by_role.grid_worker",
        "未知的渠道 'patrol'",
    ),
    # states
    ("no-closed-state", [("kind: closed}", "kind: open}")], "states:", "states", "至少要有一个终态"),
    # transitions
    (
        "unknown-from",
        [("    from: [working, parked]", "    from: [working, parkd]")],
        "parkd",
        "transitions[6].from[1]",
        "未知的状态 'parkd'（可用：closed、parked、reported、working）",
    ),
    (
        "unknown-to",
        [("    to: parked", "    to: parking")],
        "parking",
        "transitions[2].to",
        "未知的状态 'parking'",
    ),
    (
        "unknown-role",
        [("    roles: [verifier]", "    roles: [checker]")],
        "checker",
        "transitions[4].roles[0]",
        "未知的角色 'checker'",
    ),
    (
        "only-system-role",
        [("    roles: [verifier]", "    roles: [system]")],
        "[system]",
        "transitions[4].roles",
        "没有人能办理此流转",
    ),
    (
        "unknown-approval-role",
        [("approval: {roles: [leader]", "approval: {roles: [boss]")],
        "boss",
        "transitions[2].approval.roles[0]",
        "未知的角色 'boss'",
    ),
    (
        "system-approval",
        [("approval: {roles: [leader]", "approval: {roles: [leader, system]")],
        "approval",
        "transitions[2].approval.roles[1]",
        "审批不能由系统完成",
    ),
    (
        "unknown-transition-field",
        [("    fields: [measures]", "    fields: [measure]")],
        "[measure]",
        "transitions[1].fields[0]",
        "未知的表单字段 'measure'（可用：measures、kind）",
    ),
    (
        "unknown-require-field",
        [("        fields: [kind]", "        fields: [kind, plan]")],
        "[kind, plan]",
        "transitions[1].require[0].fields[1]",
        "未知的表单字段 'plan'",
    ),
    (
        "unknown-require-grade",
        [("when: {grade: [major]}", "when: {grade: [huge]}")],
        "huge",
        "transitions[1].require[0].when.grade[0]",
        "未知的等级 'huge'（可用：general、major）",
    ),
    (
        "unknown-only-if-category",
        [("only_if: {category: [fire]", "only_if: {category: [flood]")],
        "flood",
        "transitions[4].only_if.category[0]",
        "未知的类别 'flood'",
    ),
    (
        "unknown-only-if-channel",
        [("channel: [grid]}", "channel: [web]}")],
        "[web]",
        "transitions[4].only_if.channel[0]",
        "未知的渠道 'web'",
    ),
    (
        "sets-grade-without-grades",
        [
            ("grades:\n  - {code: general, name: 一般}\n  - {code: major, name: 重大}\n", ""),
            ("      - when: {grade: [major]}\n", "      - when: {category: [fire]}\n"),
            ("  - {state: working, grade: major, limit: 2 自然日}\n", ""),
        ],
        "sets: [grade]",
        "transitions[0].sets[0]",
        "没有定义等级",
    ),
    (
        "unknown-distinct-from",
        [("distinct_from: [done]", "distinct_from: [finish]")],
        "finish",
        "transitions[4].distinct_from[0]",
        "未知的流转 'finish'",
    ),
    (
        "waiting-for-a-role-that-cannot-act",
        [("    distinct_from: [done]\n", "    distinct_from: [done]\n    waiting_for: [leader]\n")],
        "waiting_for",
        "transitions[4].waiting_for[0]",
        "不在本流转的 roles 中",
    ),
    (
        "assign-and-clear-unit",
        [("    assign: unit\n", "    assign: unit\n    clears_unit: true\n")],
        "clears_unit",
        "transitions[0].clears_unit",
        "不能既指派",
    ),
    (
        "extend-changes-state",
        [("    deadline: extend\n", "    deadline: extend\n    to: closed\n")],
        "deadline: extend",
        "transitions[5].deadline",
        "延期（extend）不能同时改变状态",
    ),
    (
        "stay-and-restart",
        [("    roles: [leader, system]\n    deadline: keep", "    roles: [leader, system]")],
        "  - code: urge",
        "transitions[6].deadline",
        "须写 deadline: keep 或 extend",
    ),
    (
        "resume-not-from-stopped",
        [("    from: [parked]", "    from: [working]")],
        "deadline: resume",
        "transitions[3].deadline",
        "resume 只能从停表",
    ),
    # time limits
    (
        "limit-unknown-state",
        [("{state: working, limit: 5 工作日}", "{state: doing, limit: 5 工作日}")],
        "doing",
        "time_limits[0].state",
        "未知的状态 'doing'",
    ),
    (
        "limit-closed-state",
        [("{state: working, limit: 5 工作日}", "{state: closed, limit: 5 工作日}")],
        "state: closed",
        "time_limits[0].state",
        "终态 'closed' 不能设时限",
    ),
    (
        "limit-unknown-grade",
        [("grade: major, limit", "grade: grave, limit")],
        "grave",
        "time_limits[1].grade",
        "未知的等级 'grave'",
    ),
    (
        "limit-grade-without-grades",
        [
            ("grades:\n  - {code: general, name: 一般}\n  - {code: major, name: 重大}\n", ""),
            ("      - when: {grade: [major]}\n", "      - when: {category: [fire]}\n"),
            ("    sets: [grade]\n", ""),
        ],
        "grade: major",
        "time_limits[1].grade",
        "未知的等级 'major'（本机制没有定义等级）",
    ),
    (
        "limit-unknown-category",
        [("grade: major, limit", "category: flood, limit")],
        "flood",
        "time_limits[1].category",
        "未知的类别 'flood'",
    ),
    (
        "limit-unknown-channel",
        [("grade: major, limit", "channel: web, limit")],
        "web",
        "time_limits[1].channel",
        "未知的渠道 'web'",
    ),
    (
        "limit-unknown-unit",
        [("limit: 5 工作日}", "limit: 5 fortnights}")],
        "fortnights",
        "time_limits[0].limit",
        "未知的时限单位“fortnights”",
    ),
    (
        "limit-no-number",
        [("limit: 5 工作日}", "limit: 五个工作日}")],
        "五个工作日",
        "time_limits[0].limit",
        "无法识别的时限",
    ),
    (
        "limit-negative",
        [("limit: 5 工作日}", "limit: -5 工作日}")],
        "-5",
        "time_limits[0].limit",
        "不能为负数",
    ),
    (
        "limit-zero",
        [("limit: 5 工作日}", "limit: 0 工作日}")],
        "limit: 0",
        "time_limits[0].limit",
        "须大于零",
    ),
    (
        "limit-duplicate",
        [("grade: major, limit: 2 自然日", "limit: 2 自然日")],
        "2 自然日",
        "time_limits[1]",
        "与前面的时限条件完全相同",
    ),
    # supervision
    (
        "supervision-unknown-state",
        [("  - state: working\n    remind", "  - state: workin\n    remind")],
        "- state: workin",
        "supervision[0].state",
        "未知的状态 'workin'",
    ),
    (
        "supervision-closed-state",
        [("  - state: working\n    remind", "  - state: closed\n    remind")],
        "state: closed",
        "supervision[0].state",
        "终态 'closed'",
    ),
    (
        "supervision-duplicate",
        [
            (
                "      - {after: 2 工作日, levels: 2}\n",
                "      - {after: 2 工作日, levels: 2}\n  - state: working\n",
            )
        ],
        ("after: 2 工作日", 1),
        "supervision[1]",
        "前面已有 state 为 'working' 的督办规则",
    ),
    (
        "supervision-duplicate-general",
        [
            (
                "      - {after: 2 工作日, levels: 2}\n",
                "      - {after: 2 工作日, levels: 2}\n  - remind_before: [1 小时]\n"
                "  - remind_before: [2 小时]\n",
            )
        ],
        "[2 小时]",
        "supervision[2]",
        "前面已有不写 state（适用于所有状态）的督办规则",
    ),
    (
        "remind-bad-unit",
        [("remind_before: [1 工作日]", "remind_before: [1 week]")],
        "1 week",
        "supervision[0].remind_before[0]",
        "未知的时限单位",
    ),
    (
        "remind-zero",
        [("remind_before: [1 工作日]", "remind_before: [0 小时]")],
        "0 小时]",
        "supervision[0].remind_before[0]",
        "须大于零",
    ),
    (
        "escalate-bad-unit",
        [("{after: 2 工作日, levels: 2}", "{after: 2 fortnights, levels: 2}")],
        "fortnights",
        "supervision[0].escalate[1].after",
        "未知的时限单位",
    ),
    (
        "escalate-levels-not-increasing",
        [("{after: 2 工作日, levels: 2}", "{after: 2 工作日, levels: 1}")],
        "2 工作日, levels",
        "supervision[0].escalate[1].levels",
        "督办层级应逐条递增",
    ),
    (
        "escalate-after-not-increasing",
        [("{after: 0 小时, levels: 1}", "{after: 3 工作日, levels: 1}")],
        "2 工作日, levels",
        "supervision[0].escalate[1].after",
        "督办时间应逐条递增（前一条为 3个工作日）",
    ),
    # the graph (only checked once everything else is right)
    (
        "unreachable-state",
        [("    to: parked", "    to: closed"), ("    deadline: resume\n", "    deadline: restart\n")],
        "{code: parked",
        "states[2].code",
        "状态 'parked' 从初始状态不可达",
    ),
    (
        "dead-end-state",
        [
            ("    to: working\n    roles: [leader]", "    to: parked\n    roles: [leader]"),
            ("    deadline: resume\n", ""),
        ],
        "{code: parked",
        "states[2].code",
        "非终态 'parked' 没有出口流转",
    ),
]


@pytest.mark.parametrize(
    ("edits", "needle", "field", "fragment"),
    [c[1:] for c in SEMANTIC_CASES],
    ids=[c[0] for c in SEMANTIC_CASES],
)
def test_semantic_errors(edits, needle, field, fragment):
    assert_one_problem(broken(*edits), needle, field, fragment)


def test_a_loop_that_never_closes_is_reported_on_every_state_of_the_loop():
    # working → limbo ⇄ void: both have a way out, but no way leads to a closed state.
    text = broken(
        (
            "kind: closed}\n",
            "kind: closed}\n  - {code: limbo, name: 迷失, kind: open}\n"
            "  - {code: void, name: 虚空, kind: open}\n",
        ),
        (
            "  - code: urge\n",
            "  - {code: divert, name: 转入, from: [working], to: limbo, roles: [leader]}\n"
            "  - {code: ping, name: 来, from: [limbo], to: void, roles: [leader]}\n"
            "  - {code: pong, name: 回, from: [void], to: limbo, roles: [leader]}\n"
            "  - code: urge\n",
        ),
    )
    problems = problems_of(text)
    assert [(p.line, p.field) for p in problems] == [
        (line_with(text, "code: limbo"), "states[4].code"),
        (line_with(text, "code: void"), "states[5].code"),
    ]
    assert all("无法到达任何终态" in p.message for p in problems)


def test_unknown_key_next_to_a_missing_one_reports_both():
    text = broken(("    from: [reported]\n    to: working", "    fro: [reported]\n    to: working"))
    problems = problems_of(text)
    assert [(p.line, p.field) for p in problems] == [
        (line_with(text, "- code: accept"), "transitions[0].from"),
        (line_with(text, "fro:"), "transitions[0].fro"),
    ]
    assert problems[0].message == "缺少必填项"
    assert problems[1].message.startswith("未知的键 'fro'，是否应为 'from'？")


def test_several_problems_are_reported_together_in_file_order():
    text = broken(
        ("initial: reported", "initial: new"),
        ("    roles: [verifier]", "    roles: [checker]"),
        ("limit: 5 工作日}", "limit: 5 fortnights}"),
        ("    to: parked", "    to: parking"),
    )
    problems = problems_of(text)
    assert [(p.line, p.field) for p in problems] == [
        (line_with(text, "initial: new"), "intake.initial"),
        (line_with(text, "parking"), "transitions[2].to"),
        (line_with(text, "checker"), "transitions[4].roles[0]"),
        (line_with(text, "fortnights"), "time_limits[0].limit"),
    ]


def test_several_shape_problems_are_reported_together():
    text = broken(
        ("code: demo", "code: Demo"),
        ("kind: parked, clock", "kind: sleeping, clock"),
        ("    roles: [dispatcher]\n", "    roles: []\n"),
    )
    assert {p.field for p in problems_of(text)} == {"code", "states[2].kind", "transitions[0].roles"}


def test_several_yaml_problems_are_reported_together():
    text = broken(
        ("number_prefix: DM", "number_prefix: DM\nname: 重名"),
        ("    deadline: keep", "    deadline: keep\n    deadline: restart"),
    )
    assert [p.field for p in problems_of(text)] == ["name", "transitions[6].deadline"]


def test_problem_text_is_file_line_field_message():
    problem = assert_one_problem(
        broken(("    roles: [verifier]", "    roles: [checker]")),
        "checker",
        "transitions[4].roles[0]",
        "checker",
    )
    assert str(problem).startswith(f"{FILE}:{problem.line}: transitions[4].roles[0]: 未知的角色 'checker'")
    assert str(Problem("a.yaml", 3, "", "YAML 语法错误")) == "a.yaml:3: YAML 语法错误"


def test_an_error_without_a_chinese_message_keeps_pydantic_text_after_a_chinese_prefix():
    from taizhang.mechanisms.schema import MechanismDef
    from taizhang.mechanisms.validate import shape_message

    err = {"type": "url_parsing", "loc": ("name",), "msg": "Input should be a valid URL", "input": "x"}
    assert shape_message(err, MechanismDef) == "取值无效：Input should be a valid URL"


def test_field_name_of_a_path():
    assert field_name(("transitions", 3, "roles", 0)) == "transitions[3].roles[0]"
    assert (
        field_name(("mechanisms", "hazard", "time_limits", 2, "limit"))
        == "mechanisms.hazard.time_limits[2].limit"
    )
    assert field_name(()) == ""
