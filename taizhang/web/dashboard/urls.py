"""The leader dashboard."""

from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="home"),
    path("outlines.geojson", views.division_outlines, name="outlines"),
]
