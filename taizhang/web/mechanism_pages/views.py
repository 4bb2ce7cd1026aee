"""Read-only pages of the mechanisms: the list, and per mechanism its diagram and rules."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from taizhang.mechanisms.registry import get_registry
from taizhang.org.models import Division

from .describe import pack_rows, state_rows, supervision_rows, transition_rows
from .diagram import build_diagram


@login_required
def mechanism_list(request: HttpRequest) -> HttpResponse:
    """Every loaded mechanism with its size and a link to its diagram."""
    request.nav_active = "mechanisms"
    mechanisms = [
        {
            "code": m.code,
            "name": m.name,
            "version": m.definition.version,
            "description": m.definition.description,
            "file": m.file,
            "states": len(m.definition.states),
            "transitions": len(m.definition.transitions),
            "packs": sum(1 for p in m.packs if m.code in p.mechanisms),
        }
        for m in get_registry().mechanisms.values()
    ]
    return render(request, "web/mechanisms/list.html", {"mechanisms": mechanisms})


@login_required
def mechanism_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The states and transitions drawn, then who may do what, with what, and in how long."""
    mech = get_registry().mechanisms.get(code)
    if mech is None:
        raise Http404("没有这个机制")
    request.nav_active = "mechanisms"
    codes = {c for p in mech.packs for c in p.divisions}
    names = dict(Division.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    context = {
        "mech": mech,
        "diagram": build_diagram(mech),
        "states": state_rows(mech),
        "transitions": transition_rows(mech),
        "supervision": supervision_rows(mech, mech.definition.supervision),
        "packs": pack_rows(mech, names),
        "categories": mech.definition.categories,
        "grades": mech.definition.grades,
        "channels": mech.definition.channels,
    }
    return render(request, "web/mechanisms/detail.html", context)
