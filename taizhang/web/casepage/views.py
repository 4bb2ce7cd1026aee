"""The case page and its POSTs (take a transition, decide on a pending request, link another case).

With htmx a failed action answers with the form alone (422/409/403, input kept, errors in place) and a
successful one with the refreshed page section; without JavaScript the same views re-render the whole
page or redirect back to it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taizhang.cases.actions import available_transitions, do_transition, get_case
from taizhang.cases.approvals import do_decide
from taizhang.cases.links import do_link
from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError
from taizhang.mechanisms.registry import get_mechanism

from .forms import Choices, attach_errors, build_form, kept_attachments, kept_ids, read_request, upload_photos
from .page import DecisionForm, LinkForm, page_context

PAGE = "web/casepage/detail.html"
SECTION = "web/casepage/_page.html"


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def not_found(request: HttpRequest, error: ActionError) -> HttpResponse:
    return render(request, "web/casepage/not_found.html", {"message": error.message}, status=404)


@login_required
def detail(request: HttpRequest, ref: str) -> HttpResponse:
    """The case as the person may see it, with the actions they may take."""
    request.nav_active = "cases"
    try:
        case = get_case(request.user, ref)
    except ActionError as exc:
        return not_found(request, exc)
    context = page_context(
        request.user,
        case,
        clock_now(),
        master=request.GET.get("master", "").strip(),
        open_code=request.GET.get("action", ""),
    )
    return render(request, PAGE, context)


@login_required
@require_POST
def act(request: HttpRequest, ref: str) -> HttpResponse:
    """Take the transition the form names, with the version the page was rendered from."""
    user, post = request.user, request.POST
    try:
        case = get_case(user, ref)
    except ActionError as exc:
        return not_found(request, exc)
    kept = kept_ids(post)
    ids, upload_error = upload_photos(user, request.FILES.getlist("photos"), len(kept))
    ids = kept + ids
    try:
        if upload_error is not None:
            raise upload_error
        do_transition(user, case.pk, read_request(get_mechanism(case.mechanism), post, ids))
    except ActionError as exc:
        return action_failed(request, ref, exc, ids)
    t = get_mechanism(case.mechanism).transitions[post["code"]]
    done = (
        _("已提交「{name}」，等待{approval}").format(name=t.name, approval=t.approval.name)
        if t.approval
        else _("已办理：{name}").format(name=t.name)
    )
    return action_done(request, ref, done)


def action_failed(request: HttpRequest, ref: str, error: ActionError, ids: list[int]) -> HttpResponse:
    """The same form again with the person's input, its photos kept, and the reason in place."""
    user, post = request.user, request.POST
    try:
        case = get_case(user, ref)
    except ActionError as exc:
        return not_found(request, exc)
    mech = get_mechanism(case.mechanism)
    t = mech.transitions.get(post.get("code", ""))
    form = None
    if t is not None:
        role = dict((d.code, r) for d, r in available_transitions(user, case)).get(t.code, "")
        kept = kept_attachments(user, ids)
        form = build_form(mech, case, t, role, Choices.for_case(case, [t]), posted=post, kept=kept)
        attach_errors(form, error)
    reason = "；".join([error.message, *(e.message for e in error.errors)])
    if is_htmx(request):
        if form is not None and request.headers.get("HX-Trigger") == f"action-{form.code}":
            response = render(
                request, "web/casepage/_action_form.html", {"form": form, "case": case}, status=error.status
            )
            return retarget(response, f"#action-{form.code}")
        response = render(request, "web/casepage/_alert.html", {"alert": reason}, status=error.status)
        return retarget(response, "#action-alert")
    request.nav_active = "cases"
    context = page_context(user, case, clock_now(), failed=form, alert="" if form else reason)
    return render(request, PAGE, context, status=error.status)


def retarget(response: HttpResponse, target: str) -> HttpResponse:
    response["HX-Retarget"] = target
    response["HX-Reswap"] = "outerHTML"
    return response


def action_done(request: HttpRequest, ref: str, done: str) -> HttpResponse:
    """The refreshed page section (htmx) or a redirect to the page; if the action took the case out of the
    person's sight (退回 clears the unit), back to the 工作台 with the news."""
    user = request.user
    try:
        case = get_case(user, ref)
    except ActionError:
        messages.success(request, done + _("；案件已移交，您已无权查看"))
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("workbench")
            return response
        return redirect("workbench")
    if is_htmx(request):
        return render(request, SECTION, page_context(user, case, clock_now(), flash=done))
    messages.success(request, done)
    return redirect("case:detail", ref=case.number)


@login_required
@require_POST
def decide(request: HttpRequest, ref: str) -> HttpResponse:
    """Approve (批准) or refuse (驳回) the pending request of the case."""
    user, post = request.user, request.POST
    try:
        case = get_case(user, ref)
    except ActionError as exc:
        return not_found(request, exc)
    approve = post.get("approve") == "1"
    opinion = post.get("opinion", "")
    version = post.get("version", "")
    try:
        do_decide(user, case.pk, approve, opinion, int(version) if version.isdecimal() else None)
    except ActionError as exc:
        decision = DecisionForm(
            opinion=opinion,
            message=exc.message,
            errors=[e.message for e in exc.errors if e.field == "opinion"],
            status=exc.status,
        )
        case = get_case(user, ref)
        context = page_context(user, case, clock_now(), decision=decision)
        if is_htmx(request) and context["pending"] is not None:
            response = render(request, "web/casepage/_decision.html", context, status=exc.status)
            return retarget(response, "#decision")
        request.nav_active = "cases"
        if context["pending"] is None:
            context["alert"] = exc.message
        return render(request, PAGE, context, status=exc.status)
    return action_done(request, ref, _("已批准") if approve else _("已驳回"))


@login_required
@require_POST
def link(request: HttpRequest, ref: str) -> HttpResponse:
    """Link another case as 关联 (or end the link, `unlink=1`), then back to the links panel. A refusal
    shows the page again with the reason and the input in the panel (a case not seen: the 404 page)."""
    user, post = request.user, request.POST
    other, opinion, unlink = post.get("other", "").strip(), post.get("opinion", ""), post.get("unlink") == "1"
    try:
        case = do_link(user, ref, other, unlink, opinion)
    except ActionError as exc:
        try:
            case = get_case(user, ref)
        except ActionError as unseen:
            return not_found(request, unseen)
        message = "；".join(e.message for e in exc.errors) or exc.message
        form = LinkForm(other="" if unlink else other, opinion=opinion, message=message, status=exc.status)
        context = page_context(user, case, clock_now(), link_form=form)
        if not (context["link_form"] and context["link_form"].allowed):
            context["alert"] = message  # no links panel for this person: the reason above the actions
        request.nav_active = "cases"
        return render(request, PAGE, context, status=exc.status)
    done = _("已取消关联 {number}") if unlink else _("已关联 {number}")
    messages.success(request, done.format(number=other))
    return redirect(reverse("case:detail", kwargs={"ref": case.number}) + "#links")
