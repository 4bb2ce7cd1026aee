"""Upload limits beyond one file's size: how many photos one form may carry, and how much one person (or
one address, for anonymous portal senders, who all upload as the portal account) may upload over a
rolling window. Settings: TAIZHANG_MAX_PHOTOS_PER_FORM, TAIZHANG_UPLOAD_QUOTA_COUNT / _MB / _HOURS.

Forms check their whole batch before storing any file, so a refused form stores nothing; each upload is
checked again when it is stored. Two uploads racing at the quota's edge may both pass: the quota bounds
abuse, it is not an accounting ledger.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Sum

from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError, FieldError
from taizhang.org.models import User

from .models import Attachment

MB = 1024 * 1024


def check_photo_count(count: int, field: str = "attachments") -> None:
    """422 `too_many_photos` when one form carries more files than TAIZHANG_MAX_PHOTOS_PER_FORM."""
    limit = settings.TAIZHANG_MAX_PHOTOS_PER_FORM
    if count > limit:
        detail = f"每次最多上传 {limit} 张照片（附件），本次有 {count} 张，请删去 {count - limit} 张后再提交"
        raise ActionError(
            "too_many_photos", "照片数量超过上限", 422, [FieldError(field, "too_many_photos", detail)]
        )


def uploads_in_window(user: User, client: str = ""):
    """The uploads that count against this sender's quota: by address when given, else by person."""
    since = clock_now() - timedelta(hours=settings.TAIZHANG_UPLOAD_QUOTA_HOURS)
    rows = Attachment.objects.filter(created_at__gte=since)
    return rows.filter(client=client) if client else rows.filter(uploaded_by=user)


def check_quota(user: User, client: str, count: int, size: int) -> None:
    """429 `upload_quota_exceeded` when `count` more files of `size` bytes would pass the sender's quota."""
    used = uploads_in_window(user, client).aggregate(n=Count("pk"), size=Sum("size"))
    max_count, max_bytes = settings.TAIZHANG_UPLOAD_QUOTA_COUNT, settings.TAIZHANG_UPLOAD_QUOTA_BYTES
    if used["n"] + count <= max_count and (used["size"] or 0) + size <= max_bytes:
        return
    hours = settings.TAIZHANG_UPLOAD_QUOTA_HOURS
    who = "同一网络" if client else "每人"
    detail = f"{who}每 {hours} 小时最多上传 {max_count} 个文件、共 {max_bytes / MB:g} MB"
    raise ActionError(
        "upload_quota_exceeded",
        "上传已达上限，本次未保存任何文件，请稍后再试",
        429,
        [FieldError("file", "upload_quota_exceeded", detail)],
    )


def check_upload_batch(user: User, client: str, sizes: list[int], already: int = 0) -> None:
    """A form's files before any is stored: the photo count (with `already` kept ones) and the quota."""
    check_photo_count(already + len(sizes))
    if sizes:
        check_quota(user, client, len(sizes), sum(sizes))
