from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "taizhang.intake"
    label = "intake"
    verbose_name = "外部接入"
