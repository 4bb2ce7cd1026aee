"""Uploads leave nothing behind and stay within their limits (issue #12).

A refused portal form stores no photo, whatever the reason; every form path (portal, 上报, the case
page's action forms, the API) refuses more photos than TAIZHANG_MAX_PHOTOS_PER_FORM and uploads past the
rolling quota per person (or per address for anonymous senders) with a clear error and nothing stored;
the worker removes uploads nobody used after TAIZHANG_UNCLAIMED_UPLOAD_HOURS, file and row, once.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from PIL import Image

from taizhang.cases.attachments import do_upload_attachment, remove_unclaimed
from taizhang.cases.models import Attachment, Case
from taizhang.clock import worker
from taizhang.web.api.auth import issue_token
from tests.cases.helpers import act, at, fresh, report, to_rectifying
from tests.web.test_report import form as report_form  # the 上报 form of the report tests

NOW = at(2026, 11, 2, 9)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def jpeg(name="现场.jpg", color=(200, 40, 40)) -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(buf, "JPEG")
    buf.seek(0)
    buf.name = name
    return buf


def jpegs(n: int) -> list[io.BytesIO]:
    return [jpeg(f"p{i}.jpg", (i * 20 % 256, 40, 40)) for i in range(n)]


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def nothing_stored(settings) -> None:
    assert Attachment.objects.count() == 0
    assert stored_files(settings) == []


def portal_form(world, **kw) -> dict:
    data = {
        "idempotency_key": "p-1",
        "mechanism": "demand",
        "category": "complaint",
        "title": "小区门口路灯不亮",
        "description": "和心社区3号楼前路灯一周不亮",
        "division": world.community.code,
        "address": "和心社区3号楼",
        "field-topic": "路灯",
        "website": "",
    }
    data.update(kw)
    return data


def upload(user, n: int = 1) -> list[int]:
    ids = []
    for f in jpegs(n):
        data = f.getvalue()
        ids.append(do_upload_attachment(user, f.name, io.BytesIO(data), len(data)).pk)
    return ids


# ---- the portal: a refused form keeps no photo --------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "status", "says"),
    [
        ("invalid", 422, "请填写标题"),
        ("unknown_division", 422, "没有编码为"),
        ("honeypot", 400, "提交未被受理"),
        ("rate_limit", 429, "提交过于频繁"),
        ("quota", 429, "上传已达上限"),
        ("too_many_photos", 422, "每次最多上传 2 张照片"),
    ],
)
def test_a_refused_portal_form_stores_no_photo(client, world, settings, reason, status, says):
    settings.TAIZHANG_MAX_PHOTOS_PER_FORM = 2
    form = portal_form(world, photos=jpegs(2))
    if reason == "invalid":
        form["title"] = ""
    elif reason == "unknown_division":
        form["division"] = "NOWHERE"
    elif reason == "honeypot":
        form["website"] = "http://spam.example"
    elif reason == "rate_limit":
        settings.TAIZHANG_PORTAL_MAX_PER_HOUR = 0
    elif reason == "quota":
        settings.TAIZHANG_UPLOAD_QUOTA_COUNT = 1
    else:
        form["photos"] = jpegs(3)
    response = client.post("/portal/new/", form)
    assert response.status_code == status
    body = response.content.decode()
    assert says in body
    nothing_stored(settings)
    assert Case.objects.count() == 0
    if reason not in ("honeypot", "rate_limit"):
        assert "照片没有保存：请改正后重新选择" in body


def test_the_corrected_portal_form_files_the_photos_chosen_again(client, world, settings):
    assert client.post("/portal/new/", portal_form(world, title="", photos=jpegs(2))).status_code == 422
    nothing_stored(settings)
    response = client.post("/portal/new/", portal_form(world, photos=jpegs(2)))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.transitions.get().attachments.count() == 2 == len(stored_files(settings))
    assert set(Attachment.objects.values_list("claimed_at", flat=True)) == {NOW}


def test_portal_quota_counts_per_address_for_anonymous_senders_and_per_person_for_residents(
    client, world, settings, frozen
):
    settings.TAIZHANG_UPLOAD_QUOTA_COUNT = 3
    here, there = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.9"}
    assert client.post("/portal/new/", portal_form(world, photos=jpegs(3)), **here).status_code == 302
    response = client.post("/portal/new/", portal_form(world, idempotency_key="p-2", photos=jpegs(1)), **here)
    assert response.status_code == 429
    body = response.content.decode()
    assert "上传已达上限" in body and "同一网络每 24 小时最多上传 3 个文件、共 500 MB" in body
    assert Attachment.objects.count() == 3 and Case.objects.count() == 1
    # another address, and a signed-in resident at the same address, have quotas of their own
    response = client.post(
        "/portal/new/", portal_form(world, idempotency_key="p-3", photos=jpegs(1)), **there
    )
    assert response.status_code == 302
    client.force_login(world.resident)
    response = client.post("/portal/new/", portal_form(world, idempotency_key="p-4", photos=jpegs(2)), **here)
    assert response.status_code == 302
    assert set(Attachment.objects.filter(uploaded_by=world.resident).values_list("client", flat=True)) == {""}
    client.logout()
    # the window rolls: a day later the first address may send again
    frozen.move_to(NOW + timedelta(hours=24, minutes=1))
    response = client.post("/portal/new/", portal_form(world, idempotency_key="p-5", photos=jpegs(1)), **here)
    assert response.status_code == 302


def test_the_quota_counts_bytes_too(client, world, settings):
    size = len(jpeg().getvalue())
    settings.TAIZHANG_UPLOAD_QUOTA_BYTES = size * 2 + size // 2
    client.force_login(world.grid_worker)
    assert client.post("/report/photo/", {"file": jpeg()}).status_code == 201
    assert client.post("/report/photo/", {"file": jpeg()}).status_code == 201
    response = client.post("/report/photo/", {"file": jpeg()})
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "upload_quota_exceeded" and "上传已达上限" in body["message"]
    assert body["errors"][0]["message"].startswith("每人每 24 小时最多上传 200 个文件")
    assert Attachment.objects.count() == 2


# ---- the API ----------------------------------------------------------------------------------------


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user, 'test')}"}


def test_api_upload_past_the_quota_is_429_and_stores_nothing(client, world, settings):
    settings.TAIZHANG_UPLOAD_QUOTA_COUNT = 2
    auth = bearer(world.handler)
    for f in jpegs(2):
        assert client.post("/api/v1/attachments", {"file": f}, **auth).status_code == 201
    response = client.post("/api/v1/attachments", {"file": jpeg()}, **auth)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "upload_quota_exceeded" and "上传已达上限" in body["message"]
    assert [e["code"] for e in body["errors"]] == ["upload_quota_exceeded"]
    assert Attachment.objects.count() == 2 and len(stored_files(settings)) == 2
    # someone else is not held back by the handler's uploads
    assert client.post("/api/v1/attachments", {"file": jpeg()}, **bearer(world.verifier)).status_code == 201


def test_api_create_and_transition_refuse_too_many_photos(client, world, settings):
    settings.TAIZHANG_MAX_PHOTOS_PER_FORM = 3
    ids = upload(world.grid_worker, 4)
    body = {
        "mechanism": "hazard",
        "title": "楼道堆放杂物",
        "division": world.grid.code,
        "category": "fire",
        "grade": "general",
        "attachments": ids,
    }
    response = client.post(
        "/api/v1/cases", body, content_type="application/json", **bearer(world.grid_worker)
    )
    assert response.status_code == 422
    assert response.json()["code"] == "too_many_photos"
    assert response.json()["errors"][0]["field"] == "attachments"
    assert Case.objects.count() == 0 and not Attachment.objects.filter(transition__isnull=False).exists()
    case = to_rectifying(world, report(world))
    ids = upload(world.handler, 4)
    response = client.post(
        f"/api/v1/cases/{case.number}/transitions",
        {"code": "rectified", "opinion": "已整改", "attachments": ids},
        content_type="application/json",
        **bearer(world.handler),
    )
    assert response.status_code == 422 and response.json()["code"] == "too_many_photos"
    assert fresh(case).state == "rectifying"
    assert act(world.handler, case, "rectified", attachments=ids[:3]).state == "verifying"


# ---- 上报 and the case page -------------------------------------------------------------------------


def test_report_form_refuses_too_many_photos_sent_or_uploaded_ahead(client, world, settings):
    settings.TAIZHANG_MAX_PHOTOS_PER_FORM = 2
    client.force_login(world.grid_worker)
    response = client.post("/report/new/", report_form(world, photos=jpegs(3)), **HX)
    assert response.status_code == 422 and "每次最多上传 2 张照片" in response.content.decode()
    nothing_stored(settings)
    ids = upload(world.grid_worker, 3)
    response = client.post("/report/new/", report_form(world, attachments=ids), **HX)
    assert response.status_code == 422 and "每次最多上传 2 张照片" in response.content.decode()
    assert Case.objects.count() == 0 and not Attachment.objects.filter(transition__isnull=False).exists()


def test_report_form_past_the_quota_stores_nothing(client, world, settings):
    settings.TAIZHANG_UPLOAD_QUOTA_COUNT = 2
    client.force_login(world.grid_worker)
    response = client.post("/report/new/", report_form(world, photos=jpegs(3)))
    assert response.status_code == 429 and "上传已达上限" in response.content.decode()
    nothing_stored(settings)


@pytest.mark.parametrize(
    ("limit", "says", "status"),
    [("photos", "每次最多上传 2 张照片", 422), ("quota", "上传已达上限", 429)],
)
def test_case_page_action_form_past_a_limit_stores_nothing(client, world, settings, limit, says, status):
    settings.TAIZHANG_MAX_PHOTOS_PER_FORM = 2
    if limit == "quota":
        settings.TAIZHANG_UPLOAD_QUOTA_COUNT = 1
    case = to_rectifying(world, report(world))
    client.force_login(world.handler)
    kept = upload(world.handler, 1) if limit == "photos" else []
    data = {
        "code": "rectified",
        "version": fresh(case).version,
        "opinion": "已整改",
        "attachments": kept,
        "photos": jpegs(2),
    }
    response = client.post(
        f"/cases/{case.number}/act/", data, headers={"HX-Request": "true", "HX-Trigger": "action-rectified"}
    )
    assert response.status_code == status
    assert says in response.content.decode()
    assert list(Attachment.objects.values_list("pk", flat=True)) == kept
    assert fresh(case).state == "rectifying"


# ---- the worker removes uploads nobody used -----------------------------------------------------------


def test_worker_removes_unclaimed_uploads_after_the_set_time_once(world, settings, frozen, caplog):
    settings.TAIZHANG_UNCLAIMED_UPLOAD_HOURS = 24
    old = upload(world.handler, 2)
    used = upload(world.handler, 1)
    case = to_rectifying(world, report(world))
    act(world.handler, case, "rectified", attachments=used)
    frozen.move_to(NOW + timedelta(hours=20))
    young = upload(world.grid_worker, 1)
    assert len(stored_files(settings)) == 4
    frozen.move_to(NOW + timedelta(hours=23, minutes=59))
    assert remove_unclaimed() == 0
    frozen.move_to(NOW + timedelta(hours=24, minutes=1))
    with caplog.at_level(logging.INFO, logger="taizhang.uploads"):
        assert worker.sweep_uploads() == 2
    assert sorted(Attachment.objects.values_list("pk", flat=True)) == sorted(used + young)
    assert len(stored_files(settings)) == 2
    removed = [r.getMessage() for r in caplog.records if r.name == "taizhang.uploads"]
    assert len(removed) == 2 and all("removed unclaimed attachment" in m for m in removed)
    assert {m.split()[3] for m in removed} == {str(i) for i in old}
    assert worker.sweep_uploads() == 0  # a second run (or a second worker) finds nothing more
    frozen.move_to(NOW + timedelta(hours=45))
    call_command("worker", "--once", stdout=io.StringIO())
    assert list(Attachment.objects.values_list("pk", flat=True)) == used
    assert fresh(case).transitions.filter(attachments__pk__in=used).exists()


def test_a_file_another_row_still_names_is_kept(world, settings, frozen):
    """S3 storage overwrites same-content names, so two rows can name one file: only the row goes."""
    [used] = upload(world.handler, 1)
    case = to_rectifying(world, report(world))
    act(world.handler, case, "rectified", attachments=[used])
    kept = Attachment.objects.get(pk=used)
    twin = Attachment.objects.create(
        file=kept.file.name,
        original_name="again.jpg",
        content_type=kept.content_type,
        size=kept.size,
        sha256=kept.sha256,
        uploaded_by=world.handler,
        created_at=NOW,
    )
    frozen.move_to(NOW + timedelta(days=2))
    assert remove_unclaimed() == 1
    assert not Attachment.objects.filter(pk=twin.pk).exists()
    assert kept.file.storage.exists(kept.file.name)


# ---- settings are checked at start-up -----------------------------------------------------------------

BAD_SETTINGS = [
    ({"TAIZHANG_UPLOAD_QUOTA_COUNT": "many"}, "TAIZHANG_UPLOAD_QUOTA_COUNT='many'"),
    ({"TAIZHANG_UPLOAD_QUOTA_MB": "5", "TAIZHANG_MAX_UPLOAD_MB": "10"}, "TAIZHANG_UPLOAD_QUOTA_MB='5'"),
    ({"TAIZHANG_UPLOAD_QUOTA_HOURS": "0"}, "TAIZHANG_UPLOAD_QUOTA_HOURS='0': must be at least 1"),
    ({"TAIZHANG_MAX_PHOTOS_PER_FORM": "0"}, "TAIZHANG_MAX_PHOTOS_PER_FORM='0': must be at least 1"),
    ({"TAIZHANG_UNCLAIMED_UPLOAD_HOURS": "-1"}, "TAIZHANG_UNCLAIMED_UPLOAD_HOURS='-1'"),
    ({"TAIZHANG_MEDIA_ACCEL_REDIRECT": "protected"}, "TAIZHANG_MEDIA_ACCEL_REDIRECT='protected'"),
    (
        {"TAIZHANG_MEDIA_ACCEL_REDIRECT": "/protected/", "TAIZHANG_MEDIA_SENDFILE": "1"},
        "TAIZHANG_MEDIA_SENDFILE=1",
    ),
]


@pytest.mark.parametrize(("env", "message"), BAD_SETTINGS)
def test_bad_upload_settings_stop_start_up_naming_them(env, message):
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    proc = subprocess.run(
        [sys.executable, "-m", "taizhang.cli", "check"], env=full, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert message in proc.stderr
