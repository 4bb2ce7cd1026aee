"""Filing a case from a page form: photos sent with the form are stored first, then the case is created
once (the form's idempotency key makes a re-sent form return the case the first one created).

Shared by the staff report form (上报) and the resident portal. Both call `do_submit_case`; the API
keeps calling `do_create_case` directly, since its clients upload attachments themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Protocol

from taizhang.cases.attachments import discard_uploads, do_upload_attachment
from taizhang.cases.create import CaseInput, check_create_case, do_create_case
from taizhang.cases.idempotency import live_key
from taizhang.cases.models import Attachment, Case
from taizhang.cases.quotas import check_upload_batch
from taizhang.errors import ActionError, FieldError, invalid
from taizhang.org.models import User


class Upload(Protocol):
    """What a form's file looks like (Django's UploadedFile)."""

    name: str
    size: int
    file: IO[bytes]


def attachments_of_key(user: User, key: str) -> list[int] | None:
    """The photos the case created under this key was filed with; None when the key is unused.

    A re-sent form carries its photos again; storing them a second time would give new ids, the
    request would then differ from the first and be refused, so a replay reuses the first ids. An
    expired key (`taizhang.cases.idempotency`) is unused: the form files a new case.
    """
    row = live_key(user, key)
    if row is None:
        return None
    first = Attachment.objects.filter(transition__case_id=row.case_id, transition__seq=1)
    return list(first.order_by("pk").values_list("pk", flat=True))


def store_photos(
    user: User, files: Iterable[Upload], field: str = "photos", client: str = ""
) -> tuple[list[int], list[FieldError]]:
    """Store each file (type, size, image and quota checks of `do_upload_attachment`); ids and errors.

    A file that is refused is reported as an error of `field`; a refusal of the whole batch (403, the
    quota) removes what this call stored and is raised.
    """
    ids: list[int] = []
    errors: list[FieldError] = []
    for upload in files:
        try:
            ids.append(
                do_upload_attachment(user, upload.name or "photo", upload.file, upload.size, client).pk
            )
        except ActionError as exc:
            if exc.status != 422:
                discard_uploads(ids)
                raise
            errors += [FieldError(field, e.code, e.message) for e in exc.errors] or [
                FieldError(field, exc.code, exc.message)
            ]
    return ids, errors


def do_submit_case(
    user: User,
    data: CaseInput,
    key: str,
    files: Iterable[Upload] = (),
    *,
    client: str = "",
    keep_refused: bool = True,
) -> tuple[Case, bool]:
    """Store the form's photos, then create the case once; returns (case, created).

    The photo count and the upload quota are checked for the whole form before any file is stored.
    With `keep_refused` (staff forms) `data.attachments` ends up holding every stored photo, so a view
    that has to show the form again can carry them over instead of asking for them twice (unused ones
    are removed by the worker later); without it (the public portal) a refused form keeps no file.
    Errors of the photos and of the case are reported together (422). `client`: see
    `do_upload_attachment`.
    """
    previous = attachments_of_key(user, key)
    if previous is not None:
        data.attachments = previous
        return do_create_case(user, data, key)
    files = list(files)
    check_upload_batch(user, client, [f.size or 0 for f in files], already=len(data.attachments))
    ids, errors = store_photos(user, files, client=client)
    data.attachments = [*data.attachments, *ids]
    try:
        if errors:
            try:
                check_create_case(user, data)
            except ActionError as exc:
                if not exc.errors:
                    raise
                errors = [*exc.errors, *errors]
            raise invalid(errors)
        return do_create_case(user, data, key)
    except BaseException:
        if not keep_refused:
            discard_uploads(ids)
            data.attachments = [i for i in data.attachments if i not in ids]
        raise
