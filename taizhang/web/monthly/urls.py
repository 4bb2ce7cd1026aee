"""The monthly report (月度报告): the page, its PDF and its workbook."""

from django.urls import path

from . import views

app_name = "monthly"
urlpatterns = [
    path("monthly/", views.page, name="page"),
    path("monthly.pdf", views.pdf, name="pdf"),
    path("monthly.xlsx", views.xlsx, name="xlsx"),
]
