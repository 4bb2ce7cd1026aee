from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "taizhang.org"
    label = "org"
    verbose_name = "组织架构"
