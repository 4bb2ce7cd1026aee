"""上报: the phone-first report form, the photo upload it uses and the confirmation page."""

from django.urls import path

from . import views

app_name = "report"
urlpatterns = [
    path("new/", views.new, name="new"),
    path("photo/", views.photo, name="photo"),
    path("sent/<str:number>/", views.sent, name="sent"),
]
