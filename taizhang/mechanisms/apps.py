from django.apps import AppConfig


class MechanismsConfig(AppConfig):
    name = "taizhang.mechanisms"
    label = "mechanisms"
    verbose_name = "机制"

    def ready(self) -> None:
        # Load and validate every mechanism at start-up: a bad file stops the platform with its errors.
        from .registry import get_registry

        get_registry()
