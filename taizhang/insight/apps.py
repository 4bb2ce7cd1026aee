"""Similar cases at intake (并单 suggestions) and residents' "me too" (我也遇到)."""

from __future__ import annotations

import logging
import sys

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save

log = logging.getLogger("taizhang.insight")


def index_new_case(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Index a case the moment it is first saved, inside its creation's transaction.

    A savepoint keeps a failure of the index from losing the demand itself: the case is still
    created (and only missing from suggestions), and the error is logged.
    """
    if not created or raw:
        return
    from .similar import index_cases

    try:
        with transaction.atomic():
            index_cases([instance], fresh=True)
    except Exception:
        log.exception("similar-case index failed for case %s", instance.pk)


class InsightConfig(AppConfig):
    name = "taizhang.insight"
    label = "insight"
    verbose_name = "相似案件"

    def ready(self) -> None:
        from taizhang.cases.models import Case

        post_save.connect(index_new_case, sender=Case, dispatch_uid="insight.index_new_case")
        # The automatic-dispatch rules are checked at start-up like the mechanisms (a bad file stops the
        # platform with its errors); the `mechanisms` and `insight` commands report them themselves.
        if sys.argv[1:2] not in (["mechanisms"], ["insight"]):
            from .classify.routing import get_routing

            get_routing()
        from .hooks import connect  # hot spots and reply quality, after the similarity index

        connect()
