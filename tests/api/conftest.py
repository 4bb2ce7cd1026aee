"""API test helpers: one bearer-token client per persona, a frozen working-day clock, file makers."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import time_machine
from django.test import Client
from PIL import Image

# A working Tuesday of 2026 in Beijing time (the holiday calendar only knows years up to 2026).
CST = timezone(timedelta(hours=8))
FROZEN_AT = datetime(2026, 11, 24, 10, 0, tzinfo=CST)

PERSONAS = (
    "grid_worker",
    "dispatcher",
    "handler",
    "verifier",
    "leader",
    "inspector",
    "resident",
    "outsider",
    "enterprise_officer",
    "other_handler",
)


class ApiClient:
    """A Django test client that speaks JSON to /api/v1 with an optional bearer token."""

    base = "/api/v1"

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.token = token
        self.client = client or Client()

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {}
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        for name, value in (extra or {}).items():
            headers["HTTP_" + name.upper().replace("-", "_")] = value
        return headers

    def url(self, path: str) -> str:
        return path if path.startswith(self.base) else self.base + path

    def get(self, path: str, params: Any = None, **headers):
        return self.client.get(self.url(path), params or {}, **self._headers(headers))

    def post(self, path: str, body: Any = None, *, raw: str | bytes | None = None, headers=None):
        data = raw if raw is not None else json.dumps(body if body is not None else {}, ensure_ascii=False)
        return self.client.post(
            self.url(path), data, content_type="application/json", **self._headers(headers)
        )

    def upload(self, name: str, content: bytes, content_type: str = "application/octet-stream"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        file = SimpleUploadedFile(name, content, content_type=content_type)
        return self.client.post(self.url("/attachments"), {"file": file}, **self._headers())

    # Shortcuts used across the API tests.
    def transition(self, ref: str, code: str, **body):
        body.setdefault("opinion", "同意")
        return self.post(f"/cases/{ref}/transitions", {"code": code, **body})

    def create(self, world, key: str | None = None, **overrides):
        body = case_body(world, **overrides)
        return self.post("/cases", body, headers={"Idempotency-Key": key} if key else None)


def case_body(world, **overrides) -> dict[str, Any]:
    body = {
        "mechanism": "hazard",
        "title": "楼道堆放杂物堵塞消防通道",
        "division": world.grid.code,
        "category": "fire",
        "grade": "general",
        "address": "和心社区3号楼2单元",
    }
    body.update(overrides)
    return body


@pytest.fixture
def frozen():
    """Freeze the clock at 2026-11-24 10:00 +08:00; `frozen.move_to(...)` moves it."""
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tokens(world) -> dict[str, str]:
    from taizhang.web.api.auth import issue_token

    return {name: issue_token(getattr(world, name), f"测试 {name}") for name in PERSONAS}


@pytest.fixture
def api(world, tokens) -> dict[str, ApiClient]:
    """persona name -> client authenticated with that persona's bearer token; "anon" has none."""
    clients = {name: ApiClient(token) for name, token in tokens.items()}
    clients["anon"] = ApiClient()
    return clients


def image_bytes(fmt: str = "JPEG", size=(8, 8), color=(200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture(autouse=True)
def _frozen_clock(frozen):
    """Every API test runs at the frozen moment, so deadlines and case numbers are predictable."""
    yield frozen


# Cases of the permission scenario: where each one is and what state it is in.
SCENARIO = {
    "reported": "网格员上报、未立案（和心社区第一网格）",
    "registered": "已立案、未交办（和心社区第一网格）",
    "assigned": "已交办应急管理局、待签收（和心社区第一网格）",
    "rectifying": "应急管理局已签收、整改中（和心社区第一网格）",
    "resident": "居民上报、未立案（和心社区第一网格）",
    "elsewhere": "另一网格员上报、未立案（白兔村第一网格）",
    "enterprise": "企业安全员自查上报、未立案（白兔村第一网格）",
}


def build_case(world, key: str):
    """One case of the scenario, built through the actions layer."""
    from tests.cases.helpers import act, report, to_rectifying

    if key == "reported":
        return report(world, title="楼道堆放杂物（未立案）")
    if key == "resident":
        return report(world, world.resident, title="小区车库电动车充电", category="electrical")
    if key == "elsewhere":
        return report(
            world, world.outsider, title="村道边废弃液化气罐", division=world.other_grid.code, category="gas"
        )
    if key == "enterprise":
        return report(
            world,
            world.enterprise_officer,
            title="合成车间泄压阀锈蚀",
            division=world.other_grid.code,
            category="hazchem",
        )
    case = report(world, title=f"配电箱无防护（{key}）", category="electrical")
    if key == "registered":
        act(world.dispatcher, case, "register")
    elif key == "assigned":
        act(world.dispatcher, case, "register")
        act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    elif key == "rectifying":
        to_rectifying(world, case)
    else:
        raise KeyError(key)
    return refresh(case)


@pytest.fixture
def scenario(world) -> dict[str, Any]:
    """key -> Case for every case of SCENARIO."""
    return {key: build_case(world, key) for key in SCENARIO}


def refresh(case):
    from taizhang.cases.models import Case

    return Case.objects.get(pk=case.pk)
