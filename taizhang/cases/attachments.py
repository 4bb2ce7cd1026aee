"""Uploading attachments (photos before and after, documents) with type, size and quota checks, and
removing uploads nobody used: those of a refused portal form at once, any other after
TAIZHANG_UNCLAIMED_UPLOAD_HOURS (`taizhang worker`)."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from taizhang.clock.now import now as clock_now
from taizhang.errors import FieldError, forbidden, invalid
from taizhang.org.models import User
from taizhang.org.scopes import grants_of
from taizhang.text import normalise_text

from .models import Attachment, Case
from .quotas import check_photo_count, check_quota

logger = logging.getLogger("taizhang.uploads")

# Types are recognised from the file's first bytes, never from the name or the client's header.
SIGNATURES = [
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
]


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, mime, ext in SIGNATURES:
        if head.startswith(magic):
            return mime, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def check_upload(user: User, name: str, size: int, head: bytes) -> tuple[str, str]:
    """The content type and extension of an upload, or ActionError saying what is wrong."""
    if not user.is_authenticated or not (grants_of(user) or user.is_superuser):
        raise forbidden("role_not_allowed", "您没有上传附件的权限")
    limit = settings.TAIZHANG_MAX_UPLOAD_BYTES
    if size == 0:
        raise invalid([FieldError("file", "empty_file", "文件是空的")])
    if size > limit:
        raise invalid([FieldError("file", "file_too_large", f"文件超过 {limit // (1024 * 1024)} MB 上限")])
    kind = sniff(head)
    if kind is None:
        raise invalid(
            [FieldError("file", "unsupported_type", f"{name}：只接受 JPEG、PNG、WebP 图片或 PDF 文件")]
        )
    return kind


def do_upload_attachment(user: User, name: str, stream: IO[bytes], size: int, client: str = "") -> Attachment:
    """Store an upload; it belongs to a case once a creation or transition record names it.

    `client`: the keyed hash of an anonymous portal sender's address; their quota is counted by it.
    """
    name = normalise_text(name or "")
    content = stream.read(settings.TAIZHANG_MAX_UPLOAD_BYTES + 1)
    mime, ext = check_upload(
        user, name, len(content) if size is None else max(size, len(content)), content[:16]
    )
    check_quota(user, client, 1, len(content))
    if mime.startswith("image/"):
        try:
            with Image.open(ContentFile(content)) as img:
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError):
            raise invalid([FieldError("file", "corrupt_image", f"{name}：图片已损坏，无法读取")]) from None
        except Image.DecompressionBombError:
            raise invalid([FieldError("file", "image_too_large", f"{name}：图片像素过多")]) from None
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        attachment = Attachment(
            original_name=name[:200],
            content_type=mime,
            size=len(content),
            sha256=digest,
            uploaded_by=user,
            client=client,
            created_at=clock_now(),
        )
        attachment.file.save(f"upload.{ext}", ContentFile(content), save=False)
        attachment.save()
    return attachment


def usable_attachments(
    user: User, case: Case | None, ids: list[int]
) -> tuple[list[Attachment], list[FieldError]]:
    """Attachments the person uploaded that no record has used yet (422 `too_many_photos` past the
    per-form limit, before anything else is looked at)."""
    if not ids:
        return [], []
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        return [], [FieldError("attachments", "invalid", "附件应为编号列表")]
    check_photo_count(len(ids))
    found = {
        a.pk: a for a in Attachment.objects.filter(pk__in=ids, uploaded_by=user, transition__isnull=True)
    }
    errors = [
        FieldError(
            "attachments",
            "unknown_attachment",
            f"附件 {i} 不存在、不是您上传的或已被使用"
            f"（上传后 {settings.TAIZHANG_UNCLAIMED_UPLOAD_HOURS} 小时内未使用的附件会被清除，请重新上传）",
        )
        for i in ids
        if i not in found
    ]
    return [found[i] for i in ids if i in found], errors


def discard_uploads(ids: list[int]) -> list[Attachment]:
    """Remove these uploads, row and file, unless a history row has taken them; returns those removed.

    Safe to run twice and beside a claim: a row is only deleted while unclaimed, and its file only
    when no other row names it (S3 storage overwrites same-content names, so rows may share one).
    """
    removed = []
    for attachment in Attachment.objects.filter(pk__in=ids, transition__isnull=True).order_by("pk"):
        deleted, _ = Attachment.objects.filter(pk=attachment.pk, transition__isnull=True).delete()
        if not deleted:
            continue  # claimed or removed by someone else meanwhile
        name = attachment.file.name
        if name and not Attachment.objects.filter(sha256=attachment.sha256, file=name).exists():
            attachment.file.storage.delete(name)
        removed.append(attachment)
    return removed


def remove_unclaimed(now: datetime | None = None, batch: int = 500) -> int:
    """The worker's pass: remove uploads unclaimed for TAIZHANG_UNCLAIMED_UPLOAD_HOURS; logs each one."""
    cutoff = (now or clock_now()) - timedelta(hours=settings.TAIZHANG_UNCLAIMED_UPLOAD_HOURS)
    total = 0
    while True:
        stale = Attachment.objects.filter(transition__isnull=True, created_at__lt=cutoff).order_by("pk")
        ids = list(stale.values_list("pk", flat=True)[:batch])
        removed = discard_uploads(ids)
        for a in removed:
            logger.info(
                "removed unclaimed attachment %s (%s, %s, %d bytes, uploaded %s by user %s)",
                a.pk,
                a.file.name,
                a.content_type,
                a.size,
                a.created_at.isoformat(),
                a.uploaded_by_id,
            )
        total += len(removed)
        if len(ids) < batch or not removed:
            return total
