"""The case page: /cases/<number>/ and the POSTs of its actions, approvals and 关联."""

from django.urls import path

from . import views

app_name = "case"
urlpatterns = [
    path("<str:ref>/", views.detail, name="detail"),
    path("<str:ref>/act/", views.act, name="act"),
    path("<str:ref>/decide/", views.decide, name="decide"),
    path("<str:ref>/links/", views.link, name="link"),
]
