"""The registers' pages. Each parses the request, calls one action or query and renders; every list and
figure is read through `RegisterItem.objects.for_user`, the cases about an item through
`Case.objects.for_user`."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError
from taizhang.mechanisms.registry import get_registry
from taizhang.org.scopes import staff_roles, visible_nodes
from taizhang.registers.actions import (
    do_assess_item,
    do_change_item,
    do_create_item,
    get_item,
    get_register_or_404,
)
from taizhang.registers.models import RegisterItem
from taizhang.registers.permissions import acting_for
from taizhang.registers.present import field_rows, field_text, history
from taizhang.registers.queries import EXPORT_LIMIT, PAGE_SIZE, parse_filter
from taizhang.registers.queries import item_list as items_for
from taizhang.registers.references import cases_about, names_item

from ..basemap import to_map
from ..pages import list_or_results, refused_page
from ..presenters import case_rows
from .export import export_workbook
from .forms import attribute_inputs, errors_by_input, field_inputs, parse_item


def point(lat, lon, label: str, url: str) -> dict:
    """A marker in the basemap's coordinates; the label is user text, drawn as a text node."""
    y, x = to_map(float(lat), float(lon))
    return {"lat": y, "lon": x, "label": label, "url": url}


def map_config(points: list[dict]) -> dict:
    return {
        "points": points,
        "tiles": settings.TAIZHANG_MAP_TILES or "",
        "attribution": settings.TAIZHANG_MAP_ATTRIBUTION or "",
    }


def register_or_refusal(request, code):
    try:
        return get_register_or_404(code), None
    except ActionError as exc:
        return None, refused_page(request, _("台账"), exc)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Every register with the number of its items the person sees (one query)."""
    request.nav_active = "registers"
    counts = dict(
        RegisterItem.objects.for_user(request.user).values_list("register").annotate(n=Count("id")).order_by()
    )
    registers = [(r, counts.get(r.code, 0)) for r in get_registry().registers.values()]
    return render(request, "web/registers/index.html", {"registers": registers})


def list_context(request, reg):
    f = parse_filter(reg, request.GET)
    qs = items_for(request.user, reg, f)
    divisions, units = visible_nodes(request.user)
    filters = [(reg.fields[n], f.fields.get(n, "")) for n in reg.definition.filters]
    return (
        f,
        qs,
        {
            "reg": reg,
            "filter": f,
            "filters": filters,
            "divisions": divisions.values_list("code", "name"),
            "units": units.values_list("code", "name"),
            "query": request.GET.urlencode(),
        },
    )


@login_required
def item_list(request: HttpRequest, code: str) -> HttpResponse:
    """The register's items the person sees, filtered (every filter in the URL), 25 a page."""
    request.nav_active = "registers"
    reg, refusal = register_or_refusal(request, code)
    if refusal:
        return refusal
    f, qs, context = list_context(request, reg)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    columns = reg.definition.columns
    rows = [
        (
            i,
            reg.category_name(i.category) if i.category else "",
            [field_text(reg, n, (i.data or {}).get(n)) for n in columns],
        )
        for i in page.object_list
    ]
    creators = {spec.partition("@")[0] for spec in reg.definition.actions.create}
    may_create = bool(staff_roles(request.user) & creators)
    context.update(
        page=page,
        rows=rows,
        columns=[reg.fields[n].label for n in columns],
        may_create=may_create,
        base_qs=request.GET.copy().urlencode(),
    )
    return list_or_results(request, "registers", context, status=400 if f.errors else 200)


@login_required
def export(request: HttpRequest, code: str) -> HttpResponse:
    """The filtered list as .xlsx: text cells only (taizhang.spreadsheet), personal fields redacted."""
    reg, refusal = register_or_refusal(request, code)
    if refusal:
        return refusal
    f, qs, _context = list_context(request, reg)
    total = qs.count()
    if f.errors or total > EXPORT_LIMIT:
        exc = ActionError(
            "too_many" if not f.errors else "invalid", _("筛选条件有误或条目过多，请缩小范围"), 400
        )
        return refused_page(request, _("导出失败"), exc)
    now = clock_now()
    return FileResponse(
        export_workbook(reg, qs), as_attachment=True, filename=f"{reg.code}-{now:%Y%m%d-%H%M}.xlsx"
    )


@login_required
def item_map(request: HttpRequest, code: str) -> HttpResponse:
    """The filtered items with coordinates on a map (Leaflet from our static files, tooltips as text)."""
    request.nav_active = "registers"
    reg, refusal = register_or_refusal(request, code)
    if refusal:
        return refusal
    f, qs, context = list_context(request, reg)
    rows = qs.exclude(lat=None).values_list("number", "name", "lat", "lon")[:2000]
    points = [
        point(lat, lon, f"{n} {name}", reverse("registers:item", args=[n])) for n, name, lat, lon in rows
    ]
    context["map"] = map_config(points)
    return render(request, "web/registers/map.html", context, status=400 if f.errors else 200)


