"""Filing an Open311 POST as a case: authorise the api_key, locate, build a CaseInput, create it once.

The case is created by the cases' own create action (`do_create_case` with an idempotency key derived
from the POST); what Open311 brings that is not a form field (media_url, address_id, contact
parameters) travels in `CaseInput.extra` and is stored in the case's data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.errors import ActionError, contains_nul
from taizhang.org.models import ApiToken, Division, User
from taizhang.org.roles import Role
from taizhang.org.scopes import grants_of, roles_over
from taizhang.web.api.auth import TOUCH_EVERY, hash_token

from .locate import locate
from .render import Open311Error
from .services import Service, get_service

KEY_PREFIX = "open311:"
MAX_DESCRIPTION = 4000
# Contact parameters go into the mechanism's own fields when it declares them (12345: 来电人, 联系电话).
NAME_FIELD, PHONE_FIELD = "caller_name", "caller_phone"
# Open311 parameter names for the fields of a CaseInput, so errors name what the client sent.
PARAM_NAMES = {
    "lat": "lat",
    "lon": "long",
    "title": "description",
    "address": "address_string",
    "category": "service_code",
    f"fields.{NAME_FIELD}": "first_name/last_name",
    f"fields.{PHONE_FIELD}": "phone",
}


@dataclass
class Open311Post:
    """The parameters of POST requests, as sent (strings; attribute values may be lists)."""

    api_key: str = ""
    jurisdiction_id: str = ""
    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    description: str = ""
    media_url: str = ""
    attributes: dict[str, str | list[str]] = field(default_factory=dict)


def authenticate(api_key: str) -> User:
    """The active person behind a taizhang API token; 403 for a missing, unknown or revoked key."""
    if not api_key:
        raise Open311Error(403, "缺少 api_key")
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(api_key), revoked=False, user__is_active=True)
        .first()
    )
    if row is None:
        raise Open311Error(403, "api_key 无效或已停用")
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def resolve_jurisdiction(user: User, code: str) -> Division:
    """The division to file at: the one named, or the only one the person is 受理员 on."""
    if not code:
        mine = [g.division for g in grants_of(user) if g.role == Role.INTAKE and g.division is not None]
        if len(mine) != 1:
            raise Open311Error(400, "请提供 jurisdiction_id（区划编码）")
        return mine[0]
    division = None if contains_nul(code) else Division.objects.filter(code=code).first()
    if division is None:
        raise Open311Error(404, f"没有编码为 {code} 的辖区（jurisdiction_id）")
    if Role.INTAKE not in roles_over(user, division, None, None):
        raise Open311Error(403, f"该 api_key 的用户不是{division.name}的受理员")
    return division


def parse_point(post: Open311Post) -> tuple[float | None, float | None]:
    """lat/long as numbers in range, both or neither; 400 otherwise."""
    raw_lat, raw_lon = post.lat.strip(), post.long.strip()
    if not raw_lat and not raw_lon:
        return None, None
    if not raw_lat or not raw_lon:
        raise Open311Error(400, "lat 与 long 须同时提供")
    try:
        lat, lon = float(raw_lat), float(raw_lon)
    except ValueError:
        raise Open311Error(400, "lat、long 须为数字") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Open311Error(400, "lat 须在 ±90、long 须在 ±180 之内")
    return lat, lon


def attribute_values(service: Service, attributes: dict[str, str | list[str]]) -> dict[str, Any]:
    """attribute[code] values as the mechanism's field values; unknown codes are 400."""
    known = {f.name: f for f in service.attributes}
    values: dict[str, Any] = {}
    for code, raw in attributes.items():
        definition = known.get(code)
        if definition is None:
            raise Open311Error(400, f"服务 {service.code} 没有属性 {code}")
        if definition.type == "multichoice":
            values[code] = raw if isinstance(raw, list) else [raw]
            continue
        value = raw[-1] if isinstance(raw, list) else raw
        if definition.type == "bool":
            value = {"true": True, "false": False}.get(str(value).lower(), value)
        values[code] = value
    return values


