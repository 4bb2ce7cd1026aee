"""The admin site's Chinese titles, and its front page linking to the mechanisms' diagrams."""

from django.contrib import admin

admin.site.site_header = "台账 · 管理后台"
admin.site.site_title = "台账管理后台"
admin.site.index_title = "组织架构、人员与岗位"
admin.site.index_template = "admin/taizhang_index.html"
