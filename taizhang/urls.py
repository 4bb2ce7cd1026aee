"""URL configuration."""

from django.conf import settings
from django.contrib import admin
from django.urls import path

from taizhang.web import views
from taizhang.web.api.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