def check_post(post: Open311Post) -> None:
    """What a POST needs besides what the create action checks."""
    errors = []
    if not post.service_code:
        errors.append("缺少 service_code")
    if not (post.lat or post.long or post.address_string.strip() or post.address_id.strip()):
        errors.append("须提供位置：lat 和 long，或 address_string，或 address_id")
    if len(post.description) > MAX_DESCRIPTION:
        errors.append(f"description 不能超过 {MAX_DESCRIPTION} 个字符")
    if post.media_url:
        try:
            URLValidator(schemes=["http", "https"])(post.media_url)
        except ValidationError:
            errors.append("media_url 须为 http 或 https 网址")
        if len(post.media_url) > 1000:
            errors.append("media_url 不能超过 1000 个字符")
    if errors:
        raise Open311Error(400, *errors)


def title_of(description: str, service: Service) -> str:
    """Open311 has no title: the first line of the description, or the service's name."""
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    if not first:
        return f"{service.category_name}（外部系统接入）"
    return first if len(first) <= 60 else first[:59] + "…"


def person_name(first: str, last: str) -> str:
    """Chinese names are family name first; others keep the given name first."""
    first, last = first.strip(), last.strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return last + first
    return " ".join(p for p in (first, last) if p)


def derived_key(user: User, post: Open311Post, jurisdiction: Division, point: tuple) -> str:
    """A digest of everything the client sent (except the key itself): the same POST, the same digest.

    The point is taken as parsed (36.1950 and 36.195 are the same place), to the stored precision.
    """
    sent = {k: v for k, v in asdict(post).items() if k not in ("api_key", "jurisdiction_id", "lat", "long")}
    sent["point"] = [None if c is None else round(c, 6) for c in point]
    sent["attributes"] = {k: sorted(v) if isinstance(v, list) else v for k, v in post.attributes.items()}
    blob = json.dumps([user.pk, jurisdiction.code, sent], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def build_input(
    post: Open311Post, service: Service, division: Division, point: tuple[float | None, float | None]
) -> tuple[CaseInput, dict[str, Any]]:
    """The CaseInput for the create action, and the extra data it has no place for."""
    mech = service.mech
    fields = attribute_values(service, post.attributes)
    extra: dict[str, Any] = {"open311": {}}
    name = person_name(post.first_name, post.last_name)
    for value, field_name, param in ((name, NAME_FIELD, "name"), (post.phone.strip(), PHONE_FIELD, "phone")):
        if not value:
            continue
        if field_name in mech.fields:
            fields[field_name] = value
        else:
            extra["open311"][param] = value
    for param in ("address_id", "email", "device_id", "account_id"):
        value = getattr(post, param).strip()
        if value:
            extra["open311"][param] = value
    if post.media_url:
        extra["media_url"] = post.media_url
    if not extra["open311"]:
        del extra["open311"]
    description = post.description.strip()
    data = CaseInput(
        mechanism=mech.code,
        title=title_of(description, service),
        division=division.code,
        category=service.category,
        description=description,
        channel=service.channel,
        address=post.address_string.strip(),
        lat=None if point[0] is None else round(point[0], 6),
        lon=None if point[1] is None else round(point[1], 6),
        fields=fields,
    )
    return data, extra


def do_open311_create(post: Open311Post) -> tuple[Case, bool, str]:
    """File an Open311 POST as a case once; returns (case, created, token).

    A retry with the same parameters and key returns the first case with created=False.
    """
    user = authenticate(post.api_key.strip())
    check_post(post)
    service = get_service(post.service_code)
    jurisdiction = resolve_jurisdiction(user, post.jurisdiction_id.strip())
    lat, lon = parse_point(post)
    token = derived_key(user, post, jurisdiction, (lat, lon))
    key = KEY_PREFIX + token
    data, extra = build_input(post, service, locate(jurisdiction, lat, lon), (lat, lon))
    data.extra = extra
    case, created = do_create_case(user, data, key)
    return case, created, token


def error_of(exc: ActionError) -> Open311Error:
    """An action's error in Open311 terms: field errors (422) become 400s naming the parameter."""
    if not exc.errors:
        return Open311Error(400 if exc.status == 422 else exc.status, exc.message)
    descriptions = []
    for e in exc.errors:
        name = PARAM_NAMES.get(e.field)
        if name is None and e.field.startswith("fields."):
            name = f"attribute[{e.field.removeprefix('fields.')}]"
        descriptions.append(f"{name or e.field}：{e.message}")
    return Open311Error(400 if exc.status == 422 else exc.status, *descriptions)
