"""`{% mechanism_links as items %}`: (name, URL of the diagram page) of every loaded mechanism."""

from django import template
from django.urls import reverse

from taizhang.mechanisms.registry import get_registry

register = template.Library()


@register.simple_tag
def mechanism_links() -> list[tuple[str, str]]:
    return [(m.name, reverse("mechanisms:detail", args=[m.code])) for m in get_registry().mechanisms.values()]
