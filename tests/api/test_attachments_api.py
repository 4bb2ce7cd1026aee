"""POST /attachments and GET /attachments/{id}: types sniffed from content, size limits, who may download."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image

from taizhang.cases.models import Attachment
from tests.cases.helpers import act, report, to_rectifying

from .conftest import PDF_BYTES, image_bytes


def webp_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 0)).save(buf, "WEBP")
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def bomb_png() -> bytes:
    """A tiny PNG whose header claims 60000 × 60000 pixels."""
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + png_chunk(b"IEND", b"")
    )


def download(client, attachment_id: int):
    response = client.get(f"/attachments/{attachment_id}")
    content = b"".join(response.streaming_content) if response.status_code == 200 else None
    return response, content


# ---------------------------------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    "name,content,declared,sniffed",
    [
        ("现场.jpg", image_bytes("JPEG"), "image/jpeg", "image/jpeg"),
        ("现场.png", image_bytes("PNG"), "image/png", "image/png"),
        ("现场.webp", webp_bytes(), "image/webp", "image/webp"),
        ("整改报告.pdf", PDF_BYTES, "application/pdf", "application/pdf"),
        # The name and the client's Content-Type are ignored: the bytes decide.
        ("photo.jpg", image_bytes("PNG"), "image/jpeg", "image/png"),
        ("scan", PDF_BYTES, "application/octet-stream", "application/pdf"),
    ],
)
def test_upload_accepts_images_and_pdf(api, world, name, content, declared, sniffed):
    response = api["handler"].upload(name, content, declared)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["content_type"] == sniffed and body["name"] == name
    assert body["size"] == len(content) and body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["url"] == f"/api/v1/attachments/{body['id']}"
    stored = Attachment.objects.get(pk=body["id"])
    assert stored.uploaded_by == world.handler and stored.case is None and stored.transition is None
    assert stored.file.name.endswith(
        "."
        + {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}[sniffed]
    )


# ---------------------------------------------------------------------------------------------- refused


def refused(response, code: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("file", code)]


@pytest.mark.parametrize(
    "name,content",
    [
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),
        ("photo.jpg", "这是一段冒充照片的文字".encode()),
        ("photo.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        ("page.pdf", b"<html><body>not a pdf</body></html>"),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 40),
        ("anim.gif", b"GIF89a" + b"\x00" * 40),
    ],
)
def test_upload_refuses_other_types(api, name, content):
    refused(api["handler"].upload(name, content, "image/jpeg"), "unsupported_type")
    assert Attachment.objects.count() == 0


def test_upload_refuses_files_over_the_limit(api, settings):
    settings.TAIZHANG_MAX_UPLOAD_BYTES = 2048
    big = PDF_BYTES + b"%" + b"x" * 2048
    refused(api["handler"].upload("big.pdf", big), "file_too_large")
    assert api["handler"].upload("small.pdf", PDF_BYTES).status_code == 201
    exact = PDF_BYTES + b"x" * (2048 - len(PDF_BYTES))
    assert api["handler"].upload("exact.pdf", exact).status_code == 201
    refused(api["handler"].upload("one-more.pdf", exact + b"x"), "file_too_large")
    assert Attachment.objects.count() == 2


@pytest.mark.parametrize(
    "name,content",
    [
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x13\x37" * 200),
        ("truncated.jpg", image_bytes("JPEG")[:200]),
        ("truncated.png", image_bytes("PNG", size=(64, 64))[:60]),
        ("garbage.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
    ],
)
def test_upload_refuses_corrupt_images(api, name, content):
    refused(api["handler"].upload(name, content), "corrupt_image")
    assert Attachment.objects.count() == 0


def test_upload_refuses_decompression_bombs(api):
    refused(api["handler"].upload("bomb.png", bomb_png()), "image_too_large")


def test_upload_refuses_empty_files(api):
    refused(api["handler"].upload("empty.jpg", b""), "empty_file")


def test_upload_without_a_file_is_422(api):
    response = api["handler"].client.post(
        "/api/v1/attachments", {}, HTTP_AUTHORIZATION=f"Bearer {api['handler'].token}"
    )
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("file", "missing")]


def test_upload_as_json_is_422(api):
    response = api["handler"].post("/attachments", {"file": "aGVsbG8="})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


# ---------------------------------------------------------------------------------------------- downloading


def test_uploader_may_download_before_use_and_nobody_else(api, world):
    content = image_bytes("JPEG")
    attachment = api["handler"].upload("现场照片.jpg", content, "image/jpeg").json()["id"]
    response, body = download(api["handler"], attachment)
    assert response.status_code == 200 and body == content
    assert response["Content-Type"] == "image/jpeg"
    assert "filename*=utf-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.jpg" in response["Content-Disposition"]
    for persona in ("verifier", "leader", "inspector", "dispatcher", "resident", "other_handler"):
        response, _ = download(api[persona], attachment)
        assert response.status_code == 404, persona


@pytest.mark.parametrize(
    "persona,status",
    [
        ("grid_worker", 200),
        ("dispatcher", 200),
        ("handler", 200),
        ("verifier", 200),
        ("leader", 200),
        ("inspector", 200),
        ("resident", 404),
        ("outsider", 404),
        ("enterprise_officer", 404),
        ("other_handler", 404),
        ("anon", 401),
    ],
)
def test_after_use_only_those_who_see_the_case_may_download(api, world, persona, status):
    content = image_bytes("JPEG", color=(1, 2, 3))
    attachment = api["handler"].upload("整改后.jpg", content, "image/jpeg").json()["id"]
    case = report(world)
    to_rectifying(world, case)
    response = api["handler"].transition(case.number, "rectified", attachments=[attachment], opinion="已整改")
    assert response.status_code == 200, response.json()
    assert response.json()["history"][-1]["attachments"][0]["id"] == attachment
    response, body = download(api[persona], attachment)
    assert response.status_code == status
    if status == 200:
        assert body == content


def test_photos_of_a_report_follow_the_case(api, world):
    """A resident's photo on their report: the resident and the grid's staff see it, other grids do not."""
    content = image_bytes("PNG")
    attachment = api["resident"].upload("现场.png", content, "image/png").json()["id"]
    created = api["resident"].create(world, attachments=[attachment])
    assert created.status_code == 201, created.json()
    for persona, status in {
        "resident": 200,
        "grid_worker": 200,
        "dispatcher": 200,
        "leader": 200,
        "handler": 404,
        "outsider": 404,
    }.items():
        assert download(api[persona], attachment)[0].status_code == status, persona


def test_photo_stays_with_the_case_and_follows_its_parties(api, world, photo):
    """Once used, a file is read by who may see the case: the unit that handed the case back keeps
    sight as an earlier lead (nobody loses sight), a unit that never was a party does not."""
    case = report(world)
    act(world.dispatcher, case, "register")
    act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
    shot = api["handler"].upload("退回说明.pdf", PDF_BYTES).json()["id"]
    assert api["handler"].transition(case.number, "return", attachments=[shot]).status_code == 200
    assert download(api["handler"], shot)[0].status_code == 200
    assert download(api["dispatcher"], shot)[0].status_code == 200
    assert download(api["outsider"], shot)[0].status_code == 404


def test_unknown_attachment_is_404_like_a_hidden_one(api, world):
    hidden = api["handler"].upload("x.pdf", PDF_BYTES).json()["id"]
    for ref in (hidden, 999999, 99999999999999999999):
        response = api["leader"].get(f"/attachments/{ref}")
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "找不到该附件或无权查看"}
    assert api["leader"].get("/attachments/abc").status_code == 422


def test_a_used_attachment_cannot_be_used_again(api, world):
    shot = api["handler"].upload("x.jpg", image_bytes()).json()["id"]
    case = report(world)
    to_rectifying(world, case)
    assert api["handler"].transition(case.number, "rectified", attachments=[shot]).status_code == 200
    other = report(world)
    to_rectifying(world, other)
    response = api["handler"].transition(other.number, "rectified", attachments=[shot])
    assert response.status_code == 422
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("attachments", "unknown_attachment"),
        ("attachments", "photos_required"),
    }


def test_a_pdf_does_not_count_as_a_photo(api, world):
    pdf = api["handler"].upload("x.pdf", PDF_BYTES).json()["id"]
    case = report(world)
    to_rectifying(world, case)
    response = api["handler"].transition(case.number, "rectified", attachments=[pdf])
    assert response.status_code == 422
    errors = [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert errors == [("attachments", "photos_required")]
