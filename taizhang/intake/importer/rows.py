"""One row of the input → the case `do_create_case` would make of it, or the reasons it cannot be one.

:class:`RowConverter` applies the mapping to a row and then the same rules as
``taizhang.cases.create.check_create_case`` (title, category, grade, channel, coordinates, form fields,
the reporter's intake role at the division) and ``insert_case`` (region, the first deadline through
the clock service), but without a query per row: divisions are loaded once and the reporter's role is
looked up once per division. A row with any problem yields a list of :class:`RowError` — each names
the source column, its value and the reason in Chinese — and no case; a row without problems yields a
:class:`Prepared` case that only lacks its number, its id and its history row (see ``run.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from taizhang.cases.create import intake_role, parse_coordinate
from taizhang.cases.models import Case
from taizhang.cases.recording import creation_changes
from taizhang.cases.schedule import apply_deadline
from taizhang.clock.calendar import ClockError
from taizhang.errors import FieldError
from taizhang.mechanisms.fieldvalues import clean_fields, missing_fields
from taizhang.org.models import Division, User
from taizhang.text import normalise_text

from .mapping import IMPORT_CHANNEL, Choice, Mapping, Text
from .readers import undecodable

EXTERNAL_ID_MAX = Case._meta.get_field("external_id").max_length
ADDRESS_MAX = Case._meta.get_field("address").max_length


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class Prepared:
    row: int
    external_id: str
    case: Case
    role: str
    changes: dict[str, list[Any]]


def memoised(look_up):
    """`look_up` memoised on its arguments; a call with a case's values (a `when` on them) is not
    memoisable and is computed each time."""
    cached = lru_cache(maxsize=4096)(look_up)

    def call(*args):
        try:
            hash(args)
        except TypeError:
            return look_up(*args)
        return cached(*args)

    return call


class MemoRules:
    """The mechanism, with its pure look-ups of time limits and supervision memoised for one run.

    ``limit_for`` and ``supervision_for`` depend only on their arguments (state, grade, category,
    channel, division path) and the loaded files, which do not change during an import; everything
    else is the mechanism itself. Passed to ``apply_deadline`` in its place.
    """

    def __init__(self, mech):
        self._mech = mech
        self.limit_for = memoised(mech.limit_for)
        self.supervision_for = memoised(mech.supervision_for)

    def __getattr__(self, name: str):
        return getattr(self._mech, name)


class Divisions:
    """Every division, loaded once: by code, by name, and each one's district (the region key)."""

    def __init__(self) -> None:
        self.by_code: dict[str, Division] = {d.code: d for d in Division.objects.all()}
        self.by_name: dict[str, list[Division]] = {}
        for d in self.by_code.values():
            self.by_name.setdefault(d.name, []).append(d)
        self._region: dict[str, str] = {}

    def region(self, division: Division) -> str:
        """What ``division.district().code`` returns, without its query."""
        code = self._region.get(division.code)
        if code is None:
            code = division.code
            if division.level not in (Division.Level.DISTRICT, Division.Level.CITY):
                districts = [
                    self.by_code[c]
                    for c in division.ancestor_codes()
                    if c in self.by_code and self.by_code[c].level == Division.Level.DISTRICT
                ]
                if districts:
                    code = max(districts, key=lambda d: d.depth).code
            self._region[division.code] = code
        return code


