"""The portal's own account: the reporter of every case a resident files without signing in.

A case needs a reporter and the engine's rules need a role, so anonymous filings are made by one
system account that holds the resident role and can never sign in (inactive, unusable password).
Who actually wrote is in the case's data (contact name and phone, if given) and the tracking code
(`PortalTicket`) is what lets that person follow and rate the case; the portal acts for them as this
account, which is the case's reporter.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from taizhang.org.models import Membership, User
from taizhang.org.roles import Role

PORTAL_USERNAME = "_portal"
PORTAL_NAME = "网上群众"


def portal_user() -> User:
    """The portal account, created on first use (safe when two requests create it at once)."""
    user = User.objects.filter(username=PORTAL_USERNAME).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(username=PORTAL_USERNAME, display_name=PORTAL_NAME, is_active=False)
            user.set_unusable_password()
            user.save()
            Membership.objects.create(user=user, role=Role.RESIDENT)
    except IntegrityError:
        user = User.objects.get(username=PORTAL_USERNAME)
    return user


def is_portal_user(user) -> bool:
    return getattr(user, "username", None) == PORTAL_USERNAME
