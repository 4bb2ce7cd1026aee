"""The hot-spot ranking page (热点)."""

from django.urls import path

from . import views

app_name = "hotspots"
urlpatterns = [path("", views.hotspot_list, name="list")]
