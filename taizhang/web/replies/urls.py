"""The reply-quality page (答复质量)."""

from django.urls import path

from . import views

app_name = "replies"
urlpatterns = [path("", views.reply_list, name="list")]
