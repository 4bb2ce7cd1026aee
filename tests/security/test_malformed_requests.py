"""Requests that cannot be read — a multipart body without a boundary or cut short, a body too big, too
many fields, a Content-Length that is not a number — are a 400 (413 when too big) in the format of the
part of the site asked: the API's JSON error, Open311's error list, a page. Never a 500, and never
Django's bare English 400 page (taizhang.web.malformed).
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from taizhang.web.api.auth import issue_token

API_UPLOAD = "/api/v1/attachments"
API_JSON = "/api/v1/cases"
OPEN311_JSON = "/open311/v2/requests.json"
OPEN311_XML = "/open311/v2/requests.xml"
PAGE = "/login/"
PATHS = (API_UPLOAD, API_JSON, OPEN311_JSON, OPEN311_XML, PAGE)

MULTIPART_BODY = (
    b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0 not much of a photo\r\n--b0undary--\r\n"
)


class Disconnected(io.RawIOBase):
    """A request body whose client goes away before sending all of it: the WSGI server cannot deliver
    what is asked for and raises OSError (gunicorn's NoMoreData is one)."""

    def __init__(self, head: bytes):
        self.head = head

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > len(self.head):
            raise OSError("client disconnected")
        chunk, self.head = self.head[:size], self.head[size:]
        return chunk


@pytest.fixture
def client(world) -> Client:
    """A client carrying a dispatcher's bearer token (the API needs one; the others ignore it)."""
    token = issue_token(world.dispatcher, "畸形请求测试")
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_area_error(response, path: str, status: int, code: str) -> None:
    """`status` with the error in the format of the part of the site `path` belongs to."""
    assert response.status_code == status, response.content[:300]
    if path.startswith("/api/"):
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        assert body["code"] == code
        assert body["message"]
    elif path.endswith(".json"):
        assert response["Content-Type"].startswith("application/json")
        errors = json.loads(response.content)
        assert errors and errors[0]["code"] == status and errors[0]["description"]
    elif path.startswith("/open311/"):
        assert response["Content-Type"].startswith("text/xml")
        root = ET.fromstring(response.content)
        assert root.tag == "errors" and root.find("error/code").text == str(status)
    else:
        assert response["Content-Type"].startswith("text/html")
        page = response.content.decode()
        assert f'data-code="{code}"' in page and "请求无法处理" in page


@pytest.mark.parametrize("path", PATHS)
def test_multipart_without_boundary(client, path):
    response = client.post(path, MULTIPART_BODY, content_type="multipart/form-data")
    assert_area_error(response, path, 400, "malformed_body")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("boundary", ["", "\x01ctl", "边界", '""'])
def test_multipart_with_invalid_boundary(client, path, boundary):
    response = client.post(path, MULTIPART_BODY, content_type=f"multipart/form-data; boundary={boundary}")
    assert_area_error(response, path, 400, "malformed_body")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=b0undary", "application/json"])
def test_body_cut_short_by_a_client_that_went_away(client, path, content_type):
    response = client.generic(
        "POST",
        path,
        content_type=content_type,
        **{
            "CONTENT_TYPE": content_type,
            "wsgi.input": Disconnected(MULTIPART_BODY[:40]),
            "CONTENT_LENGTH": str(len(MULTIPART_BODY)),
        },
    )
    assert_area_error(response, path, 400, "malformed_body")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("length", ["abc", "-1", "²"])
def test_content_length_not_a_number(client, path, length):
    body = b'{"title": "x"}'
    response = client.generic(
        "POST",
        path,
        content_type="application/json",
        **{"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": length},
    )
    assert_area_error(response, path, 400, "malformed_body")


@pytest.mark.parametrize("path", PATHS)
def test_body_too_big_is_413(client, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(path, json.dumps({"title": "长" * 2000}), content_type="application/json")
    assert_area_error(response, path, 413, "request_too_large")


@pytest.mark.parametrize("path", PATHS)
def test_form_fields_beyond_the_limit_are_413(client, settings, path):
    """Django counts a multipart body's fields (not its files) against DATA_UPLOAD_MAX_MEMORY_SIZE."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(path, {"description": "长" * 2000, "api_key": "x"})
    assert_area_error(response, path, 413, "request_too_large")


@pytest.mark.parametrize("path", PATHS)
def test_too_many_query_parameters(client, settings, path):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.get(path + "?" + "&".join(f"state=s{i}" for i in range(20)))
    assert_area_error(response, path, 400, "too_many_fields")


@pytest.mark.parametrize("path", PATHS)
def test_too_many_form_fields(client, settings, path):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.post(path, "&".join(f"f{i}=1" for i in range(20)), "application/x-www-form-urlencoded")
    assert_area_error(response, path, 400, "too_many_fields")


@pytest.mark.parametrize("path", PATHS)
def test_form_body_in_another_charset(client, path):
    """Form-encoded bodies are UTF-8 by definition; another declared charset cannot be read."""
    content_type = "application/x-www-form-urlencoded; charset=latin-1"
    response = client.post(path, "api_key=x&description=caf%E9", content_type=content_type)
    assert_area_error(response, path, 400, "malformed_body")


def test_invalid_json_and_invalid_utf8_are_400_in_the_api(client):
    for raw in (b'{"title": ', b'{"title": "\xff\xfe"}'):
        response = client.post(API_JSON, raw, content_type="application/json")
        assert_area_error(response, API_JSON, 400, "malformed_body")


def test_a_form_body_where_the_api_takes_json_is_400(client):
    """The middleware has parsed the form; the JSON endpoint then says what it needs."""
    response = client.post(API_JSON, MULTIPART_BODY, content_type="multipart/form-data; boundary=b0undary")
    assert_area_error(response, API_JSON, 400, "malformed_body")


def test_a_good_upload_still_works(client, world):
    """Reading the body early changes nothing for a well-formed multipart upload."""
    from tests.api.conftest import image_bytes

    photo = io.BytesIO(image_bytes())
    photo.name = "现场.jpg"
    response = client.post(API_UPLOAD, {"file": photo})
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/jpeg"


def test_no_boundary_is_a_json_400_also_when_debugging(client, settings):
    """With DEBUG on (make run), ninja answers an exception it has no handler for with a 500 traceback."""
    settings.DEBUG = True
    response = client.post(API_UPLOAD, MULTIPART_BODY, content_type="multipart/form-data")
    assert_area_error(response, API_UPLOAD, 400, "malformed_body")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/cases?division=%00", OPEN311_JSON + "?jurisdiction_id=a%00", OPEN311_XML + "?status=%00"],
)
def test_nul_in_a_query_parameter_is_an_error_naming_it(client, path):
    """PostgreSQL cannot compare text with NUL: every lookup with one was a 500 there."""
    response = client.get(path)
    base = path.split("?")[0]
    assert_area_error(response, base, 422 if base.startswith("/api/") else 400, "invalid")
    name = path.split("?")[1].split("=")[0]
    if base.startswith("/api/"):
        assert response.json()["errors"] == [
            {"field": name, "code": "nul_character", "message": "不能含有空字符（NUL）"}
        ]
    else:
        assert name in response.content.decode()


def test_nul_in_a_query_parameter_name_or_a_page_query(client, world):
    response = client.get("/api/v1/cases?a%00b=1&q=%E4%B8%AD%00")
    assert [e["field"] for e in response.json()["errors"]] == ["a%00b", "q"]
    client.force_login(world.dispatcher)
    page = client.get("/cases/?q=%00")
    assert page.status_code == 422 and 'data-code="invalid"' in page.content.decode()
    assert "查询参数不能含有空字符（NUL）：q" in page.content.decode()


@pytest.mark.parametrize(
    "path", ["/api/v1/cases/YH-2026-%00", "/api/v1/attachments/1%00", "/open311/v2/requests/YH%00.json"]
)
def test_nul_in_the_path_is_400(client, path):
    response = client.get(path)
    assert_area_error(response, path.replace("%00", ""), 400, "malformed_request")


@pytest.mark.parametrize("query", ["q=%ff%fe", "q=%zz%", "q=%E4%B8", "division=%C0%AF"])
def test_broken_percent_encoding_and_non_utf8_in_the_query_are_read_not_errors(client, world, query):
    """Django decodes them with replacement characters: a plain result or a field error, never a 500."""
    response = client.get(f"{API_JSON}?{query}")
    assert response.status_code in (200, 422), response.content
    assert response["Content-Type"].startswith("application/json")
    client.force_login(world.dispatcher)
    assert client.get(f"/cases/?{query}").status_code in (200, 400)  # the list page shows filter errors
    assert client.get(f"{OPEN311_JSON}?service_request_id=x&{query}").status_code == 200


def test_the_openapi_schema_lists_these_errors_on_every_operation():
    """The schema describes what the middleware may answer before any endpoint runs."""
    from taizhang.web.api.api import api

    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            for status in (400, 413, 422):
                assert operation["responses"][status]["content"] == error, (method, path, status)
