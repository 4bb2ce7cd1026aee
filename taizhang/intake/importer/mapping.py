"""The mapping file of `taizhang import`: which column of another system's export becomes what.

A mapping is a YAML file (examples in ``mechanisms/imports/``). It is read with the same lined reader
as mechanism files, and every problem names the file, the line and the field
(``hotline.yaml:12: category.values.投诉: 机制 demand 没有类别 complain``)::

    mechanism: demand            # the mechanism the records become cases of (its channel `import`)
    reporter: shouli_lzq         # the account the import acts as: it needs an intake role there
    format:                      # optional
      encoding: utf-8            # CSV only: utf-8 (default; a BOM is ignored), gb18030, gbk, big5 …
      delimiter: ","             # CSV only
      sheet: 工单                # XLSX only: the sheet (default: the first)
    external_id: 工单编号        # required: the record's id in the other system (idempotency key)
    created:                     # required: when the record was made; becomes the case's created time
      column: 来电时间
      format: ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]   # strptime formats; default ISO 8601
      timezone: Asia/Shanghai    # for times without an offset (default: the platform's TIME_ZONE)
    division:                    # where the case is: a column holding a division code or name …
      column: 所属街道
      values: {五马: WMJD}       # … optionally looked up here first (source value → division code)
      default: LZQ               # for an empty cell (optional; otherwise an empty cell is an error)
    category:                    # a column whose values map to category codes, or `value: CODE`
      column: 诉求类型
      values: {咨询: consult, 投诉: complaint}
      default: complaint         # for an empty cell
      others: complaint          # for any other value (without it, a value not listed is an error)
    grade: {column: 紧急程度, values: {一般: general, 紧急: emergency}}   # optional
    title: {column: 诉求内容, truncate: 40}   # a text: a column name, or {column | template | value}
    description: 诉求内容
    address: 地址
    lat: latitude                # optional, both or neither
    lon: longitude
    fields:                      # the mechanism's form fields, each a text like title (not a
                                 # `reference` field: refused, see below)
      caller_name: 来电人
      caller_phone: 联系电话

A *text* is a column name, or a mapping with exactly one of ``column``, ``template`` (Python
``str.format`` with column names as fields: ``"{complaint_type}：{descriptor}"``) or ``value`` (a
constant), plus optional ``truncate: N`` (cut to N characters, ending in …) and ``default`` (for an
empty result). Values of ``values`` tables match after trimming spaces; a cell equal to a code of
the mechanism is accepted as that code even when the table does not list it.

A mechanism's `reference` fields (a register item, taizhang.registers) cannot be mapped: the import
writes cases in bulk, without the check that the reporter may see the item or the row that lists the
case on the item; such a mapping is refused when it is loaded.

What can be checked without the input file (keys, codes against the mechanism, time zones,
encodings) is checked by :func:`load_mapping`; the columns are checked against the file's header when
the import starts, and the division codes and the reporter against the database.
"""

from __future__ import annotations

import codecs
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from taizhang.mechanisms.errors import MechanismError, Problem
from taizhang.mechanisms.registry import Mechanism, get_registry
from taizhang.mechanisms.yamlfile import LinedData, read_lined_yaml

IMPORT_CHANNEL = "import"
TOP_KEYS = {
    "mechanism",
    "reporter",
    "format",
    "external_id",
    "created",
    "division",
    "category",
    "grade",
    "title",
    "description",
    "address",
    "lat",
    "lon",
    "fields",
}
TEXT_KEYS = {"column", "template", "value", "truncate", "default"}
CHOICE_KEYS = {"column", "values", "default", "others", "value"}


class MappingError(MechanismError):
    """Problems in a mapping file (or with it against an input file); str() lists them with lines."""


@dataclass(frozen=True)
class Text:
    """How one text of a case is made from a row."""

    path: str  # the mapping key, e.g. "title" or "fields.caller_name"
    line: int
    column: str | None = None
    template: str | None = None
    value: str | None = None
    truncate: int | None = None
    default: str = ""

    def columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        if self.template is not None:
            return [name for _, name, _, _ in string.Formatter().parse(self.template) if name]
        return []

    @property
    def source(self) -> str:
        """What the error file names as the column of a problem with this text."""
        return self.column or self.template or self.path


@dataclass(frozen=True)
class Choice:
    """A category or grade: a column looked up in `values`, or a constant."""

    path: str
    line: int
    column: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    default: str = ""
    others: str = ""
    value: str | None = None


