"""Read YAML into plain data while remembering the line of every key and item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import MechanismError, Problem


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
        from .errors import field_name

        return Problem(self.file, self.line_of(path), field_name(path), message)


def read_lined_yaml(path: Path) -> LinedData:
    """Parse a YAML file; syntax errors and duplicate keys become MechanismError with a line."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MechanismError([Problem(name, 1, "", f"文件不是 UTF-8 编码：{exc.reason}")]) from None
    except OSError as exc:
        raise MechanismError([Problem(name, 1, "", f"无法读取文件：{exc.strerror}")]) from None
    return parse_lined_yaml(text, name)


def parse_lined_yaml(text: str, name: str) -> LinedData:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise MechanismError([Problem(name, line, "", f"YAML 语法错误：{exc.problem or exc}")]) from None
    lines: dict[tuple, int] = {}
    problems: list[Problem] = []
    constructor = yaml.SafeLoader("")

    def build(node: yaml.Node, path: tuple) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if key in out:
                    problems.append(Problem(name, key_node.start_mark.line + 1, str(key), "重复的键"))
                lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, i)) for i, item in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    data = build(root, ()) if root is not None else None
    if problems:
        raise MechanismError(problems)
    return LinedData(name, data, lines)
