"""Uploading attachments (photos before and after, documents) with type and size checks."""

from __future__ import annotations

import hashlib
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


def do_upload_attachment(user: User, name: str, stream: IO[bytes], size: int) -> Attachment:
    """Store an upload; it belongs to a case once a creation or transition record names it."""
    name = normalise_text(name or "")
    content = stream.read(settings.TAIZHANG_MAX_UPLOAD_BYTES + 1)
    mime, ext = check_upload(
        user, name, len(content) if size is None else max(size, len(content)), content[:16]
    )
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
            created_at=clock_now(),
        )
        attachment.file.save(f"upload.{ext}", ContentFile(content), save=False)
        attachment.save()
    return attachment


def usable_attachments(
    user: User, case: Case | None, ids: list[int]
) -> tuple[list[Attachment], list[FieldError]]:
    """Attachments the person uploaded that no record has used yet."""
    if not ids:
        return [], []
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        return [], [FieldError("attachments", "invalid", "附件应为编号列表")]
    found = {
        a.pk: a for a in Attachment.objects.filter(pk__in=ids, uploaded_by=user, transition__isnull=True)
    }
    errors = [
        FieldError("attachments", "unknown_attachment", f"附件 {i} 不存在、不是您上传的或已被使用")
        for i in ids
        if i not in found
    ]
    return [found[i] for i in ids if i in found], errors