@dataclass(frozen=True)
class Created:
    line: int
    column: str
    formats: tuple[str, ...]
    tz: ZoneInfo


@dataclass(frozen=True)
class DivisionSpec:
    line: int
    column: str | None
    values: dict[str, str]
    default: str
    lines: dict[str, int]  # line of each code named in values/default, for database checks


@dataclass(frozen=True)
class Mapping:
    file: str
    mech: Mechanism
    reporter: str
    reporter_line: int
    encoding: str
    delimiter: str
    sheet: str | None
    external_id: Text
    created: Created
    division: DivisionSpec
    category: Choice
    grade: Choice | None
    title: Text
    description: Text | None
    address: Text | None
    lat: Text | None
    lon: Text | None
    fields: dict[str, Text]
    lined: LinedData = field(repr=False, compare=False, default=None)

    def texts(self) -> list[Text]:
        optional = [self.description, self.address, self.lat, self.lon]
        return [self.external_id, self.title, *[t for t in optional if t], *self.fields.values()]

    def columns(self) -> list[tuple[str, str, int]]:
        """Every column the mapping reads: (column, mapping key, line of the key)."""
        out = []
        for t in self.texts():
            path = tuple(t.path.split("."))
            key = (*path, "template" if t.template is not None else "column")
            for c in t.columns():
                out.append((c, t.path, self.lined.line_of(key)))
        specs = [("created", self.created), ("division", self.division), ("category", self.category)]
        specs.append(("grade", self.grade))
        for name, spec in specs:
            if spec is not None and spec.column:
                out.append((spec.column, f"{name}.column", self.lined.line_of((name, "column"))))
        return out


def load_mapping(path: Path | str) -> Mapping:
    """Read and check a mapping file; raises MappingError listing every problem found."""
    path = Path(path)
    try:
        lined = read_lined_yaml(path)
    except MechanismError as exc:
        raise MappingError(exc.problems) from None
    return MappingReader(lined).read()


