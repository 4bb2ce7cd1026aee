import sys

from django.apps import AppConfig


class MechanismsConfig(AppConfig):
    name = "taizhang.mechanisms"
    label = "mechanisms"
    verbose_name = "机制"

    def ready(self) -> None:
        # Load and validate every mechanism at start-up: a bad file stops the platform with its errors.
        # `taizhang mechanisms …` is the tool for finding those errors, so it reports them itself.
        if sys.argv[1:2] == ["mechanisms"]:
            return
        from .registry import get_registry

        get_registry()
