from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "taizhang.web"
    label = "web"
    verbose_name = "界面"

    def ready(self) -> None:
        from . import lockout  # noqa: F401  (a successful log-in clears that account's failures)
