"""What the public sees of a case: one rule for whether an item is public, one redaction for its fields.

The public ledger (为民办事台账), Open311 GET and any other public or machine output take their cases
from `public_cases` (or filter by `public_q`) and their content from `public_items`, nothing else. The
mechanism file decides (`public:`, see `taizhang.mechanisms.schema.PublicRules`): which channels' items
are public (no petition; no 企业自查 or 专项检查 finding), which attributes are shown besides the number,
category, public state, dates and the place cut to the community, how precisely coordinates are shown,
and which form fields identify people. Every text goes through `redact.redact_text`, with the
people the case names masked wherever they appear (`redact.names_in`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet

from taizhang.cases.models import Case
from taizhang.mechanisms.registry import get_mechanism, get_registry
from taizhang.mechanisms.schema import PublicLocation

from .portal.progress import field_choice, public_state
from .portal.redact import names_in, place_names, public_place, redact_text


def public_q(prefix: str = "", ledger: bool = False) -> Q:
    """The one rule: a case is public when its mechanism publishes the channel it came by.

    `prefix` reaches the case from another model ("case__" for history rows); `ledger`: only the
    mechanisms listed in the public ledger (为民办事台账, `public.ledger.listed`).
    """
    q = Q(**{f"{prefix}pk__in": []})
    for mech in get_registry().mechanisms.values():
        channels = mech.definition.public.channels
        if channels and (mech.definition.public.ledger.listed or not ledger):
            q |= Q(**{f"{prefix}mechanism": mech.code, f"{prefix}channel__in": list(channels)})
    return q


def public_cases(ledger: bool = False) -> QuerySet[Case]:
    """Every public case (merged duplicates included: a list that shows masters leaves them out);
    `ledger`: only those the public ledger lists."""
    return Case.objects.filter(public_q(ledger=ledger))


def listed_in_ledger(mechanism: str) -> bool:
    """Whether the public ledger lists the mechanism's public items (`public.ledger.listed`)."""
    mech = get_registry().mechanisms.get(mechanism)
    return mech is not None and mech.definition.public.ledger.listed


def is_public(case: Case, ledger: bool = False) -> bool:
    """Whether the public may see the case at all (one query, by the same rule)."""
    return public_cases(ledger).filter(pk=case.pk).exists()


@dataclass
class PublicItem:
    """A case as the public sees it: redacted, with None for every attribute the mechanism keeps back."""

    number: str
    mechanism: str
    mechanism_name: str
    category: str
    category_name: str
    state_name: str
    state_kind: str
    place: str
    title: str
    description: str | None
    address: str | None
    address_id: str | None
    lat: float | None
    lon: float | None
    unit: str | None
    due_at: datetime | None
    media_url: str | None
    reply: str
    satisfaction: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    supporters: int = 0
    # The form fields the public ledger shows (`public.ledger.fields`): (label, redacted value).
    details: list[tuple[str, str]] = field(default_factory=list)


def rounded(value: Decimal | float | None, location: PublicLocation | None) -> float | None:
    """A coordinate snapped to the mechanism's public grid (None when coordinates are not public)."""
    if value is None or location is None:
        return None
    return round(float(value), location.decimals)


def public_item(case: Case, places: dict[str, tuple[str, str]]) -> PublicItem:
    """The public fields of one case; `places` from `redact.place_names` (see `public_items`)."""
    mech = get_mechanism(case.mechanism)
    rules = mech.definition.public
    shown = set(rules.fields)
    names = names_in(case)
    data = case.data or {}

    def text(value: str | None) -> str:
        return redact_text(str(value or ""), names)

    def kept(attr: str, value):
        return value if attr in shown and value not in (None, "") else None

    reply_def = mech.fields.get("reply")
    category_name = mech.choice_name("category", case.category)
    return PublicItem(
        number=case.number,
        mechanism=case.mechanism,
        mechanism_name=mech.name,
        category=case.category,
        category_name=category_name,
        state_name=public_state(mech, case.state),
        state_kind=case.state_kind,
        place=public_place(case.division.path, places),
        title=text(case.title) if "title" in shown else category_name,
        description=kept("description", text(case.description)),
        address=kept("address", text(case.address)),
        address_id=kept("address", text((data.get("open311") or {}).get("address_id"))),
        lat=rounded(case.lat, rules.location),
        lon=rounded(case.lon, rules.location),
        unit=kept("unit", case.unit.name if case.unit_id else None),
        due_at=kept("deadline", case.due_at),
        media_url=kept("media", data.get("media_url")),
        reply=text(data.get("reply")) if reply_def is not None and reply_def.public else "",
        satisfaction=field_choice(mech, "satisfaction", data.get("satisfaction")),
        created_at=case.created_at,
        updated_at=case.updated_at,
        closed_at=case.closed_at,
        supporters=getattr(case, "supporters_count", 0),
        details=ledger_details(mech, data, text),
    )


def ledger_details(mech, data: dict, text) -> list[tuple[str, str]]:
    """The ledger's form fields with a value, as their labels read them, through the redaction `text`.

    The file may name only fields marked `public: true` and never a personal one (validate_public.py).
    """
    out = []
    for name in mech.definition.public.ledger.fields:
        value, definition = data.get(name), mech.fields[name]
        if value in (None, "", []):
            continue
        if definition.type == "bool":
            shown = "是" if value else "否"
        elif isinstance(value, list):
            shown = "、".join(field_choice(mech, name, v) for v in value)
        else:
            shown = field_choice(mech, name, value) if definition.choices else str(value)
        out.append((definition.label, text(shown)))
    return out


def public_items(cases: Iterable[Case]) -> list[PublicItem]:
    """The public fields of a page of cases (with division, unit and reporter loaded), one query for
    the places of the whole page."""
    cases = list(cases)
    places = place_names(c.division.path for c in cases)
    return [public_item(c, places) for c in cases]
