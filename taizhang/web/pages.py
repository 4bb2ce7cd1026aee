"""What several pages share: the page that says why a person may not have one, and the list pages whose
results block htmx swaps alone."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from taizhang.errors import ActionError


def refused_page(
    request: HttpRequest, title: str, exc: ActionError, links: list[tuple[str, str]] | None = None
) -> HttpResponse:
    """The refusal as a page: the title, the error's Chinese message and stable code, ways on."""
    links = links if links is not None else [(reverse("home"), _("返回首页"))]
    return render(
        request, "web/refused.html", {"title": title, "error": exc, "links": links}, status=exc.status
    )


def list_or_results(request: HttpRequest, folder: str, context: dict, status: int = 200) -> HttpResponse:
    """`web/<folder>/list.html`, or only `results.html` when htmx asks to swap the #results block."""
    name = "results" if request.headers.get("HX-Target") == "results" else "list"
    return render(request, f"web/{folder}/{name}.html", context, status=status)


def guarded_page(nav: str, title, check: Callable) -> Callable:
    """A signed-in page under menu item `nav` that `check(user)` must allow: its refusal page otherwise."""

    def wrap(view):
        @login_required
        @wraps(view)
        def page(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            request.nav_active = nav
            try:
                check(request.user)
            except ActionError as exc:
                return refused_page(request, str(title), exc)
            return view(request, *args, **kwargs)

        return page

    return wrap
