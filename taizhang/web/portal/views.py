"""群众服务: file a demand or a hazard without an account, follow it with a tracking code, rate it, and read
the public ledger (为民办事台账). Every page is public; the actions are in `taizhang.intake.portal`."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taizhang.errors import ActionError
from taizhang.insight.actions import can_metoo, do_metoo, supported_cases
from taizhang.intake.portal.actions import (
    can_rate,
    do_portal_submit,
    do_rate,
    is_resident,
    my_cases,
    own_case,
    portal_divisions,
    portal_mechanisms,
    track,
)
from taizhang.intake.portal.ledger import (
    RELATED,
    STATUSES,
    division_options,
    kind_options,
    ledger_case,
    ledger_cases,
    ledger_rows,
    parse_ledger_query,
)
from taizhang.intake.portal.progress import public_case, public_rows, public_state
from taizhang.intake.portal.tickets import EXAMPLE
from taizhang.intake.public import public_items
from taizhang.mechanisms.registry import get_mechanism

from ..client import limit_address
from ..report.spec import plain_errors
from .forms import bind, posted, submission

LEDGER_PAGE = 20
SESSION_TICKET = "portal_ticket"


def page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    request.nav_active = "portal"
    return render(request, template, {"is_resident": is_resident(request.user), **context}, status=status)


def home(request: HttpRequest) -> HttpResponse:
    """What a resident can do here, a signed-in resident's own demands and, as ledger entries (the
    public view), those they said 我也遇到 to."""
    mine = []
    if is_resident(request.user):
        for case in my_cases(request.user)[:20]:
            state = public_state(get_mechanism(case.mechanism), case.state)
            url = reverse("portal:mine", args=[case.number])
            mine.append({"case": case, "title": case.title, "state": state, "url": url, "own": True})
        supported = list(supported_cases(request.user).select_related(*RELATED).order_by("-created_at")[:20])
        for case, item in zip(supported, public_items(supported), strict=True):
            url = reverse("portal:ledger_case", args=[case.number])
            mine.append(
                {"case": case, "title": item.title, "state": item.state_name, "url": url, "own": False}
            )
        mine = sorted(mine, key=lambda m: m["case"].created_at, reverse=True)[:20]
    return page(
        request, "web/portal/home.html", {"mechanisms": portal_mechanisms(), "mine": mine, "example": EXAMPLE}
    )


def division_list() -> list[tuple[str, str]]:
    return [(d.code, ("\u3000" if d.level == "community" else "") + d.name) for d in portal_divisions()]


def new(request: HttpRequest) -> HttpResponse:
    """The submission form (GET) and its send (POST → the tracking code page)."""
    mechs = portal_mechanisms()
    if request.method != "POST":
        values = {"mechanism": request.GET.get("mechanism") or mechs[0].code}
        if is_resident(request.user):
            values.update(contact_name=request.user.display_name, contact_phone=request.user.phone)
        context = {**bind(mechs, values, [], division_list()), "key": uuid.uuid4().hex}
        return page(request, "web/portal/new.html", {"mechanisms": mechs, **context})
    key = (request.POST.get("idempotency_key") or "").strip()[:100]
    sub = submission(mechs, request.POST)
    photos = request.FILES.getlist("photos")
    try:
        case, code, _data = do_portal_submit(request.user, sub, limit_address(request), key, photos)
    except ActionError as exc:
        context = {
            **bind(mechs, posted(request.POST), plain_errors(exc.errors, request.POST), division_list()),
            "key": key or uuid.uuid4().hex,
            "photos_dropped": len(photos),  # a refused form keeps no photo: they are chosen again
            "message": exc.message,
        }
        return page(request, "web/portal/new.html", {"mechanisms": mechs, **context}, status=exc.status)
    request.session[SESSION_TICKET] = {"code": code, "number": case.number, "title": case.title}
    return redirect("portal:submitted")


def submitted(request: HttpRequest) -> HttpResponse:
    """The tracking code, shown after the send (kept in the session so a reload shows it again)."""
    ticket = request.session.get(SESSION_TICKET)
    if not ticket:
        return redirect("portal:home")
    track_url = reverse("portal:track") + "?" + urlencode({"code": ticket["code"]})
    return page(request, "web/portal/submitted.html", {"ticket": ticket, "track_url": track_url})


def progress_context(request, case, *, code: str = "", code_holder: bool) -> dict:
    view = public_case(case, public_rows(case), redact=False)
    mech = get_mechanism(case.mechanism)
    rate = mech.transitions.get("rate")
    choices = (
        [(c.code, c.name) for c in mech.fields["satisfaction"].choices]
        if "satisfaction" in mech.fields
        else []
    )
    return {
        "view": view,
        "code": code,
        "can_rate": rate is not None and can_rate(request.user, case, code_holder=code_holder),
        "rating_choices": choices,
        "can_metoo": can_metoo(request.user, case),
    }


def track_page(request: HttpRequest) -> HttpResponse:
    """Progress by tracking code: public states and replies; the rating form once the case is answered."""
    code = (request.GET.get("code") or "").strip()
    if not code:
        return page(request, "web/portal/track.html", {"code": "", "example": EXAMPLE})
    try:
        case = track(code)
    except ActionError as exc:
        context = {"code": code, "example": EXAMPLE, "error": exc.message}
        return page(request, "web/portal/track.html", context, status=exc.status)
    return page(
        request,
        "web/portal/track.html",
        {**progress_context(request, case, code=code, code_holder=True), "example": EXAMPLE},
    )


def mine(request: HttpRequest, number: str) -> HttpResponse:
    """A signed-in resident's own demand (or one they support), with the rating form when due."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    try:
        case = own_case(request.user, number)
    except ActionError as exc:
        return page(request, "web/portal/not_found.html", {"message": exc.message}, status=exc.status)
    return page(request, "web/portal/mine.html", progress_context(request, case, code_holder=False))


