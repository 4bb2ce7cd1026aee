"""Signing out on a shared phone: nothing of the last person stays in the browser."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

# Grid workers hand phones over at shift change: the report drafts (text, location, photos) that
# report.js keeps in IndexedDB / localStorage must go with the session. `"storage"` clears both for
# this origin (browsers that ignore the header keep them: report.js also deletes them on sign-out).
CLEAR_SITE_DATA = '"storage"'


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST only) with a Clear-Site-Data header on the answer."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response
