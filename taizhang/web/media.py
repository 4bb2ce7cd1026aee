"""Sending an attachment after `taizhang.cases.downloads.get_attachment` allowed it.

Nothing under MEDIA_ROOT has a URL of its own (no static route, not under WhiteNoise's STATIC_ROOT), so
this is the only way out. The bytes go as a plain FileResponse by default; behind nginx the app only
answers `X-Accel-Redirect` to an `internal` location (TAIZHANG_MEDIA_ACCEL_REDIRECT), behind Apache or
lighttpd `X-Sendfile` (TAIZHANG_MEDIA_SENDFILE); a storage without local files (S3) gets a redirect to
a signed URL that expires after TAIZHANG_MEDIA_SIGNED_URL_SECONDS.

The content type is never taken from the client: uploads are sniffed (`attachments.sniff`), and anything
else a row may say is sent as an opaque download. Only images are shown inline.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

from taizhang.cases.models import Attachment
from taizhang.text import normalise_text

INLINE_TYPES = {"image/jpeg", "image/png", "image/webp"}
SAFE_TYPES = INLINE_TYPES | {"application/pdf"}
OPAQUE = "application/octet-stream"
# The extension a download is saved with follows what it is, never the uploader's name: a PDF that is
# also an HTA, uploaded as 报告.pdf.hta, would otherwise run its script on a double-click.
EXTENSIONS = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",), "image/webp": (".webp",)}
EXTENSIONS |= {"application/pdf": (".pdf",), OPAQUE: (".bin",)}


def safe_type(attachment: Attachment) -> str:
    return attachment.content_type if attachment.content_type in SAFE_TYPES else OPAQUE


def download_name(attachment: Attachment) -> str:
    """The name a download is saved under: the uploader's, without bidi controls (normalise_text, also
    for names stored before intake removed them), ending in the extension of the type it is sent as."""
    name = normalise_text(attachment.original_name or "").strip() or "attachment"
    endings = EXTENSIONS[safe_type(attachment)]
    return name if name.lower().endswith(endings) else name + endings[0]


def local_path(attachment: Attachment) -> str | None:
    """The file's path on this machine, or None for a remote storage (S3)."""
    try:
        return attachment.file.storage.path(attachment.file.name)
    except NotImplementedError:
        return None


def attachment_response(attachment: Attachment) -> HttpResponse:
    """The download of an attachment the caller may see, with safe headers whatever the serving mode."""
    content_type = safe_type(attachment)
    disposition = content_disposition_header(content_type not in INLINE_TYPES, download_name(attachment))
    name = attachment.file.name
    path = local_path(attachment)
    if path is None:
        url = attachment.file.storage.url(
            name,
            parameters={"ResponseContentType": content_type, "ResponseContentDisposition": disposition},
            expire=settings.TAIZHANG_MEDIA_SIGNED_URL_SECONDS,
        )
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"  # the signed URL must not outlive its check in a cache
    else:
        if settings.TAIZHANG_MEDIA_ACCEL_REDIRECT:
            response = HttpResponse(content_type=content_type)
            response["X-Accel-Redirect"] = settings.TAIZHANG_MEDIA_ACCEL_REDIRECT + quote(name)
        elif settings.TAIZHANG_MEDIA_SENDFILE:
            response = HttpResponse(content_type=content_type)
            response["X-Sendfile"] = path
        else:
            response = FileResponse(attachment.file.open("rb"), content_type=content_type)
        response["Content-Disposition"] = disposition
        response["Cache-Control"] = "private, max-age=3600"  # never in a shared cache
    response["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, a file runs nothing: no scripts, no plugins, an opaque origin.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