@require_POST
def rate(request: HttpRequest) -> HttpResponse:
    """Send a rating (满意/基本满意/不满意 and a comment), by tracking code or as the signed-in reporter."""
    code = (request.POST.get("code") or "").strip()
    number = (request.POST.get("number") or "").strip()
    try:
        case = track(code) if code else own_case(request.user, number)
    except ActionError as exc:
        return page(
            request,
            "web/portal/track.html",
            {"code": code, "example": EXAMPLE, "error": exc.message},
            status=exc.status,
        )
    back = (
        (reverse("portal:track") + "?" + urlencode({"code": code}))
        if code
        else reverse("portal:mine", args=[case.number])
    )
    try:
        do_rate(
            request.user,
            case,
            request.POST.get("satisfaction") or "",
            request.POST.get("comment") or "",
            code_holder=bool(code),
        )
    except ActionError as exc:
        context = progress_context(request, case, code=code, code_holder=bool(code))
        context.update(
            rate_error=exc.message,
            rate_errors=[e.message for e in exc.errors],
            comment=request.POST.get("comment", ""),
            picked=request.POST.get("satisfaction", ""),
            example=EXAMPLE,
        )
        return page(
            request,
            "web/portal/mine.html" if not code else "web/portal/track.html",
            context,
            status=exc.status,
        )
    messages.success(request, _("感谢您的评价，已记录在案件办理记录中。"))
    return redirect(back)


def ledger(request: HttpRequest) -> HttpResponse:
    """为民办事台账: handled (or in-progress) demands and hazards, redacted, with filters and pages."""
    query = parse_ledger_query(request.GET)
    paginator = Paginator(ledger_cases(query), LEDGER_PAGE)
    current = paginator.get_page(query.page)
    base = request.GET.copy()
    base.pop("page", None)
    context = {
        "query": query,
        "page": current,
        "rows": ledger_rows(list(current.object_list)),
        "statuses": STATUSES,
        "kinds": kind_options(),
        "divisions": division_options(),
        "base_qs": base.urlencode(),
    }
    return page(request, "web/portal/ledger.html", context, status=400 if query.errors else 200)


def ledger_detail(request: HttpRequest, number: str) -> HttpResponse:
    """One case of the ledger: redacted text, public progress, 我也遇到 for residents."""
    case = ledger_case(number)
    if case is None:
        return page(
            request, "web/portal/not_found.html", {"message": _("台账中没有该编号的事项")}, status=404
        )
    view = public_case(case, public_rows(case), redact=True)
    rows = ledger_rows([case])
    context = {
        "view": view,
        "row": rows[0],
        "can_metoo": case.state_kind != "closed",  # the form is offered to all; do_metoo decides
        "supported": is_resident(request.user) and case.supporters.filter(user=request.user).exists(),
    }
    return page(request, "web/portal/ledger_case.html", context)


@require_POST
def metoo(request: HttpRequest, number: str) -> HttpResponse:
    """我也遇到: a signed-in resident follows an open case instead of filing it again."""
    back = request.POST.get("next") or reverse("portal:ledger_case", args=[number])
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("portal:ledger_case", args=[number])
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?{urlencode({'next': back})}")
    try:
        _row, count, created = do_metoo(request.user, number)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if created:
        messages.success(
            request,
            _("已记录“我也遇到”，目前共 %(count)s 位居民反映同一问题。办理进展可在“我的诉求”中查看。")
            % {"count": count},
        )
    else:
        messages.info(request, _("您此前已经表示过“我也遇到”。"))
    return redirect(back)
