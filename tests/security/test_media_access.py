"""Attachments only for those who may see their case (issue #12).

Every download goes through the checked view (`/api/v1/attachments/{id}`): no URL under MEDIA_URL serves
the files, not even when debugging; outsiders, residents and other units get 404 by id and by guessed
path, while the grid worker who reported it, the handler and the leader get it. Responses carry a safe
content type, Content-Disposition and nosniff, in each serving mode (plain, X-Accel-Redirect, X-Sendfile,
a signed URL for remote storage).
"""

from __future__ import annotations

import importlib.util
import io
import sys

import pytest
from django.core.files.storage import FileSystemStorage
from django.test import override_settings
from django.urls import clear_url_caches
from PIL import Image

import taizhang.urls
from taizhang.cases.attachments import do_upload_attachment
from taizhang.cases.models import Attachment
from tests.cases.helpers import act, report, to_rectifying

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def jpeg_bytes(color=(200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, "JPEG")
    return buf.getvalue()


def upload(user, name: str, data: bytes) -> Attachment:
    return do_upload_attachment(user, name, io.BytesIO(data), len(data))


@pytest.fixture
def reported(world):
    """A hazard the grid worker reported with a photo, assigned to the handler's bureau: (case, photo)."""
    content = jpeg_bytes()
    photo = upload(world.grid_worker, "现场.jpg", content)
    case = report(world, attachments=[photo.pk])
    to_rectifying(world, case)
    photo.refresh_from_db()
    return case, photo, content


def download(client, user, attachment_id: int):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.get(f"/api/v1/attachments/{attachment_id}")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("grid_worker", 200),
        ("handler", 200),
        ("leader", 200),
        ("outsider", 404),
        ("resident", 404),
        ("other_handler", 404),
        ("enterprise_officer", 404),
    ],
)
def test_by_id_only_those_who_see_the_case(client, world, reported, persona, status):
    _case, photo, content = reported
    response = download(client, getattr(world, persona), photo.pk)
    assert response.status_code == status
    if status == 200:
        assert body_of(response) == content
    else:
        assert response.json()["code"] == "not_found"


def test_anonymous_visitors_get_no_file(client, reported):
    _case, photo, _content = reported
    assert download(client, None, photo.pk).status_code == 401


def test_an_unused_upload_is_its_uploaders_alone(client, world):
    photo = upload(world.handler, "待用.jpg", jpeg_bytes())
    assert download(client, world.handler, photo.pk).status_code == 200
    for persona in ("leader", "verifier", "grid_worker", "outsider"):
        assert download(client, getattr(world, persona), photo.pk).status_code == 404, persona


def test_a_resident_reporter_sees_the_photos_of_public_rows_only(client, world):
    mine = upload(world.resident, "我拍的.jpg", jpeg_bytes((1, 2, 3)))
    case = report(
        world, world.resident, title="小区车库电动车充电", category="electrical", attachments=[mine.pk]
    )
    to_rectifying(world, case)
    internal = upload(world.inspector, "监督.jpg", jpeg_bytes((4, 5, 6)))
    act(world.inspector, case, "flag", opinion="整改拖延", attachments=[internal.pk])  # not a public row
    assert download(client, world.resident, mine.pk).status_code == 200
    assert download(client, world.resident, internal.pk).status_code == 404
    assert download(client, world.handler, internal.pk).status_code == 200


def debug_urlconf():
    """taizhang.urls as a server started with TAIZHANG_DEBUG=1 builds it."""
    spec = importlib.util.spec_from_file_location("taizhang_urls_debug", taizhang.urls.__file__)
    module = importlib.util.module_from_spec(spec)
    with override_settings(DEBUG=True):
        spec.loader.exec_module(module)
    sys.modules.pop("taizhang_urls_debug", None)
    return module


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("persona", ["outsider", "resident", "other_handler", "grid_worker", None])
def test_no_plain_url_reaches_the_files(client, world, settings, reported, debug, persona):
    _case, photo, _content = reported
    if debug:
        settings.ROOT_URLCONF = debug_urlconf()
        clear_url_caches()
    try:
        if persona is not None:
            client.force_login(getattr(world, persona))
        name = photo.file.name
        assert (settings.MEDIA_ROOT / name).is_file()
        for url in (f"/media/{name}", f"/{settings.MEDIA_URL.strip('/')}/{name}", f"/protected/{name}"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert body_of(response) != _content
    finally:
        clear_url_caches()


# ---- what a download looks like ---------------------------------------------------------------------


def test_headers_of_an_image_and_a_pdf(client, world):
    photo = upload(world.handler, "现场照片.jpg", jpeg_bytes())
    response = download(client, world.handler, photo.pk)
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline; filename*=utf-8''")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("private")
    pdf = upload(world.handler, "整改报告.pdf", PDF)
    response = download(client, world.handler, pdf.pk)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")  # never rendered in our origin
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("stored_as", ["text/html", "image/svg+xml", "text/html; charset=utf-8", ""])
def test_a_row_with_an_unsafe_type_is_sent_as_an_opaque_download(client, world, stored_as):
    """Rows not made by the upload check (older data, an import) are never served as markup."""
    photo = upload(world.handler, "page.jpg", jpeg_bytes())
    Attachment.objects.filter(pk=photo.pk).update(content_type=stored_as, original_name="x.html")
    response = download(client, world.handler, photo.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_nginx_x_accel_redirect_after_the_check(client, world, settings, reported):
    settings.TAIZHANG_MEDIA_ACCEL_REDIRECT = "/protected/"
    _case, photo, _content = reported
    response = download(client, world.handler, photo.pk)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected/{photo.file.name}"
    assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline;")
    refused = download(client, world.outsider, photo.pk)
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused


def test_x_sendfile_after_the_check(client, world, settings, reported):
    settings.TAIZHANG_MEDIA_SENDFILE = True
    _case, photo, _content = reported
    response = download(client, world.leader, photo.pk)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Sendfile"] == str(settings.MEDIA_ROOT / photo.file.name)
    refused = download(client, world.other_handler, photo.pk)
    assert refused.status_code == 404 and "X-Sendfile" not in refused


class SigningStorage(FileSystemStorage):
    """A test storage with no local paths whose URLs say what was asked: how the S3 backend is called
    (django-storages' S3Storage.url(name, parameters, expire) signs such a URL)."""

    def path(self, name):
        raise NotImplementedError("remote storage")

    def url(self, name, parameters=None, expire=None):
        extra = "&".join(f"{k}={v}" for k, v in sorted((parameters or {}).items()))
        return f"https://bucket.example/{name}?expires={expire}&{extra}"


def test_remote_storage_redirects_to_a_short_lived_url_after_the_check(client, world, settings, reported):
    settings.TAIZHANG_MEDIA_SIGNED_URL_SECONDS = 45
    _case, photo, _content = reported
    storage = SigningStorage(location=settings.MEDIA_ROOT)
    field = Attachment._meta.get_field("file")
    original = field.storage
    field.storage = storage
    try:
        response = download(client, world.grid_worker, photo.pk)
        assert response.status_code == 302
        location = response["Location"]
        assert location.startswith(f"https://bucket.example/{photo.file.name}?expires=45&")
        assert (
            "ResponseContentType=image/jpeg" in location and "ResponseContentDisposition=inline;" in location
        )
        assert response["Cache-Control"] == "no-store"
        refused = download(client, world.outsider, photo.pk)
        assert refused.status_code == 404 and "Location" not in refused
    finally:
        field.storage = original
