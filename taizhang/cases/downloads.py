"""Who may download an attachment: the one place that decides, before any byte or URL is handed out."""

from __future__ import annotations

from taizhang.errors import not_found
from taizhang.org.models import User

from .models import Attachment, Case
from .present import is_public_viewer


def may_download(user: User, attachment: Attachment) -> bool:
    """Before use only the uploader; after, whoever sees the case (`Case.objects.for_user`) and the
    history row carrying the file (a resident reporter: public rows only).

    Nobody else: the public ledger (`taizhang.intake.portal.ledger`) shows no photos, so no file is
    public. Should it come to show some, its public rule is to be asked here, for every visitor.
    """
    if user is None or not user.is_authenticated:
        return False
    if attachment.transition_id is None:
        return attachment.uploaded_by_id == user.pk
    visible = Case.objects.for_user(user, "view").select_related("division", "unit")
    case = visible.filter(pk=attachment.case_id).first()
    if case is None:
        return False
    return attachment.transition.public or not is_public_viewer(user, case)


def get_attachment(user: User, attachment_id: int) -> Attachment:
    """The attachment if the person may download it; 404 alike for one that is missing or not theirs."""
    attachment = Attachment.objects.select_related("transition").filter(pk=attachment_id).first()
    if attachment is None or not may_download(user, attachment):
        raise not_found("找不到该附件或无权查看")
    return attachment