def cell_text(value: Any) -> str:
    """A cell as trimmed text: numbers from spreadsheets without a spurious .0, times in ISO form."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def truncated(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if limit > 1 else text[:limit]


class RowConverter:
    def __init__(
        self, mapping: Mapping, header: list[str], reporter: User, divisions: Divisions, now: datetime
    ):
        self.m = mapping
        self.mech = mapping.mech
        self.rules = MemoRules(mapping.mech)
        self.d = mapping.mech.definition
        self.reporter = reporter
        self.divisions = divisions
        self.now = now
        self.index = {name: i for i, name in reversed(list(enumerate(header)))}
        self.categories = {c.code for c in self.d.categories}
        self.grades = {g.code for g in self.d.grades}
        self.channels = {c.code for c in self.d.channels}
        self.required = [f.name for f in self.d.fields if f.required]
        self.roles: dict[str, tuple[str | None, Any]] = {}
        # Form-field and core errors name the source column of what they are about.
        self.source = {t.path: t.source for t in mapping.texts()}
        self.source.update({f"fields.{k}": t.source for k, t in mapping.fields.items()})

    # --- cells ------------------------------------------------------------------------------------

    def cell(self, row: list[Any], column: str) -> Any:
        i = self.index[column]
        return row[i] if i < len(row) else None

    def text(self, row: list[Any], spec: Text | None) -> str:
        if spec is None:
            return ""
        if spec.column is not None:
            value = cell_text(self.cell(row, spec.column))
        elif spec.template is not None:
            value = spec.template.format_map(
                {c: cell_text(self.cell(row, c)) for c in spec.columns()}
            ).strip()
        else:
            value = spec.value or ""
        # Normalised as every intake channel's text is (taizhang.text); cells with bytes the file's
        # encoding could not decode are refused before (convert), their escapes become U+FFFD here.
        return truncated(normalise_text(value or spec.default), spec.truncate)

    def choice(self, row: list[Any], spec: Choice | None, codes: set[str], label: str, errors: list) -> str:
        if spec is None:
            return ""
        if spec.value is not None:
            return spec.value
        raw = cell_text(self.cell(row, spec.column))
        if raw == "":
            return spec.default
        code = spec.values.get(raw)
        if code is None and raw in codes:
            code = raw
        if code is None and spec.others:
            code = spec.others
        if code is None:
            errors.append(
                (
                    spec.column,
                    raw,
                    f"{label}「{raw}」不在映射文件 {spec.path}.values 中，也不是机制的{label}编码（或设 {spec.path}.others）",
                )
            )
            return ""
        return code

    def created(self, row: list[Any], errors: list) -> datetime | None:
        spec = self.m.created
        raw = self.cell(row, spec.column)
        if isinstance(raw, datetime):
            at = raw
        else:
            text = cell_text(raw)
            if text == "":
                errors.append((spec.column, "", "时间为空"))
                return None
            at = None
            for fmt in spec.formats:
                try:
                    at = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            if at is None and not spec.formats:
                try:
                    at = datetime.fromisoformat(text)
                except ValueError:
                    pass
            if at is None:
                expected = "、".join(spec.formats) if spec.formats else "ISO 8601（如 2024-05-27 02:08:51）"
                errors.append((spec.column, text, f"无法识别的时间，应为 {expected}"))
                return None
        if at.tzinfo is None:
            at = at.replace(tzinfo=spec.tz)
        if at > self.now:
            errors.append((spec.column, cell_text(raw), "时间晚于当前时间"))
            return None
        return at

    def division(self, row: list[Any], errors: list) -> Division | None:
        spec = self.m.division
        raw = cell_text(self.cell(row, spec.column)) if spec.column else ""
        column = spec.column or "division.default"
        if raw == "":
            if not spec.default:
                errors.append((column, "", "所属区划为空，映射文件也没有 division.default"))
                return None
            code = spec.default
        else:
            code = spec.values.get(raw, raw)
        found = self.divisions.by_code.get(code)
        if found is None:
            named = self.divisions.by_name.get(code, [])
            if len(named) == 1:
                found = named[0]
            elif len(named) > 1:
                codes = "、".join(d.code for d in named)
                errors.append(
                    (column, raw, f"名称「{code}」对应多个区划（{codes}），请在 division.values 中指定编码")
                )
                return None
        if found is None:
            errors.append((column, raw, f"没有编码或名称为「{code}」的区划"))
        return found

    def role_at(self, division: Division) -> tuple[str | None, Any]:
        cached = self.roles.get(division.code)
        if cached is None:
            cached = self.roles[division.code] = intake_role(self.reporter, self.mech, division)
        return cached

    # --- the row ----------------------------------------------------------------------------------

    def external_id(self, row: list[Any]) -> str:
        return self.text(row, self.m.external_id)

    def convert(self, number: int, row: list[Any]) -> Prepared | list[RowError]:
        problems: list[tuple[str, str, str]] = []  # (column, value, reason)
        for column, i in self.index.items():
            value = row[i] if i < len(row) else None
            if isinstance(value, str):
                bad = undecodable(value)
                if bad:
                    enc = self.m.encoding.removesuffix("-sig")
                    problems.append((column, value, f"含无法按 {enc} 解码的字节 {bad}，请检查文件编码"))
        if problems:
            return [RowError(number, c, v, r) for c, v, r in problems]

        external_id = self.text(row, self.m.external_id)
        if not external_id:
            problems.append((self.m.external_id.source, "", "外部编号为空（导入据此去重，必须填写）"))
        elif len(external_id) > EXTERNAL_ID_MAX:
            problems.append(
                (self.m.external_id.source, external_id, f"外部编号不能超过 {EXTERNAL_ID_MAX} 个字符")
            )
        created = self.created(row, problems)
        division = self.division(row, problems)
        category = self.choice(row, self.m.category, self.categories, "类别", problems)
        grade = self.choice(row, self.m.grade, self.grades, "等级", problems)

        # The rules of check_create_case, in its order and with its messages.
        errors: list[FieldError] = []
        role = unit = None
        if division is not None:
            role, unit = self.role_at(division)
            if role is None:
                problems.append(
                    (
                        self.m.division.column or "division.default",
                        division.code,
                        f"导入账号 {self.reporter.username} 不能在{division.name}上报「{self.mech.name}」",
                    )
                )
        title = self.text(row, self.m.title)
        if not title:
            errors.append(FieldError("title", "required", "请填写标题"))
        elif len(title) > 200:
            errors.append(
                FieldError("title", "too_long", "标题不能超过 200 个字（可在映射文件中设 truncate）")
            )
        if category and category not in self.categories:
            errors.append(FieldError("category", "invalid_choice", f"无效的类别：{category}"))
        elif not category and not any(c == self.m.category.column for c, _, _ in problems):
            problems.append(
                (self.m.category.column or "category", "", "类别为空，映射文件也没有 category.default")
            )
        grade = grade or (self.d.grades[0].code if self.d.grades else "")
        if self.d.grades and grade not in self.grades:
            errors.append(FieldError("grade", "invalid_choice", f"无效的等级：{grade}"))
        channel = (self.d.intake.channel_by_role.get(role) if role else None) or IMPORT_CHANNEL
        if channel not in self.channels:
            errors.append(FieldError("channel", "invalid_choice", f"无效的渠道：{channel}"))
        lat = parse_coordinate(self.text(row, self.m.lat), "lat", 90, errors)
        lon = parse_coordinate(self.text(row, self.m.lon), "lon", 180, errors)
        if (lat is None) != (lon is None) and not any(e.field in ("lat", "lon") for e in errors):
            errors.append(FieldError("lat" if lat is None else "lon", "required", "经纬度须同时填写"))
        values = {name: self.text(row, spec) for name, spec in self.m.fields.items()}
        cleaned, field_errors = clean_fields(self.mech.fields, {k: v for k, v in values.items() if v != ""})
        errors += field_errors
        errors += missing_fields(self.mech.fields, cleaned, self.required)
        address = self.text(row, self.m.address)
        if len(address) > ADDRESS_MAX:
            errors.append(FieldError("address", "too_long", f"地址不能超过 {ADDRESS_MAX} 个字"))
        for e in errors:
            column = self.source.get(e.field, e.field)
            value = self.text(row, self._spec(e.field)) if self._spec(e.field) else ""
            problems.append((column, value, e.message))
        if problems or created is None or division is None or role is None:
            return [RowError(number, c, v, r) for c, v, r in problems]

        # What insert_case builds, with the row's own time as "now".
        case = Case(
            mechanism=self.mech.code,
            region=self.divisions.region(division),
            title=title.strip(),
            description=self.text(row, self.m.description).strip(),
            category=category,
            grade=grade,
            channel=channel,
            division=division,
            address=address.strip(),
            lat=lat,
            lon=lon,
            reporter=self.reporter,
            data=cleaned,
            unit=unit,
            external_id=external_id,
            created_at=created,
            updated_at=created,
            state_entered_at=created,
            version=0,
        )
        try:
            apply_deadline(self.rules, case, self.d.intake.initial, "restart", created)
        except ClockError as exc:
            return [
                RowError(
                    number,
                    self.m.created.column,
                    cell_text(self.cell(row, self.m.created.column)),
                    f"无法计算时限：{exc.message}",
                )
            ]
        changes = creation_changes(case, division.code)
        return Prepared(number, external_id, case, role, changes)

    def _spec(self, name: str) -> Text | None:
        if name.startswith("fields."):
            return self.m.fields.get(name.removeprefix("fields."))
        return getattr(self.m, name, None) if name in ("title", "address", "lat", "lon") else None
