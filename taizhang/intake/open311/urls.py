"""Open311 GeoReport v2 routes under /open311/v2/; the suffix (.xml or .json) is the format."""

from __future__ import annotations

from django.urls import re_path

from . import views

FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FMT, views.services, name="open311-services"),
    re_path(r"^services/(?P<code>[\w.-]+?)" + FMT, views.service_definition, name="open311-service"),
    re_path(r"^requests" + FMT, views.service_requests, name="open311-requests"),
    re_path(r"^requests/(?P<ref>[\w.-]+?)" + FMT, views.service_request, name="open311-request"),
    re_path(r"^tokens/(?P<token>[\w-]+)" + FMT, views.token, name="open311-token"),
    re_path(r"^servicerequestupdates" + FMT, views.updates, name="open311-updates"),
    re_path(r"^(?P<rest>(?s:.*))$", views.not_found),  # any path, a newline in it too
]
