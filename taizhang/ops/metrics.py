"""/metrics for Prometheus: django-prometheus's request, latency and database metrics, and the platform's
own gauges, read from the database when scraped.

With several gunicorn workers every process keeps its own counters; prometheus_client's multiprocess
mode (PROMETHEUS_MULTIPROC_DIR, set up by taizhang/gunicorn_conf.py) adds them up, whichever worker
answers the scrape. The platform's gauges are counts in the database, the same from any process:

* taizhang_worker_due_cases{mechanism} — cases whose 催办, 超期 mark or 督办 is due and that the scheduler
  has not processed yet (its queue: `next_timer_at` ≤ now, as taizhang.clock.worker reads it);
* taizhang_worker_due_lag_seconds — how late the oldest of them is (grows when no worker runs);
* taizhang_worker_last_pass_timestamp_seconds — when a scheduler last finished a complete pass;
* taizhang_cases_overdue{mechanism} — open cases past their deadline;
* taizhang_cases_unassigned{mechanism} — open cases no unit has yet (waiting to be dispatched);
* taizhang_approvals_pending{mechanism} — requests (延期, 挂账…) waiting for an approval.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Max, Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from taizhang.clock.now import now as clock_now


def counts(queryset) -> dict[str, int]:
    return dict(queryset.order_by().values("mechanism").annotate(n=Count("id")).values_list("mechanism", "n"))


class PlatformCollector:
    """The platform's gauges (see the module docstring); a few indexed COUNT queries per scrape."""

    def collect(self) -> Iterator[Metric]:
        from taizhang.cases.models import Case
        from taizhang.mechanisms.registry import get_registry

        from .models import WorkerPass

        now = clock_now()
        mechanisms = sorted(get_registry().mechanisms)
        open_cases = Case.objects.exclude(state_kind="closed")
        due = Case.objects.filter(next_timer_at__lte=now)
        families = [
            (
                "taizhang_worker_due_cases",
                "Cases whose reminder, overdue mark or escalation is due but not yet done",
                due,
            ),
            ("taizhang_cases_overdue", "Open cases past their deadline", Case.objects.overdue(now)),
            (
                "taizhang_cases_unassigned",
                "Open cases without a responsible unit",
                open_cases.filter(unit__isnull=True),
            ),
            (
                "taizhang_approvals_pending",
                "Requests waiting for an approval",
                open_cases.filter(pending__isnull=False),
            ),
        ]
        for name, doc, queryset in families:
            family = GaugeMetricFamily(name, doc, labels=["mechanism"])
            found = counts(queryset)
            for code in sorted(set(mechanisms) | set(found)):
                family.add_metric([code], found.get(code, 0))
            yield family
        oldest = due.order_by().aggregate(oldest=Min("next_timer_at"))["oldest"]
        yield GaugeMetricFamily(
            "taizhang_worker_due_lag_seconds",
            "How long the oldest due timer has waited for the scheduler",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )
        last = WorkerPass.objects.aggregate(last=Max("finished_at"))["last"]
        yield GaugeMetricFamily(
            "taizhang_worker_last_pass_timestamp_seconds",
            "When a scheduler (taizhang worker) last finished a complete pass (0: never)",
            value=last.timestamp() if last else 0.0,
        )


def exposition() -> bytes:
    """The text exposition: django-prometheus's metrics (of every worker process) and the platform's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    platform = CollectorRegistry(auto_describe=True)
    platform.register(PlatformCollector())
    return generate_latest(registry) + generate_latest(platform)


def allowed(request: HttpRequest) -> bool:
    """From TAIZHANG_METRICS_ALLOW addresses, or with the bearer token TAIZHANG_METRICS_TOKEN."""
    token = settings.TAIZHANG_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in net for net in settings.TAIZHANG_METRICS_ALLOW)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        body = {
            "code": "forbidden",
            "message": "指标接口仅限监控系统访问（TAIZHANG_METRICS_ALLOW 或 TAIZHANG_METRICS_TOKEN）",
        }
        return JsonResponse(body, status=403, json_dumps_params={"ensure_ascii": False})
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
