"""/metrics: only for the monitoring system; django-prometheus's request metrics and the platform's gauges
(the scheduler's queue and last pass, overdue and unassigned cases, pending approvals)."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families

from tests.cases.helpers import report

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
TOKEN = "metrics-token-0123456789abcdef"


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_metrics_refused_to_other_addresses(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert b"taizhang_" not in response.content


def test_metrics_with_the_bearer_token_from_anywhere(client, settings):
    settings.TAIZHANG_METRICS_TOKEN = TOKEN
    settings.TAIZHANG_METRICS_ALLOW = []
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403  # no address is allowed now
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token-0123456789").status_code == 403
    assert scrape(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def test_metrics_from_an_allowed_network(client, settings):
    settings.TAIZHANG_METRICS_ALLOW = [ipaddress.ip_network("10.8.0.0/16")]
    assert scrape(client, REMOTE_ADDR="10.8.3.4")
    assert client.get("/metrics", REMOTE_ADDR="10.9.3.4").status_code == 403


def test_request_metrics_by_view_and_status(client):
    client.get("/portal/")
    samples = scrape(client)
    views = {
        dict(labels).get("view") for (name, labels) in samples if name.startswith("django_http_responses")
    }
    assert "portal:home" in views
    assert any(
        name.startswith("django_db_execute") for name, _ in samples
    )  # the database wrapper counts queries


def test_platform_gauges_follow_the_scheduler_queue_and_deadlines(world, client):
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=TZ), tick=False):
        case = report(world)  # 上报: a deadline to 立案, and timers before and after it
        before = scrape(client)
    assert case.due_at is not None
    assert before[("taizhang_worker_due_cases", (("mechanism", "hazard"),))] == 0
    assert before[("taizhang_cases_overdue", (("mechanism", "hazard"),))] == 0
    assert before[("taizhang_cases_unassigned", (("mechanism", "hazard"),))] == 1
    assert before[("taizhang_cases_overdue", (("mechanism", "demand"),))] == 0  # every mechanism has a series
    assert before[("taizhang_worker_last_pass_timestamp_seconds", ())] == 0

    late = datetime(2026, 3, 25, 9, 0, tzinfo=TZ)
    with time_machine.travel(late, tick=False):
        waiting = scrape(client)
        assert waiting[("taizhang_worker_due_cases", (("mechanism", "hazard"),))] == 1
        assert waiting[("taizhang_cases_overdue", (("mechanism", "hazard"),))] == 1
        assert waiting[("taizhang_worker_due_lag_seconds", ())] > 24 * 3600
        call_command("worker", "--once")
        done = scrape(client)
    assert done[("taizhang_worker_due_cases", (("mechanism", "hazard"),))] == 0
    assert done[("taizhang_worker_due_lag_seconds", ())] == 0
    assert done[("taizhang_cases_overdue", (("mechanism", "hazard"),))] == 1  # still late: nobody acted
    assert done[("taizhang_worker_last_pass_timestamp_seconds", ())] == late.timestamp()


def test_pending_approvals_are_counted(world, client):
    import time_machine

    from tests.cases.helpers import act, at, to_rectifying

    # A fixed day: the extension cap is laid out on the working-day calendar, whose next year may be unknown.
    with time_machine.travel(at(2026, 3, 10, 9, 30), tick=False):
        case = to_rectifying(world, report(world))
        act(world.handler, case, "extend", opinion="需采购配件", params={"extend_by": "3 工作日"})
    samples = scrape(client)
    assert samples[("taizhang_approvals_pending", (("mechanism", "hazard"),))] == 1
