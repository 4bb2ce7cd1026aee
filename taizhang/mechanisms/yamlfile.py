"""Read YAML into plain data while remembering the line of every key and item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import MechanismError, Problem, field_name

MERGE_TAG = "tag:yaml.org,2002:merge"
COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}

# The PyYAML problems authors meet most, explained in Chinese (the original text follows in brackets).
SYNTAX_HINTS = {
    "mapping values are not allowed here": "此处不能出现“键: 值”，请检查缩进，或给含冒号的值加引号",
    "found character '\\t' that cannot start any token": "不能用制表符（Tab）缩进，请改用空格",
    "found unexpected end of stream": "文件意外结束，可能有未闭合的引号或括号",
    "could not find expected ':'": "缺少冒号“:”",
    "found undefined alias": "引用了未定义的锚点（&名称）",
    "found duplicate anchor": "锚点（&名称）重复定义",
    "expected ',' or ']'": "方括号 [ ] 未闭合或缺少逗号",
    "expected ',' or '}'": "花括号 { } 未闭合或缺少逗号",
}


class LinedData:
    """Parsed YAML plus the line of each path in it."""

    def __init__(self, file: str, data: Any, lines: dict[tuple, int]):
        self.file = file
        self.data = data
        self.lines = lines

    def line_of(self, path: tuple) -> int:
        """The line of the deepest part of `path` that exists in the file."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: tuple, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), field_name(path), message)


def read_lined_yaml(path: Path, name: str | None = None) -> LinedData:
    """Parse a YAML file; unreadable files, syntax errors and duplicate keys become MechanismError.

    `name` is how problems name the file (default: the file name).
    """
    name = name or Path(path).name
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise MechanismError([Problem(name, 1, "", f"无法读取文件：{exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"文件不是 UTF-8 编码（第 {exc.start + 1} 字节 0x{raw[exc.start]:02x}：{exc.reason}），请以 UTF-8 保存"
        raise MechanismError([Problem(name, line, "", message)]) from None
    return parse_lined_yaml(text.removeprefix("\ufeff"), name)


def _syntax_message(problem: str | None, context: str | None) -> str:
    problem = (problem or "").strip()
    hint = next((text for key, text in SYNTAX_HINTS.items() if problem.startswith(key)), None)
    if hint is None and problem.startswith("expected <block end>"):
        hint = "缩进不一致"
    detail = f"{context}: {problem}" if context else problem
    return f"YAML 语法错误：{hint}（{detail}）" if hint else f"YAML 语法错误：{detail or '无法解析'}"


def parse_lined_yaml(text: str, name: str) -> LinedData:
    """Parse YAML text; every problem found while reading it is reported with its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "end of stream" in (exc.problem or "") and exc.context_mark:
            mark = exc.context_mark  # an unclosed quote or bracket: where it opened, not the end of the file
        line = mark.line + 1 if mark else 1
        raise MechanismError([Problem(name, line, "", _syntax_message(exc.problem, exc.context))]) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        message = f"YAML 语法错误：文件含不允许的控制字符 #x{exc.character:04x}"
        raise MechanismError([Problem(name, line, "", message)]) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error above is marked or a ReaderError
        raise MechanismError([Problem(name, 1, "", f"YAML 语法错误：{exc}")]) from None

    lines: dict[tuple, int] = {}
    problems: list[Problem] = []
    constructor = yaml.SafeLoader("")
    active: set[int] = set()  # nodes being built, to catch an alias that contains itself

    def fail(node: yaml.Node, path: tuple, message: str) -> None:
        problems.append(Problem(name, node.start_mark.line + 1, field_name(path), message))

    def scalar(node: yaml.Node, path: tuple) -> Any:
        try:
            return constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            if "could not determine a constructor" in (exc.problem or ""):
                fail(node, path, f"不支持的 YAML 标签 '{node.tag}'")
            else:
                fail(node, path, f"无法识别的值：{exc.problem}")
        except ValueError as exc:  # e.g. 2026-13-01 looks like a date but is not one
            fail(node, path, f"无法识别的值 '{node.value}'：{exc}")
        return None

    def key_of(key_node: yaml.Node, path: tuple) -> str | None:
        # Keys keep the text as written: `on:` or `1:` are the keys "on" and "1", not True and 1.
        if isinstance(key_node, yaml.ScalarNode):
            return str(key_node.value)
        fail(key_node, path, "键必须是简单的文字，不能是列表或映射")
        return None

    def merged_pairs(node: yaml.MappingNode, path: tuple) -> tuple[list, list]:
        """(pairs from `<<: *anchor` merges, the mapping's own pairs)."""
        merged, own = [], []
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                own.append((key_node, value_node))
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in reversed(sources):  # the first source listed wins, as in YAML's merge rule
                if not isinstance(source, yaml.MappingNode):
                    fail(source, path, "合并键 << 只能引用映射")
                    continue
                sub_merged, sub_own = merged_pairs(source, path)
                merged.extend(sub_merged + sub_own)
        return merged, own

    def build(node: yaml.Node, path: tuple) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in active:
            fail(node, path, "别名（*）引用了包含它自身的内容")
            return None
        if not isinstance(node, yaml.ScalarNode) and node.tag not in COLLECTION_TAGS:
            fail(node, path, f"不支持的 YAML 标签 '{node.tag}'")
            return None
        if isinstance(node, yaml.MappingNode):
            active.add(id(node))
            out: dict[Any, Any] = {}
            merged, own = merged_pairs(node, path)
            for key_node, value_node in merged:
                key = key_of(key_node, path)
                if key is not None:
                    lines[(*path, key)] = key_node.start_mark.line + 1
                    out[key] = build(value_node, (*path, key))
            seen: set[str] = set()
            for key_node, value_node in own:
                key = key_of(key_node, path)
                if key is None:
                    continue
                if key in seen:
                    fail(key_node, (*path, key), "重复的键")
                seen.add(key)
                lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = build(value_node, (*path, key))
            active.discard(id(node))
            return out
        if isinstance(node, yaml.SequenceNode):
            active.add(id(node))
            items = [build(item, (*path, i)) for i, item in enumerate(node.value)]
            active.discard(id(node))
            return items
        return scalar(node, path)

    data = build(root, ()) if root is not None else None
    if problems:
        raise MechanismError(problems)
    return LinedData(name, data, lines)
