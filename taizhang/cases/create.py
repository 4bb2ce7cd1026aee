"""Creating a case: check_create_case validates and authorises, do_create_case writes it once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from taizhang.clock.calendar import ClockError
from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError, FieldError, conflict, forbidden, invalid, refuse_nul
from taizhang.mechanisms.fieldvalues import clean_fields, missing_fields
from taizhang.mechanisms.registry import Mechanism, get_registry
from taizhang.org.models import Division, Unit, User
from taizhang.org.scopes import grants_of, roles_over, self_only
from taizhang.registers.references import reference_errors
from taizhang.text import normalise_data, normalise_text

from .attachments import usable_attachments
from .fetch import division_chain
from .idempotency import expired
from .models import Attachment, Case, CaseSequence, IdempotencyKey
from .parties import add_initial_parties
from .recording import Recorder, creation_changes
from .rules import derived_data
from .schedule import apply_deadline


@dataclass
class CaseInput:
    mechanism: str
    title: str
    division: str
    category: str
    description: str = ""
    grade: str = ""
    channel: str = ""
    address: str = ""
    lat: Any = None
    lon: Any = None
    fields: dict[str, Any] = field(default_factory=dict)
    attachments: list[int] = field(default_factory=list)
    external_id: str = ""
    # What a channel keeps with the case besides form fields (Open311's media_url, device_id …).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CreatePlan:
    mech: Mechanism
    division: Division
    role: str
    channel: str
    grade: str
    data: dict[str, Any]
    lat: Decimal | None
    lon: Decimal | None
    attachments: list[Attachment]
    unit: Unit | None = None
    chain: list[Division] | None = None  # the division and those above it


def intake_role(user: User, mech: Mechanism, division: Division) -> tuple[str | None, Unit | None]:
    """The role in which a person may report at this division, and the unit the report belongs to.

    Division roles report in their subtree; residents anywhere; a unit role (企业安全员) reports where
    its unit is, and such a self-check report is the unit's own case from the start.
    """
    allowed = mech.definition.intake.roles
    held: dict[str, Unit | None] = dict.fromkeys(roles_over(user, division, None, None))
    for g in grants_of(user):
        if self_only(g.role):
            held.setdefault(g.role, None)
        elif g.unit is not None and g.unit.division.contains(division):
            held.setdefault(g.role, g.unit)
    role = next((r for r in allowed if r in held), None)
    return role, held.get(role) if role else None


def parse_coordinate(value: Any, name: str, bound: int, errors: list[FieldError]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        errors.append(FieldError(name, "invalid", "坐标应为数字"))
        return None
    if not -bound <= number <= bound:
        errors.append(FieldError(name, "out_of_range", f"坐标超出范围（±{bound}）"))
        return None
    return number


def normalised_input(data: CaseInput) -> CaseInput:
    """The input with its free text normalised (`taizhang.text`): what every intake channel stores."""
    return replace(
        data,
        title=normalise_text(data.title or ""),
        description=normalise_text(data.description or ""),
        address=normalise_text(data.address or ""),
        external_id=normalise_text(data.external_id or ""),
        fields=normalise_data(data.fields or {}),
        extra=normalise_data(data.extra or {}),
    )


def check_create_case(user: User, data: CaseInput) -> CreatePlan:
    """Validate a new case and the reporter's right to file it; raises ActionError."""
    data = normalised_input(data)
    mech = get_registry().mechanisms.get(data.mechanism)
    if mech is None:
        raise invalid([FieldError("mechanism", "unknown_mechanism", f"没有编码为 {data.mechanism} 的机制")])
    division, chain = division_chain(user, data.division)
    if division is None:
        raise invalid([FieldError("division", "unknown_division", f"没有编码为 {data.division} 的区划")])
    role, unit = intake_role(user, mech, division)
    if role is None:
        raise forbidden("role_not_allowed", f"您不能在{division.name}上报「{mech.name}」")
    d = mech.definition
    errors: list[FieldError] = []
    title = (data.title or "").strip()
    if not title:
        errors.append(FieldError("title", "required", "请填写标题"))
    elif len(title) > 200:
        errors.append(FieldError("title", "too_long", "标题不能超过 200 个字"))
    address_max = Case._meta.get_field("address").max_length
    if len((data.address or "").strip()) > address_max:
        errors.append(FieldError("address", "too_long", f"地址不能超过 {address_max} 个字"))
    if data.category not in {c.code for c in d.categories}:
        errors.append(FieldError("category", "invalid_choice", f"无效的类别：{data.category}"))
    grade = data.grade or (d.grades[0].code if d.grades else "")
    if d.grades and grade not in {g.code for g in d.grades}:
        errors.append(FieldError("grade", "invalid_choice", f"无效的等级：{data.grade}"))
    channel = d.intake.channel_by_role.get(role) or data.channel
    if channel not in {c.code for c in d.channels}:
        errors.append(FieldError("channel", "invalid_choice", f"无效的渠道：{data.channel or '（未填）'}"))
    lat = parse_coordinate(data.lat, "lat", 90, errors)
    lon = parse_coordinate(data.lon, "lon", 180, errors)
    if (lat is None) != (lon is None) and not any(e.field in ("lat", "lon") for e in errors):
        errors.append(FieldError("lat" if lat is None else "lon", "required", "经纬度须同时填写"))
    cleaned, field_errors = clean_fields(mech.fields, data.fields or {})
    errors += field_errors
    errors += reference_errors(user, mech.fields, cleaned)  # a register item the person may see
    errors += missing_fields(mech.fields, cleaned, [f.name for f in d.fields if f.required])
    files, file_errors = usable_attachments(user, None, data.attachments)
    errors += file_errors
    errors += intake_photo_errors(mech, division, channel, files, data.extra)
    if errors:
        raise invalid(errors)
    taken = Case.objects.filter(mechanism=mech.code, external_id=data.external_id).exclude(external_id="")
    if data.external_id and taken.exists():  # the exclude lets the planner use the partial unique index
        raise conflict("duplicate_external_id", f"外部编号 {data.external_id} 已有对应案件")
    # Computed fields and band tables (a risk assessment at intake grades the report by its table).
    values, band_grade = derived_data(mech, {**cleaned, **data.extra}, division.path, None)
    grade = band_grade or grade
    return CreatePlan(mech, division, role, channel, grade, values, lat, lon, files, unit, chain)


