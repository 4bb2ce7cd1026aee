"""Pages of this area (being built)."""

from django.http import HttpResponse
from django.urls import path

app_name = "mechanisms"


def pending(request, **kwargs):
    return HttpResponse("建设中", status=501)


urlpatterns = [path("", pending, name="list")]
