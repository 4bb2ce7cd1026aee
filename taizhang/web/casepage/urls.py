"""Pages of this area (being built)."""

from django.http import HttpResponse
from django.urls import path

app_name = "case"


def pending(request, **kwargs):
    return HttpResponse("建设中", status=501)


urlpatterns = [path("<str:ref>/", pending, name="detail")]
