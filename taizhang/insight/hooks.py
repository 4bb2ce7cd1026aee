"""Insight kept up to date as things happen: a new demand joins its hot spot, a "me too" warms it, an
answer is scored. Each runs in the writer's transaction inside a savepoint, so a failure here is logged
and never loses the case, the supporter or the answer (which `taizhang hotspots rebuild` and
`taizhang replies rescore` then catch up on).

Cases, history rows and supporters written with `bulk_create` (the importer) send no signals: run
`taizhang similar_index`, `taizhang hotspots rebuild` and `taizhang replies rescore` after an import.
"""

from __future__ import annotations

import logging
import sys

from django.db import transaction
from django.db.models.signals import post_save

log = logging.getLogger("taizhang.insight")


def group_new_case(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Put a new demand in its hot spot (after the similarity index, which is connected first)."""
    if not created or raw:
        return
    from .hotspot_index import add_case, hotspot_rules

    try:
        if instance.mechanism not in hotspot_rules(instance.region).mechanisms:
            return  # not grouped here (hazard reports): no savepoint for nothing
        with transaction.atomic():
            add_case(instance)
    except Exception:
        log.exception("hot-spot grouping failed for case %s", instance.pk)


def count_supporter(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    from .hotspot_index import add_supporter

    try:
        with transaction.atomic():
            add_supporter(instance.case_id)
    except Exception:
        log.exception("hot-spot support failed for case %s", instance.case_id)


def score_reply(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Score an answer when its history row is written."""
    from .reply_index import reply_codes, score_transition

    if not created or raw or instance.code not in reply_codes():
        return
    try:
        with transaction.atomic():
            score_transition(instance)
    except Exception:
        log.exception("reply scoring failed for transition %s", instance.pk)


def connect() -> None:
    """Connect the hooks and check the rule files (a bad file stops start-up, naming file, line, field)."""
    from taizhang.cases.models import Case, Transition

    from .models import CaseSupporter
    from .rules import hotspot_rules, reply_rules

    post_save.connect(group_new_case, sender=Case, dispatch_uid="insight.group_new_case")
    post_save.connect(count_supporter, sender=CaseSupporter, dispatch_uid="insight.count_supporter")
    post_save.connect(score_reply, sender=Transition, dispatch_uid="insight.score_reply")
    if sys.argv[1:2] != ["mechanisms"]:  # that command reports broken files itself
        hotspot_rules()
        reply_rules()