def intake_photo_errors(
    mech: Mechanism, division: Division, channel: str, files: list[Attachment], extra: dict[str, Any]
) -> list[FieldError]:
    """The "before" photos a report must carry: the mechanism's `intake.photos`, or its rule pack's for the
    division and channel. An outside system's photo link (Open311 `media_url`) counts as one: the photo
    is held there and the case keeps the link."""
    need = mech.intake_photos(channel, division.path)
    have = sum(a.content_type.startswith("image/") for a in files) + bool((extra or {}).get("media_url"))
    if need and have < need:
        return [FieldError("attachments", "photos_required", f"上报须附至少 {need} 张现场照片")]
    return []


def next_number(mech: Mechanism, year: int) -> tuple[str, int | None]:
    """YH-2026-000123: a per-mechanism, per-year sequence, safe under concurrent creation; with the new
    case's id on PostgreSQL, taken from the table's sequence in the same statement (None on SQLite)."""
    code = mech.code
    bumped = bump_sequence(code, year)
    if bumped is None:
        try:
            with transaction.atomic():
                CaseSequence.objects.create(mechanism=code, year=year, last=0)
        except IntegrityError:
            pass  # created by a concurrent report: bump it
        bumped = bump_sequence(code, year)
    last, case_id = bumped
    return f"{mech.definition.number_prefix}-{year}-{last:06d}", case_id


def bump_sequence(mechanism: str, year: int) -> tuple[int, int | None] | None:
    """The next number of the year's sequence in one statement (`UPDATE … RETURNING`, PostgreSQL and
    SQLite ≥ 3.35 alike: the ORM's update returns only a row count); None when the year has none yet."""
    table = connection.ops.quote_name(CaseSequence._meta.db_table)
    next_id = ""
    if connection.vendor == "postgresql":
        next_id = f", nextval(pg_get_serial_sequence('{Case._meta.db_table}', 'id'))"
    with connection.cursor() as cur:
        cur.execute(
            f'UPDATE {table} SET "last" = "last" + 1 WHERE "mechanism" = %s AND "year" = %s RETURNING "last"{next_id}',
            [mechanism, year],
        )
        row = cur.fetchone()
    if row is None:
        return None
    return row[0], (row[1] if len(row) > 1 else None)