class MappingReader:
    def __init__(self, lined: LinedData):
        self.lined = lined
        self.problems: list[Problem] = []

    def fail(self, path: tuple, message: str) -> None:
        self.problems.append(self.lined.problem(path, message))

    def line(self, path: tuple) -> int:
        return self.lined.line_of(path)

    def read(self) -> Mapping:
        data = self.lined.data
        if not isinstance(data, dict):
            raise MappingError([self.lined.problem((), "映射文件应为一个映射（键: 值）")])
        for key in data:
            if key not in TOP_KEYS:
                self.fail((key,), f"未知的键（可用：{'、'.join(sorted(TOP_KEYS))}）")
        for key in ("mechanism", "reporter", "external_id", "created", "division", "category", "title"):
            if data.get(key) in (None, ""):
                self.fail((key,) if key in data else (), f"缺少必填项 {key}")
        mech = self.mechanism(data.get("mechanism"))
        reporter = data.get("reporter")
        if reporter not in (None, "") and not isinstance(reporter, str):
            self.fail(("reporter",), "应为用户名")
        fmt = self.format(data.get("format"))
        external_id = self.text(("external_id",), data.get("external_id"))
        created = self.created(data.get("created"))
        division = self.division(data.get("division"))
        category = self.choice(("category",), data.get("category"), mech, "categories", required=True)
        grade = self.choice(("grade",), data.get("grade"), mech, "grades", required=False)
        texts = {k: self.text((k,), data.get(k)) for k in ("title", "description", "address", "lat", "lon")}
        if (data.get("lat") is None) != (data.get("lon") is None):
            self.fail(("lat" if data.get("lat") is None else "lon",), "lat 与 lon 须同时映射")
        fields = self.fields(data.get("fields"), mech)
        if self.problems:
            raise MappingError(self.problems)
        assert mech and created and division and category and external_id and texts["title"]
        return Mapping(
            file=self.lined.file,
            mech=mech,
            reporter=reporter,
            reporter_line=self.line(("reporter",)),
            encoding=fmt["encoding"],
            delimiter=fmt["delimiter"],
            sheet=fmt["sheet"],
            external_id=external_id,
            created=created,
            division=division,
            category=category,
            grade=grade,
            title=texts["title"],
            description=texts["description"],
            address=texts["address"],
            lat=texts["lat"],
            lon=texts["lon"],
            fields=fields,
            lined=self.lined,
        )

    # --- parts ------------------------------------------------------------------------------------

    def mechanism(self, code: Any) -> Mechanism | None:
        if code in (None, ""):
            return None
        mech = get_registry().mechanisms.get(str(code))
        if mech is None:
            known = "、".join(sorted(get_registry().mechanisms))
            self.fail(("mechanism",), f"没有编码为 {code} 的机制（已有：{known}）")
            return None
        d = mech.definition
        if IMPORT_CHANNEL not in {c.code for c in d.channels}:
            self.fail(("mechanism",), f"机制 {code} 没有渠道 {IMPORT_CHANNEL}（批量导入），不能导入")
        if d.intake.photos:
            self.fail(("mechanism",), f"机制 {code} 上报须附照片，批量导入无法提供")
        return mech

    def format(self, raw: Any) -> dict[str, Any]:
        out = {"encoding": "utf-8", "delimiter": ",", "sheet": None}
        if raw is None:
            return out
        if not isinstance(raw, dict):
            self.fail(("format",), "应为映射（encoding、delimiter、sheet）")
            return out
        for key, value in raw.items():
            where = ("format", key)
            if key not in out:
                self.fail(where, "未知的键（可用：encoding、delimiter、sheet）")
            elif not isinstance(value, str) or not value:
                self.fail(where, "应为非空文字")
            elif key == "encoding":
                try:
                    codecs.lookup(value)
                except LookupError:
                    self.fail(where, f"未知的编码 {value}（常用：utf-8、gb18030、gbk）")
                    continue
                out[key] = "utf-8-sig" if codecs.lookup(value).name == "utf-8" else value
            elif key == "delimiter" and len(value) != 1:
                self.fail(where, "分隔符应为一个字符")
            else:
                out[key] = value
        return out

    def text(self, path: tuple, raw: Any) -> Text | None:
        if raw is None:
            return None
        line = self.line(path)
        name = ".".join(str(p) for p in path)
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            if str(raw) == "":
                self.fail(path, "列名不能为空")
                return None
            return Text(name, line, column=str(raw))
        if not isinstance(raw, dict):
            self.fail(path, "应为列名，或含 column / template / value 之一的映射")
            return None
        for key in raw:
            if key not in TEXT_KEYS:
                self.fail((*path, key), f"未知的键（可用：{'、'.join(sorted(TEXT_KEYS))}）")
        sources = [k for k in ("column", "template", "value") if k in raw]
        if len(sources) != 1:
            self.fail(path, "column、template、value 须有且只有一个")
            return None
        for key in ("column", "template", "value", "default"):
            if key in raw and not isinstance(raw[key], str | int | float):
                self.fail((*path, key), "应为文字")
                return None
        truncate = raw.get("truncate")
        if truncate is not None and (
            isinstance(truncate, bool) or not isinstance(truncate, int) or truncate < 1
        ):
            self.fail((*path, "truncate"), "应为正整数")
            truncate = None
        template = raw.get("template")
        if template is not None:
            try:
                list(string.Formatter().parse(str(template)))
            except ValueError as exc:
                self.fail((*path, "template"), f"模板无法解析：{exc}")
                return None
        return Text(
            name,
            line,
            column=str(raw["column"]) if "column" in raw else None,
            template=str(template) if template is not None else None,
            value=str(raw["value"]) if "value" in raw else None,
            truncate=truncate,
            default=str(raw.get("default") or ""),
        )

    def created(self, raw: Any) -> Created | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            raw = {"column": raw}
        if not isinstance(raw, dict):
            self.fail(("created",), "应为列名，或含 column、format、timezone 的映射")
            return None
        for key in raw:
            if key not in ("column", "format", "timezone"):
                self.fail(("created", key), "未知的键（可用：column、format、timezone）")
        column = raw.get("column")
        if not isinstance(column, str) or not column:
            self.fail(("created", "column") if "column" in raw else ("created",), "缺少时间所在的列 column")
        formats = raw.get("format") or []
        if isinstance(formats, str):
            formats = [formats]
        if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f for f in formats):
            self.fail(("created", "format"), "应为 strptime 格式（如 %Y-%m-%d %H:%M:%S）或其列表")
            formats = []
        tz_name = raw.get("timezone") or settings.TIME_ZONE
        try:
            tz = ZoneInfo(str(tz_name))
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(("created", "timezone"), f"未知的时区 {tz_name}（如 Asia/Shanghai）")
            tz = ZoneInfo(settings.TIME_ZONE)
        if not isinstance(column, str) or not column:
            return None
        return Created(self.line(("created",)), column, tuple(formats), tz)

    def division(self, raw: Any) -> DivisionSpec | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            raw = {"column": raw}
        if not isinstance(raw, dict):
            self.fail(("division",), "应为列名，或含 column、values、default 的映射")
            return None
        for key in raw:
            if key not in ("column", "values", "default"):
                self.fail(("division", key), "未知的键（可用：column、values、default）")
        column = raw.get("column")
        default = raw.get("default")
        if column is None and default in (None, ""):
            self.fail(("division",), "须给出 column（区划编码或名称所在的列）或 default（统一的区划编码）")
        values, lines = self.table(("division", "values"), raw.get("values"))
        if default not in (None, ""):
            lines.setdefault(str(default), self.line(("division", "default")))
        return DivisionSpec(
            self.line(("division",)),
            str(column) if column is not None else None,
            values,
            str(default or ""),
            lines,
        )

    def table(self, path: tuple, raw: Any) -> tuple[dict[str, str], dict[str, int]]:
        """A values table: {source value: code}, and the line of each code."""
        if raw is None:
            return {}, {}
        if not isinstance(raw, dict):
            self.fail(path, "应为映射（源值: 编码）")
            return {}, {}
        values, lines = {}, {}
        for source, code in raw.items():
            if not isinstance(code, str | int) or isinstance(code, bool) or code == "":
                self.fail((*path, source), "应为编码")
                continue
            values[str(source).strip()] = str(code)
            lines.setdefault(str(code), self.line((*path, source)))
        return values, lines

    def choice(
        self, path: tuple, raw: Any, mech: Mechanism | None, kind: str, required: bool
    ) -> Choice | None:
        if raw is None:
            return None
        name = path[0]
        if isinstance(raw, str):
            raw = {"column": raw}
        if not isinstance(raw, dict):
            self.fail(path, "应为列名，或含 column、values、default（或 value）的映射")
            return None
        for key in raw:
            if key not in CHOICE_KEYS:
                self.fail((*path, key), f"未知的键（可用：{'、'.join(sorted(CHOICE_KEYS))}）")
        if ("column" in raw) == ("value" in raw):
            self.fail(path, "column（取值所在的列）与 value（统一的编码）须有且只有一个")
            return None
        values, _ = self.table((*path, "values"), raw.get("values"))
        codes = {c.code for c in getattr(mech.definition, kind)} if mech else None
        label = {"categories": "类别", "grades": "等级"}[kind]
        if codes is not None:
            for source, code in values.items():
                if code not in codes:
                    self.fail(
                        (*path, "values", source),
                        f"机制 {mech.code} 没有{label} {code}（可用：{'、'.join(sorted(codes))}）",
                    )
            for key in ("value", "default", "others"):
                code = raw.get(key)
                if code not in (None, "") and str(code) not in codes:
                    self.fail(
                        (*path, key),
                        f"机制 {mech.code} 没有{label} {code}（可用：{'、'.join(sorted(codes))}）",
                    )
        return Choice(
            name,
            self.line(path),
            column=str(raw["column"]) if "column" in raw else None,
            values=values,
            default=str(raw.get("default") or ""),
            others=str(raw.get("others") or ""),
            value=str(raw["value"]) if "value" in raw else None,
        )

    def fields(self, raw: Any, mech: Mechanism | None) -> dict[str, Text]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.fail(("fields",), "应为映射（字段名: 列）")
            return {}
        out = {}
        for name, spec in raw.items():
            if mech is not None and name not in mech.fields:
                known = "、".join(mech.fields) or "（无）"
                self.fail(("fields", name), f"机制 {mech.code} 没有字段 {name}（可用：{known}）")
                continue
            if mech is not None and mech.fields[name].type == "reference":
                # A reference names a register item its reporter may see and is recorded on the item
                # (taizhang.registers.references); the import writes cases in bulk and does neither.
                register = mech.fields[name].register_
                self.fail(
                    ("fields", name),
                    f"字段 {name} 引用台账 {register} 的条目：导入不能填写台账引用，请删去此项（导入后在案件中填写）",
                )
                continue
            text = self.text(("fields", name), spec)
            if text is not None:
                out[name] = text
        return out
