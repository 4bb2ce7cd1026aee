"""Rendering Open311 responses as XML or JSON from one plain-data value, and the spec's errors."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

FORMATS = ("xml", "json")
# What XML 1.0 does not allow in a document (https://www.w3.org/TR/xml/#charsets).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}

# The element name of one item of a list, by the name of the list (root lists are named by the caller).
ITEM_NAMES = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


class Open311Error(Exception):
    """An error response: an HTTP status and one or more descriptions (the spec's error list)."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions) or ["请求有误"]


def w3c(value: datetime | None) -> str | None:
    """A datetime in the spec's W3C/ISO 8601 form with the local offset: 2026-11-24T10:00:00+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def text_of(value: Any) -> str | None:
    """The text of an XML element for a JSON value (None: an empty element).

    Characters XML 1.0 cannot carry at all, not even escaped (most C0 controls, NUL), become U+FFFD:
    an error that echoes a parameter must still be a document a client's parser reads.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("\ufffd", str(value))


def build(tag: str, value: Any) -> ET.Element:
    """An element for a value: dicts become children in order, lists repeated item elements."""
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(build(key, child))
    elif isinstance(value, list):
        item = ITEM_NAMES.get(tag, "item")
        for child in value:
            element.append(build(item, child))
    else:
        element.text = text_of(value)
    return element


def to_xml(root: str, value: Any) -> bytes:
    """The XML document of a value under the root element, with the UTF-8 declaration."""
    body = ET.tostring(build(root, value), encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()


def respond(fmt: str, root: str, value: Any, status: int = 200) -> HttpResponse:
    """An HTTP response in the requested format; `root` names the XML root element."""
    if fmt == "json":
        content = json.dumps(value, ensure_ascii=False).encode()
    else:
        content = to_xml(root, value)
    return HttpResponse(content, status=status, content_type=CONTENT_TYPES.get(fmt, CONTENT_TYPES["xml"]))


def error_response(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    """The spec's error list: [{code, description}] / <errors><error><code/><description/></error>."""
    errors = [{"code": status, "description": d} for d in descriptions]
    return respond(fmt if fmt in FORMATS else "xml", "errors", errors, status)
