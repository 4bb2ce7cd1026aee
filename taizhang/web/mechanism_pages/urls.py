"""Read-only mechanism pages: the list and one page (diagram and rules) per mechanism."""

from django.urls import path

from . import views

app_name = "mechanisms"
urlpatterns = [
    path("", views.mechanism_list, name="list"),
    path("<slug:code>/", views.mechanism_detail, name="detail"),
]
