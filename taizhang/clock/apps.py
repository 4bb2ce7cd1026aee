from django.apps import AppConfig


class ClockConfig(AppConfig):
    name = "taizhang.clock"
    label = "clock"
    verbose_name = "时限"
