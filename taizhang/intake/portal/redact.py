"""Redaction for what the public ledger (为民办事台账) shows: no names, phone numbers, ID or card numbers,
e-mail addresses, number plates or house numbers; places cut to the community.

The rules are deliberately greedy: a ledger that hides a harmless number costs nothing, one that
shows a phone number harms a person. Free text cannot be searched for every name, so names are
masked where the case says them (the caller, the contact, the reporter) and where the text
introduces one (我叫…, 联系人…, 张先生).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "*"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 18-digit ID numbers (the last may be X) and 15-digit old ones.
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![0-9A-Za-z])|(?<!\d)(\d{3})\d{8}(\d{4})(?!\d)"
)
# What people put between the groups of a number: ASCII and full-width hyphens and dashes (a Chinese
# IME in full-width mode types 139－1234－5678), dots, slashes, underscores, spaces and brackets.
SEPARATOR = r"[-\s.．·/_\u2010-\u2015－~～()（）]"
MOBILE = re.compile(
    rf"(?<!\d)(?:\+?86{SEPARATOR}?)?[(（]?(1[3-9]\d)[)）]?{SEPARATOR}?\d{{4}}{SEPARATOR}?(\d{{4}})(?!\d)"
)
LANDLINE = re.compile(rf"(?<!\d)[(（]?(0\d{{2,3}})[)）]?{SEPARATOR}?\d{{5,6}}(\d{{2}})(?!\d)")
LONG_NUMBER = re.compile(r"(?<!\d)\d{5,}(\d{2})(?!\d)")  # bank cards, QQ numbers, 门牌 with many digits
PLATE = re.compile(
    r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-Z])[·•\s]?[A-Z0-9]{4,5}([A-Z0-9])"
)
# 3号楼 2单元 501室 12栋 → *号楼 *单元 *室 …; the street or community name before them stays, and so do
# floors (3层): they describe a building, not whose door it is.
HOUSE_NUMBER = re.compile(r"\d+(?:-\d+)*(?=\s*(?:号楼|号院|栋|幢|单元|室|号|户|排|组))")
INTRODUCED_NAME = re.compile(
    r"(我叫|本人|姓名[:：]?\s*|联系人[:：]?\s*|来电人[:：]?\s*|户主[:：]?\s*|业主[:：]?\s*)([\u4e00-\u9fa5]{2,4})"
)
TITLED_NAME = re.compile(r"([\u4e00-\u9fa5])([\u4e00-\u9fa5]{1,2})(?=先生|女士|小姐|师傅|老师)")


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the surname stays, as in every public notice."""
    name = name.strip()
    return name[:1] + MASK * (len(name) - 1) if len(name) > 1 else MASK


def redact_text(text: str, names: Iterable[str] = ()) -> str:
    """The text with personal data masked; `names` are what the case says identifies people (names,
    phone numbers …), masked wherever they occur."""
    if not text:
        return ""
    known = sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True)
    # Names before the patterns (联系人王小明确认 keeps 确认); what the patterns mask themselves (phone
    # numbers, e-mail addresses) is left to them, which mask it more readably (139****5678).
    out = mask_known(text, [n for n in known if mask_patterns(n) == n])
    out = mask_patterns(out)
    return mask_known(out, known)  # whatever the patterns left of a known value


def mask_known(text: str, names: list[str]) -> str:
    """Each known value masked wherever it occurs; a number (a phone) however it is spaced or split."""
    for name in names:
        digits = re.sub(rf"{SEPARATOR}|\+", "", name)
        if digits.isdigit() and len(digits) >= 5:
            spaced = re.compile(f"{SEPARATOR}*".join(digits))
            text = spaced.sub(MASK * 4 + digits[-2:], text)
        else:
            text = text.replace(name, mask_name(name))
    return text


def mask_patterns(text: str) -> str:
    """What the patterns find: e-mail, ID, phone, card and plate numbers, house numbers, introduced names."""
    out = EMAIL.sub(lambda m: m.group(0)[:1] + "***@***", text)
    out = ID_NUMBER.sub(lambda m: (m.group(1) or m.group(3)) + MASK * 8 + (m.group(2) or m.group(4)), out)
    out = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", out)
    out = LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)}", out)
    out = LONG_NUMBER.sub(lambda m: MASK * 4 + m.group(1), out)
    out = PLATE.sub(lambda m: f"{m.group(1)}{m.group(2)}·***{m.group(3)}", out)
    out = HOUSE_NUMBER.sub(MASK, out)
    out = INTRODUCED_NAME.sub(lambda m: m.group(1) + mask_name(m.group(2)), out)
    return TITLED_NAME.sub(lambda m: m.group(1) + MASK * len(m.group(2)), out)


# Contact data the intake channels keep beside the form fields: (key in the case's data, its entries).
CONTACT_DATA = (("portal_contact", ("name", "phone")), ("open311", ("name", "phone", "email")))


def names_in(case) -> list[str]:
    """What the case holds that identifies people, masked wherever it appears in public text: the
    mechanism's personal fields (`public.personal`), the channels' contact data, the reporter."""
    from taizhang.mechanisms.registry import get_registry

    data = case.data or {}
    mech = get_registry().mechanisms.get(case.mechanism)
    values = [data.get(name) for name in (mech.definition.public.personal if mech else ())]
    for key, entries in CONTACT_DATA:
        kept = data.get(key) if isinstance(data.get(key), dict) else {}
        values += [kept.get(entry) for entry in entries]
    if case.reporter_id and case.reporter is not None:
        values += [case.reporter.display_name, case.reporter.phone]
    return [str(v) for v in values if v not in (None, "")]


def public_place(path: str, names: dict[str, tuple[str, str]]) -> str:
    """Where a case is, cut to the community: "五马街道 和心社区" for a grid or an address inside it.

    `path` is the case's division path; `names` maps division codes to (level, name) for the codes on
    the page's paths (`place_names` loads them in one query).
    """
    shown = []
    for code in [c for c in path.split("/") if c]:
        level, name = names.get(code, ("", ""))
        if level in ("street", "community"):
            shown.append(name)
        if level == "community":
            break
    if not shown:  # a case filed on a district or the city: its own name
        codes = [c for c in path.split("/") if c]
        shown = [names.get(codes[-1], ("", ""))[1]] if codes else []
    return " ".join(n for n in shown if n)


def place_names(paths: Iterable[str]) -> dict[str, tuple[str, str]]:
    """{code: (level, name)} for every division on the given paths (one query)."""
    from taizhang.org.models import Division

    codes = {c for p in paths for c in p.split("/") if c}
    rows = Division.objects.filter(code__in=codes).values_list("code", "level", "name")
    return {code: (level, name) for code, level, name in rows}
