"""URL configuration: the pages, the JSON API, Open311 and the admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from taizhang.web.api.api import api
from taizhang.web.session import LogoutView
from taizhang.web.workbench import views as workbench

urlpatterns = [
    path("", workbench.home, name="home"),
    path("workbench/", workbench.workbench, name="workbench"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("cases/", include("taizhang.web.caselist.urls")),
    path("cases/", include("taizhang.web.casepage.urls")),
    path("report/", include("taizhang.web.report.urls")),
    path("portal/", include("taizhang.web.portal.urls")),
    path("dashboard/", include("taizhang.web.dashboard.urls")),
    path("replies/", include("taizhang.web.replies.urls")),
    path("hotspots/", include("taizhang.web.hotspots.urls")),
    path("mechanisms/", include("taizhang.web.mechanism_pages.urls")),
    path("reports/", include("taizhang.web.monthly.urls")),
    path("registers/", include("taizhang.web.registers.urls")),  # 台账 (registers): never cases
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("open311/v2/", include("taizhang.intake.open311.urls")),
]

# No route serves MEDIA_ROOT, not even when debugging: every attachment goes through the download view,
# which checks who may see its case (taizhang.cases.downloads, taizhang.web.media).

# Production (#12): an unexpected error is answered with the request id (JSON for the API), 503 when the
# database cannot be reached; Django logs it with its traceback.
handler500 = "taizhang.ops.errors.server_error"