@login_required
def new_item(request: HttpRequest, code: str) -> HttpResponse:
    """建档: the form, and on POST the create action (its refusal shown in place, the input kept)."""
    request.nav_active = "registers"
    reg, refusal = register_or_refusal(request, code)
    if refusal:
        return refusal
    names = [f.name for f in reg.definition.fields]
    error = None
    if request.method == "POST":
        try:
            item = do_create_item(request.user, reg.code, parse_item(reg, request.POST, names))
            return redirect("registers:item", number=item.number)
        except ActionError as exc:
            error = exc
    errors = errors_by_input(error)
    values = (request.POST and {n: request.POST.get("field-" + n) for n in names}) or {}
    context = {
        "reg": reg,
        "error": error,
        "attributes": attribute_inputs(reg, None, request.POST if request.method == "POST" else None, errors),
        "inputs": field_inputs(reg, names, values, errors, "n"),
    }
    return render(request, "web/registers/new.html", context, status=error.status if error else 200)


def about_rows(user, item) -> dict:
    """The cases about the item (`cases`) and those that named it once and name another item today
    (`former_cases`), as case-table rows."""
    cases = list(cases_about(user, item))
    rows = case_rows(cases, clock_now())
    current = [names_item(c, item) for c in cases]
    return {
        "cases": [r for r, now in zip(rows, current, strict=True) if now],
        "former_cases": [r for r, now in zip(rows, current, strict=True) if not now],
    }


def item_context(request, item, error=None, form=""):
    reg = get_register_or_404(item.register)
    errors = errors_by_input(error)
    post = request.POST if request.method == "POST" else None
    change_names = [f.name for f in reg.definition.fields if f.name not in reg.assessed]
    values = item.data or {}
    if post is not None:
        shown = set(post.getlist("shown"))  # a shown box left unticked is unticked again
        values = {
            **values,
            **{n: post.get("field-" + n) for n in reg.fields if "field-" + n in shown | set(post)},
        }
    may = {
        a: acting_for(request.user, reg, a, item.division, item.unit) is not None
        for a in ("change", "assess")
    }
    return {
        "reg": reg,
        "item": item,
        "category_name": reg.category_name(item.category) if item.category else "",
        "fields": field_rows(reg, item),
        "history": history(reg, item),
        **about_rows(request.user, item),
        "may_change": may["change"],
        "may_assess": may["assess"] and reg.definition.assessment is not None,
        "error": error,
        "form": form,
        "attributes": attribute_inputs(reg, item, post if form == "change" else None, errors),
        "change_inputs": field_inputs(reg, change_names, values, errors, "c"),
        "assess_inputs": field_inputs(
            reg, sorted(reg.assessed, key=list(reg.fields).index), values, errors, "a"
        ),
        "map": map_config([point(item.lat, item.lon, item.name, "")]) if item.lat is not None else None,
    }


@login_required
def item_page(request: HttpRequest, number: str) -> HttpResponse:
    """The item: its fields, the map, every history row, the cases about it over time, its forms."""
    request.nav_active = "registers"
    try:
        item = get_item(request.user, number)
    except ActionError as exc:
        return refused_page(request, _("台账条目"), exc)
    return render(request, "web/registers/item.html", item_context(request, item))


def act(request: HttpRequest, number: str, form: str, run) -> HttpResponse:
    request.nav_active = "registers"
    try:
        item = get_item(request.user, number)
    except ActionError as exc:
        return refused_page(request, _("台账条目"), exc)
    reg = get_register_or_404(item.register)
    try:
        run(reg, item)
    except ActionError as exc:
        item = RegisterItem.objects.select_related("division", "unit").get(pk=item.pk)
        return render(
            request, "web/registers/item.html", item_context(request, item, exc, form), status=exc.status
        )
    return redirect("registers:item", number=number)


@login_required
@require_POST
def change(request: HttpRequest, number: str) -> HttpResponse:
    def run(reg, item):
        names = [f.name for f in reg.definition.fields if f.name not in reg.assessed]
        do_change_item(request.user, number, parse_item(reg, request.POST, names, item))

    return act(request, number, "change", run)


@login_required
@require_POST
def assess(request: HttpRequest, number: str) -> HttpResponse:
    def run(reg, item):
        data = parse_item(reg, request.POST, sorted(reg.assessed), item)
        version = data.version
        do_assess_item(request.user, number, data.fields, data.opinion, version)

    return act(request, number, "assess", run)
