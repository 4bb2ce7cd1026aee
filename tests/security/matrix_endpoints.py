"""Every endpoint of the platform, listed from the URL resolver and the API's router, with the kind of
check the permission matrix gives it. A new endpoint is not in KINDS: test_every_endpoint_has_a_kind fails
until somebody says what it shows or does (and so which rule of the matrix applies to it).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

# What an endpoint is, for the matrix:
CASE_READ = "case_read"  # shows one case: 200 to whoever sees it, 404 (never 403) to anyone else
CASE_ACT = "case_act"  # takes a transition on a case: 404 / 409 / 403 role_not_allowed as the data says
CASE_DECIDE = "case_decide"  # decides a case's pending request: as the approval's role specs say
CASE_LINK = "case_link"  # 关联 by hand: 404 unless both cases are seen, 403 without a staff role on the first
CASE_LIST = "case_list"  # lists cases: exactly the visible ones
OWN_CASE = "own_case"  # a resident's own case (门户「我的」): the reporter only, 404 for anyone else
SCOPED = "scoped"  # a page or figure over cases (dashboard, KPI …): signed in; never names a case not seen
PUBLIC_CASE = "public_case"  # the public record of one case: the same for everyone, by the public rule
PUBLIC_LIST = "public_list"  # public records: never a case the mechanism keeps back from the public
ATTACHMENT = "attachment"  # a file: whoever sees the case (public rows only for a resident reporter)
# Not case-scoped (no case in the request or the answer), each with the tests that cover it instead.
NO_CASE = "no_case"
# Registers (台账): items, not cases; tests/registers/test_endpoints.py asks every persona of each kind.
REGISTER_LIST = "register_list"  # lists a register's items: exactly the visible ones
REGISTER_READ = "register_read"  # shows one item: 200 to whoever sees it, 404 (never 403) to anyone else
REGISTER_ACT = "register_act"  # creates, changes or re-assesses: 404 unseen, 403 role_not_allowed, else done

KINDS: dict[str, str] = {
    # JSON API (django-ninja), "METHOD /path" as the router declares it.
    "GET /api/v1/mechanisms": SCOPED,
    "POST /api/v1/cases": NO_CASE,  # 上报: tests/api/test_create.py and the intake rules
    "GET /api/v1/cases": CASE_LIST,
    "GET /api/v1/cases/{ref}": CASE_READ,
    "POST /api/v1/cases/{ref}/transitions": CASE_ACT,
    "POST /api/v1/cases/{ref}/decision": CASE_DECIDE,
    "POST /api/v1/cases/{ref}/links": CASE_LINK,
    "POST /api/v1/attachments": NO_CASE,  # an upload belongs to its uploader: tests/security/test_upload_quotas.py
    "GET /api/v1/attachments/{attachment_id}": ATTACHMENT,
    "GET /api/v1/kpis": SCOPED,
    "GET /api/v1/kpis.xlsx": SCOPED,
    "GET /api/v1/cases/{ref}/notices": CASE_READ,
    "GET /api/v1/cases/{ref}/notices/{kind}": CASE_READ,
    "GET /api/v1/cases/{ref}/similar": CASE_READ,
    "POST /api/v1/cases/{ref}/metoo": PUBLIC_CASE,  # residents on the public ledger: tests/security/test_metoo_privacy.py
    "GET /api/v1/hotspots": SCOPED,
    "GET /api/v1/replies/quality": SCOPED,
    "GET /api/v1/registers": SCOPED,  # the registers' definitions, no item
    "GET /api/v1/registers/{code}/items": REGISTER_LIST,
    "POST /api/v1/registers/{code}/items": REGISTER_ACT,
    "GET /api/v1/register-items/{number}": REGISTER_READ,
    "POST /api/v1/register-items/{number}/changes": REGISTER_ACT,
    "POST /api/v1/register-items/{number}/assessments": REGISTER_ACT,
    "api/v1/openapi.json": NO_CASE,
    "api/v1/docs": NO_CASE,
    "api/v1/": NO_CASE,
    # Pages.
    "": PUBLIC_LIST,  # visitors: the public front page; signed in: a redirect to 工作台 or 门户
    "workbench/": SCOPED,
    "login/": NO_CASE,
    "logout/": NO_CASE,
    "i18n/setlang/": NO_CASE,
    "cases/": CASE_LIST,
    "cases/export.xlsx": CASE_LIST,
    "cases/<str:ref>/": CASE_READ,
    "cases/<str:ref>/act/": CASE_ACT,
    "cases/<str:ref>/decide/": CASE_DECIDE,
    "cases/<str:ref>/links/": CASE_LINK,
    "report/new/": SCOPED,
    "report/photo/": NO_CASE,  # an upload: tests/web/test_report.py
    "report/sent/<str:number>/": CASE_READ,
    "portal/": PUBLIC_LIST,
    "portal/new/": NO_CASE,  # a resident's report form: tests/web/test_portal.py
    "portal/submitted/": NO_CASE,
    "portal/track/": NO_CASE,  # by tracking code (a secret the reporter holds): tests/web/test_portal.py
    "portal/rate/": NO_CASE,  # by tracking code or own case: tests/web/test_portal.py
    "portal/mine/<str:number>/": OWN_CASE,
    "portal/ledger/": PUBLIC_LIST,
    "portal/ledger/<str:number>/": PUBLIC_CASE,
    "portal/ledger/<str:number>/metoo/": PUBLIC_CASE,
    "dashboard/": SCOPED,
    "dashboard/outlines.geojson": SCOPED,
    "replies/": SCOPED,
    "hotspots/": SCOPED,
    "mechanisms/": SCOPED,
    "mechanisms/<slug:code>/": SCOPED,
    "reports/monthly/": SCOPED,
    "reports/monthly.pdf": SCOPED,
    "reports/monthly.xlsx": SCOPED,
    "registers/": SCOPED,  # the registers with the number of items the person sees
    "registers/<slug:code>/": REGISTER_LIST,
    "registers/<slug:code>/export.xlsx": REGISTER_LIST,
    "registers/<slug:code>/map/": REGISTER_LIST,
    "registers/<slug:code>/new/": REGISTER_ACT,
    "registers/items/<str:number>/": REGISTER_READ,
    "registers/items/<str:number>/change/": REGISTER_ACT,
    "registers/items/<str:number>/assess/": REGISTER_ACT,
    # Open311 GeoReport v2.
    "open311/v2/^discovery\\.(?P<fmt>xml|json)$": NO_CASE,
    "open311/v2/^services\\.(?P<fmt>xml|json)$": NO_CASE,
    "open311/v2/^services/(?P<code>[\\w.-]+?)\\.(?P<fmt>xml|json)$": NO_CASE,
    "open311/v2/^requests\\.(?P<fmt>xml|json)$": PUBLIC_LIST,  # POST: by API key, tests/security/test_open311_keys.py
    "open311/v2/^requests/(?P<ref>[\\w.-]+?)\\.(?P<fmt>xml|json)$": PUBLIC_CASE,
    "open311/v2/^tokens/(?P<token>[\\w-]+)\\.(?P<fmt>xml|json)$": NO_CASE,  # a number for a POST's token
    "open311/v2/^servicerequestupdates\\.(?P<fmt>xml|json)$": PUBLIC_LIST,
    "open311/v2/^(?P<rest>(?s:.*))$": NO_CASE,  # 404 for any other path
}

# Django's admin is staff-only and lists every model: it is no case endpoint of the platform.
SKIPPED_PREFIXES = ("admin/",)


def api_operations() -> set[str]:
    """ "METHOD /api/v1/path" of every operation of the JSON API."""
    from taizhang.web.api.api import api

    out = set()
    for _prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                out |= {f"{method} /api/v1{path}" for method in operation.methods}
    return out


def is_api_operation(pattern: URLPattern) -> bool:
    """Whether a URL pattern is one of the API's paths (listed by `api_operations`, with their methods)."""
    return getattr(pattern.callback, "__qualname__", "").startswith("PathView.")


def url_routes() -> set[str]:
    """Every route of the URL resolver but the API's operations (they stand for their own routes)."""
    out: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and not is_api_operation(p):
                out.add(route)

    walk(get_resolver().url_patterns, "")
    return out


def all_endpoints() -> set[str]:
    return api_operations() | url_routes()


def of_kind(kind: str) -> list[str]:
    return sorted(key for key, value in KINDS.items() if value == kind)
