"""Actions of the resident portal: file a demand or a hazard, follow it with a tracking code, rate it.

Who files. A signed-in resident files as themselves (they are the case's reporter and see it under
"我的诉求"). Anybody else files through the portal account (`account.portal_user`), with an optional
contact name and phone kept in the case's data: the mechanism's own fields when it declares them
(来电人, 联系电话), else `data.portal_contact`. Either way the sender gets a tracking code.

Abuse. A hidden honeypot field that people never fill refuses bots without a CAPTCHA, and the number
of cases one address (or account) may file per hour is limited (`TAIZHANG_PORTAL_MAX_PER_HOUR`). Photos
count against an upload quota per address (anonymous senders) or per person (`taizhang.cases.quotas`),
and a refused form, whatever the reason, keeps no photo: nothing of it stays in storage.

Rating. It is the mechanism's `rate` transition, taken through the engine by the case's reporter:
the resident, or the portal account for the holder of the tracking code. The engine refuses it
before the answer (wrong state, 409) and a second time (`once`, 409).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.create import CaseInput
from taizhang.cases.models import Case
from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError, FieldError, invalid, not_found
from taizhang.mechanisms.registry import Mechanism, get_registry
from taizhang.org.models import Division, User
from taizhang.org.roles import REPORTER
from taizhang.org.scopes import grants_of, self_only

from ..models import PortalTicket
from ..submit import Upload, attachments_of_key, do_submit_case
from .account import portal_user
from .tickets import case_by_code, client_key, issue_ticket

RATE_CODE = "rate"
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")
# Fields a mechanism may declare for the caller; the portal fills them from its contact inputs.
CONTACT_FIELDS = {"name": "caller_name", "phone": "caller_phone"}


def portal_mechanisms() -> list[Mechanism]:
    """Mechanisms residents may file in on the portal (setting TAIZHANG_PORTAL_MECHANISMS), in that order."""
    codes = getattr(settings, "TAIZHANG_PORTAL_MECHANISMS", ("demand", "hazard"))
    registry = get_registry().mechanisms
    return [
        registry[c]
        for c in codes
        if c in registry and any(self_only(r) for r in registry[c].definition.intake.roles)
    ]


def max_per_hour() -> int:
    return int(getattr(settings, "TAIZHANG_PORTAL_MAX_PER_HOUR", 10))


def is_resident(user) -> bool:
    return bool(user and user.is_authenticated and any(self_only(g.role) for g in grants_of(user)))


def acting_user(user) -> User:
    """Who files and rates: a signed-in resident themselves, anybody else the portal account."""
    return user if is_resident(user) else portal_user()


@dataclass
class PortalSubmission:
    mechanism: str
    category: str
    title: str
    division: str
    description: str = ""
    address: str = ""
    lat: Any = None
    lon: Any = None
    contact_name: str = ""
    contact_phone: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    honeypot: str = ""


def check_portal_submission(actor: User, sub: PortalSubmission, client: str, key: str) -> Mechanism:
    """Bot trap, rate limit, the mechanism and the contact inputs; the engine checks the rest."""
    if sub.honeypot.strip():
        raise ActionError("rejected", "提交未被受理。如果您是正常提交，请刷新页面后重试。", 400)
    mech = next((m for m in portal_mechanisms() if m.code == sub.mechanism), None)
    if mech is None:
        raise invalid([FieldError("mechanism", "unknown_mechanism", "请选择要反映的事项类型")])
    since = clock_now() - timedelta(hours=1)
    recent = PortalTicket.objects.filter(client=client, created_at__gte=since).count()
    if recent >= max_per_hour() and attachments_of_key(actor, key) is None:
        raise ActionError(
            "too_many",
            f"提交过于频繁：同一网络每小时最多提交 {max_per_hour()} 件，请稍后再试，紧急情况请拨打12345。",
            429,
        )
    errors = []
    if len(sub.contact_name.strip()) > 50:
        errors.append(FieldError("contact_name", "too_long", "称呼不能超过 50 个字"))
    phone = sub.contact_phone.strip()
    if phone and not PHONE_RE.match(phone):
        errors.append(FieldError("contact_phone", "invalid", "电话号码格式不对，请填写手机或座机号码"))
    if errors:
        raise invalid(errors)
    return mech


def case_input(mech: Mechanism, sub: PortalSubmission) -> CaseInput:
    fields = dict(sub.fields)
    extra: dict[str, Any] = {}
    contact = {"name": sub.contact_name.strip(), "phone": sub.contact_phone.strip()}
    for kind, value in contact.items():
        name = CONTACT_FIELDS[kind]
        if not value:
            continue
        if name in mech.fields:
            fields[name] = value
        else:
            extra.setdefault("portal_contact", {})[kind] = value
    return CaseInput(
        mechanism=mech.code,
        title=sub.title,
        division=sub.division,
        category=sub.category,
        description=sub.description,
        address=sub.address,
        lat=sub.lat,
        lon=sub.lon,
        fields=fields,
        extra=extra,
    )


def do_portal_submit(
    user, sub: PortalSubmission, address: str, key: str, files: list[Upload] = ()
) -> tuple[Case, str, CaseInput]:
    """File the case once (the form's key) and issue a tracking code: (case, code, the input as sent).

    A re-sent form returns the same case with a fresh code (only digests are stored, so the first
    code cannot be shown again; both work). A refused form stores nothing: its photos are removed
    and have to be chosen again.
    """
    actor = acting_user(user)
    anonymous = actor is not user
    client = client_key(f"ip:{address}" if anonymous else f"user:{actor.pk}")
    mech = check_portal_submission(actor, sub, client, key)
    data = case_input(mech, sub)
    case, _created = do_submit_case(
        actor, data, key, files, client=client if anonymous else "", keep_refused=False
    )
    return case, issue_ticket(case, client, anonymous=anonymous), data


def rating_transition(case: Case):
    """The mechanism's rating transition, or None when the mechanism has none."""
    mech = get_registry().mechanisms.get(case.mechanism)
    return mech.transitions.get(RATE_CODE) if mech else None


def rater_for(user, case: Case, *, code_holder: bool) -> User | None:
    """Who rates the case for this person: its reporter, when that is them, or the portal account
    when it filed the case and the person showed its tracking code."""
    if user is not None and user.is_authenticated and case.reporter_id == user.pk:
        return user
    if code_holder:
        account = portal_user()
        return account if case.reporter_id == account.pk else None
    return None


def can_rate(user, case: Case, *, code_holder: bool) -> bool:
    """Whether the rating form should be offered now (the engine decides again when it is sent)."""
    from taizhang.cases.actions import available_transitions

    rater = rater_for(user, case, code_holder=code_holder)
    return rater is not None and any(t.code == RATE_CODE for t, _ in available_transitions(rater, case))


def do_rate(user, case: Case, satisfaction: str, comment: str, *, code_holder: bool) -> Case:
    """Rate a case through the engine's `rate` transition, acting as its reporter.

    `code_holder`: the person showed the case's tracking code; without it only the reporter rates.
    """
    t = rating_transition(case)
    if t is None or REPORTER not in t.roles:
        raise ActionError("not_rateable", "该类事项不接受评价", 409)
    rater = rater_for(user, case, code_holder=code_holder)
    if rater is None:
        raise ActionError("login_required", "该诉求由注册居民提交，请登录本人账号后评价", 403)
    if case.state not in t.from_:
        raise ActionError("not_answered_yet", "办理答复或办结之后才能评价，请耐心等待", 409)
    return do_transition(
        rater,
        case.pk,
        TransitionRequest(code=RATE_CODE, opinion=comment.strip(), fields={"satisfaction": satisfaction}),
    )


def track(code: str) -> Case:
    """The case a tracking code opens (404 with a clear message otherwise)."""
    case, _ticket = case_by_code(code)
    return case


def my_cases(user):
    """A signed-in resident's own cases, newest first (those they support are read on the ledger)."""
    if not is_resident(user):
        return Case.objects.none()
    return Case.objects.for_user(user).select_related("division").order_by("-created_at")


def own_case(user, number: str) -> Case:
    """A signed-in resident's own case by number (404 for anything else)."""
    case = my_cases(user).filter(number=number).first()
    if case is None:
        raise not_found()
    return case


def portal_divisions() -> list[Division]:
    """Where a resident can say the problem is: streets and their communities, in tree order."""
    return list(Division.objects.filter(level__in=["street", "community"]).order_by("path"))
