"""上报 on a phone: the form built from the mechanism definitions, photos, location, and an idempotent send.

The page works without JavaScript (a plain multipart POST, errors shown on the re-rendered page);
`static/web/report.js` adds the draft kept in the browser, photo uploads ahead of the send and the
geolocation button, and sends the form with `HX-Request` so errors come back as the form alone (422).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taizhang.cases.actions import get_case
from taizhang.cases.attachments import do_upload_attachment
from taizhang.cases.idempotency import live_key
from taizhang.cases.models import Case
from taizhang.errors import ActionError, FieldError
from taizhang.intake.portal.actions import is_resident
from taizhang.intake.submit import do_submit_case

from .spec import (
    MechanismForm,
    bind_sections,
    case_input,
    division_choices,
    errors_by_field,
    plain_errors,
    report_forms,
)
from .widgets import Input, choice

KEY_MAX = 100


def chosen_form(forms: list[MechanismForm], code: str) -> MechanismForm:
    return next((f for f in forms if f.code == code), forms[0])


def common_inputs(values: dict, errors: dict, divisions) -> dict[str, Input]:
    """The inputs every mechanism shares: what, where (division, address, coordinates)."""
    return {
        "title": Input(
            "r-title",
            "title",
            _("标题"),
            value=values.get("title", ""),
            required=True,
            max_length=200,
            errors=errors.get("title", []),
            help=_("一句话说清是什么问题，例如：和心社区3号楼楼道堆放杂物"),
        ),
        "description": Input(
            "r-description",
            "description",
            _("情况描述"),
            "textarea",
            value=values.get("description", ""),
            errors=errors.get("description", []),
        ),
        "division": choice(
            "r-division", "division", _("所在区划（网格）"), divisions, values.get("division"), errors
        ),
        "address": Input(
            "r-address",
            "address",
            _("详细地址"),
            value=values.get("address", ""),
            max_length=300,
            errors=errors.get("address", []),
        ),
        "lat": Input(
            "r-lat",
            "lat",
            _("纬度"),
            value=values.get("lat", ""),
            errors=errors.get("lat", []),
            attrs={"inputmode": "decimal"},
        ),
        "lon": Input(
            "r-lon",
            "lon",
            _("经度"),
            value=values.get("lon", ""),
            errors=errors.get("lon", []),
            attrs={"inputmode": "decimal"},
        ),
    }


def form_context(request, forms, values: dict, errors=(), message: str = "", key: str = "") -> dict:
    divisions, default = division_choices(request.user, forms)
    values = {"division": default, **values}
    current = chosen_form(forms, values.get("mechanism") or request.GET.get("mechanism") or "")
    by_field = errors_by_field(errors)
    return {
        "forms": forms,
        "current": current,
        "sections": bind_sections(forms, current.code, values, by_field),
        "common": common_inputs(values, by_field, divisions),
        "photo_errors": by_field.get("photos", []),
        "max_photos": settings.TAIZHANG_MAX_PHOTOS_PER_FORM,
        "other_errors": [
            m for name, ms in by_field.items() if name in ("mechanism", "Idempotency-Key") for m in ms
        ],
        "attachments": values.get("attachments", []),
        "message": message,
        "idempotency_key": key or uuid.uuid4().hex,
        "draft_key": f"taizhang-report-draft-{request.user.pk}",  # TaizhangDrafts.PREFIX in app.js
    }


def posted_values(form: MechanismForm, post, data) -> dict:
    """What the person typed, to show again beside the errors."""
    keys = ("title", "description", "category", "grade", "channel", "division", "address", "lat", "lon")
    return {
        **{k: (post.get(k) or "").strip() for k in keys},
        "mechanism": form.code,
        "fields": {
            f.name: post.getlist(f"field-{f.name}")
            if f.type == "multichoice"
            else post.get(f"field-{f.name}", "")
            for f in form.fields
        },
        "attachments": data.attachments,
    }


def replayed_case(user, key: str) -> Case | None:
    """The case an earlier send of this draft created (for the message when the draft was changed since)."""
    row = live_key(user, key)
    return row.case if row else None


@login_required
def new(request: HttpRequest) -> HttpResponse:
    """The report form (GET) and its send (POST): 201 with the case number, or the form with errors."""
    request.nav_active = "report"
    forms = report_forms(request.user)
    if not forms:
        if is_resident(request.user):
            return redirect("portal:new")
        return render(request, "web/report/not_allowed.html", status=403)
    partial = request.headers.get("HX-Request") == "true"
    if request.method != "POST":
        return render(request, "web/report/new.html", form_context(request, forms, {}))
    form = chosen_form(forms, request.POST.get("mechanism") or "")
    key = (request.POST.get("idempotency_key") or "").strip()[:KEY_MAX]
    data = case_input(form, request.POST)
    try:
        case, created = do_submit_case(request.user, data, key, request.FILES.getlist("photos"))
    except ActionError as exc:
        message = exc.message
        if exc.code == "idempotency_key_reused":
            earlier = replayed_case(request.user, key)
            if earlier is not None:
                message = _(
                    "这份草稿已于此前提交为案件 %(number)s，之后内容又有改动。请先清除草稿再上报新的案件。"
                ) % {"number": earlier.number}
        context = form_context(
            request,
            forms,
            posted_values(form, request.POST, data),
            plain_errors(exc.errors, request.POST),
            message,
            key,
        )
        if exc.code == "idempotency_key_reused":
            context["earlier"] = replayed_case(request.user, key)
        template = "web/report/form.html" if partial else "web/report/new.html"
        return render(request, template, context, status=exc.status)
    if not partial:
        return redirect(reverse("report:sent", args=[case.number]) + ("" if created else "?again=1"))
    context = {"case": case, "again": not created, "mechanism_name": form.name}
    return render(request, "web/report/success.html", context, status=201 if created else 200)


@login_required
def sent(request: HttpRequest, number: str) -> HttpResponse:
    """The confirmation after a send without JavaScript: the number and a link to the case."""
    request.nav_active = "report"
    try:
        case = get_case(request.user, number)
    except ActionError as exc:
        return render(request, "web/report/not_found.html", {"message": exc.message}, status=exc.status)
    forms = {f.code: f.name for f in report_forms(request.user)}
    context = {
        "case": case,
        "again": request.GET.get("again") == "1",
        "mechanism_name": forms.get(case.mechanism, ""),
    }
    return render(request, "web/report/sent.html", context)


@require_POST
def photo(request: HttpRequest) -> JsonResponse:
    """One photo of a draft, stored ahead of the send: {id, name} (201) or the error as the API gives it."""
    if not request.user.is_authenticated:
        return JsonResponse({"code": "unauthenticated", "message": _("请先登录")}, status=401)
    upload = request.FILES.get("file")
    if upload is None:
        error = ActionError(
            "invalid", _("没有收到照片"), 422, [FieldError("file", "required", _("没有收到照片"))]
        )
        return JsonResponse(error.as_dict(), status=422)
    try:
        attachment = do_upload_attachment(request.user, upload.name or "photo.jpg", upload.file, upload.size)
    except ActionError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse({"id": attachment.pk, "name": attachment.original_name}, status=201)