def request_fingerprint(data: CaseInput) -> str:
    blob = json.dumps(asdict(data), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def do_create_case(
    user: User, data: CaseInput, idempotency_key: str | None = None, now=None
) -> tuple[Case, bool]:
    """Create a case with its first history row; returns (case, created).

    With an idempotency key, a retry of the same request returns the case the first one created,
    even when both arrive at once; the same key with a different request is refused. A key lasts
    `TAIZHANG_IDEMPOTENCY_HOURS` (`taizhang.cases.idempotency`); after that it files a new case.
    """
    key = (idempotency_key or "").strip()
    if len(key) > 100:
        raise invalid([FieldError("Idempotency-Key", "too_long", "Idempotency-Key 不能超过 100 个字符")])
    # Identifiers are refused, not cleaned, before anything is looked up or written (PostgreSQL cannot
    # compare NUL); free text is normalised.
    refuse_nul(**{"Idempotency-Key": key, "division": data.division, "external_id": data.external_id})
    data = normalised_input(data)
    fingerprint = request_fingerprint(data)
    if key:
        existing = replay(user, key, fingerprint)
        if existing:
            return existing, False
    plan = check_create_case(user, data)
    # Automatic dispatch (insight builds on cases: import late): the topic suggestion is part of the
    # new case; above the locality's threshold the system dispatches it in the same transaction.
    from taizhang.insight.classify.intake import after_create, prefill

    prefill(plan, data.title, data.description)
    try:
        with transaction.atomic():
            case = insert_case(user, data, plan, now or clock_now())
            after_create(case)
            if key:
                # When the key was used (not the case's time, which a caller may set): its window starts.
                IdempotencyKey.objects.create(
                    user=user, key=key, request_hash=fingerprint, case=case, created_at=clock_now()
                )
    except IntegrityError:
        existing = replay(user, key, fingerprint) if key else None
        if existing:
            return existing, False
        if data.external_id:  # the same external record filed by two requests at once
            raise conflict("duplicate_external_id", f"外部编号 {data.external_id} 已有对应案件") from None
        raise
    return case, True


def replay(user: User, key: str, fingerprint: str) -> Case | None:
    """The case an earlier request with this key created within the window; 409 for another request.

    An expired row is deleted here (one query only when there is one): the key files a new case.
    """
    row = IdempotencyKey.objects.filter(user=user, key=key).select_related("case").first()
    if row is None:
        return None
    if expired(row):
        row.delete()
        return None
    if row.request_hash != fingerprint:
        raise conflict("idempotency_key_reused", "该 Idempotency-Key 已用于另一个不同的请求")
    return row.case


def insert_case(user: User, data: CaseInput, plan: CreatePlan, now) -> Case:
    """The case row, its parties and its first history row. On PostgreSQL the id comes with the number
    and all three are one statement (`writes.Batch`); on SQLite the row is inserted first for its id."""
    mech = plan.mech
    # The division's ancestors, once: its district is the case's region, a level of it may supervise.
    chain = plan.chain if plan.chain is not None else ancestors(plan.division)
    number, case_id = next_number(mech, timezone.localtime(now).year)
    case = Case(
        id=case_id,
        mechanism=mech.code,
        number=number,
        region=plan.division.district(chain).code,
        title=data.title.strip(),
        description=(data.description or "").strip(),
        category=data.category,
        grade=plan.grade,
        channel=plan.channel,
        division=plan.division,
        address=(data.address or "").strip(),
        lat=plan.lat,
        lon=plan.lon,
        reporter=user,
        data=plan.data,
        unit=plan.unit,
        external_id=data.external_id or "",
        created_at=now,
        updated_at=now,
        state_entered_at=now,
        version=0,
    )
    try:
        apply_deadline(mech, case, mech.definition.intake.initial, "restart", now)
    except ClockError as exc:
        raise ActionError(exc.code, exc.message, 422) from None
    saved = save_for_id(case)
    add_initial_parties(case, mech, now, chain)
    recorder = Recorder(case)
    changes = creation_changes(case, plan.division.code)
    recorder.add(
        kind="create",
        code="create",
        name="上报",
        actor=user,
        role=plan.role,
        from_state="",
        to_state=case.state,
        at=now,
        opinion=case.description,
        changes=changes,
        attachments=plan.attachments,
    )
    write_new(recorder, saved)
    return case


def save_for_id(case: Case) -> bool:
    """A new case's id: taken with its number on PostgreSQL (`next_number`); on SQLite the row is inserted
    now for it. Returns whether the row was saved here."""
    if case.pk is not None:
        return False
    case.save()
    return True


def write_new(recorder: Recorder, saved: bool) -> None:
    """Write a new case's row (unless `saved`), parties and first history rows; then tell what `save()`
    would have told (the similar-case index, hot spots)."""
    recorder.insert_new(saved=saved)
    if not saved:
        case = recorder.case
        post_save.send(
            Case, instance=case, created=True, update_fields=None, raw=False, using=connection.alias
        )


def ancestors(division: Division) -> list[Division]:
    """The division and the divisions above it (one query)."""
    return list(Division.objects.filter(code__in=division.ancestor_codes()))
