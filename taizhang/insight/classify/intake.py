"""The classifier at intake: a suggestion stored with each new case, and the system's 派单 when trusted.

`suggest(plan, title, description)` runs before the case is written (outside its transaction): it
predicts the topic with the active model, looks the unit up in the locality's table
(routing.py) and puts the suggestion into the case's data — part of the creation, recorded by its
first history row — pre-filling the topic field when the reporter left it empty:

    case.data["suggestion"] = {"topic", "confidence", "unit", "unit_name", "model", "locality",
                               "threshold", "decision", "alternatives"}

`decision` says what happens next: `auto` (the system dispatches), `below_threshold`, `manual` (the
locality has not enabled auto-dispatch), `no_unit` (no unit for the topic here) or `topic_differs`
(the reporter chose another topic). `dispatch_if_trusted(case)` runs right after the case is
written, in its transaction: for `auto` it takes the dispatch transition as the system, with the
opinion "自动派单：城乡建设（置信度0.97，模型…）". If the engine refuses (a unit was removed, say), the
case stays 待派单 for a person and the reason is logged. Without an active model, or for other
mechanisms, nothing is added and nothing is done: intake works as it always did.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from taizhang.cases.actions import TransitionRequest
from taizhang.cases.models import Case
from taizhang.errors import ActionError
from taizhang.org.models import Unit

from .data import case_text
from .routing import get_routing
from .store import active_model

log = logging.getLogger("taizhang.insight")
KEY = "suggestion"


def suggest(plan: Any, title: str, description: str) -> dict[str, Any] | None:
    """Add the suggestion to `plan.data` (a cases.create.CreatePlan) before the case is written."""
    model = active_model()
    if model is None:
        return None
    routing = get_routing()
    if plan.mech.code != routing.mechanism:
        return None
    prediction = model.predict_one(case_text(title, description))
    locality, table = routing.locality_for(plan.division.ancestor_codes())
    code = table.units.get(prediction.label)
    unit = Unit.objects.filter(code=code).only("code", "name").first() if code else None
    given = str(plan.data.get(routing.field) or "").strip()
    if unit is None:
        decision = "no_unit"
    elif given and given != prediction.label:
        decision = "topic_differs"
    elif prediction.confidence < table.threshold:
        decision = "below_threshold"
    elif not table.auto_dispatch:
        decision = "manual"
    else:
        decision = "auto"
    suggestion = {
        "topic": prediction.label,
        "confidence": round(prediction.confidence, 4),
        "unit": unit.code if unit else None,
        "unit_name": unit.name if unit else None,
        "model": model.version,
        "locality": locality,
        "threshold": table.threshold,
        "decision": decision,
        "alternatives": [{"topic": label, "confidence": p} for label, p in prediction.ranked[1:]],
    }
    if code and unit is None:
        log.warning("dispatch.yaml names unit %s for %s, but there is no such unit", code, prediction.label)
    plan.data[KEY] = suggestion
    if not given:
        plan.data[routing.field] = prediction.label
    return suggestion


def opinion_of(suggestion: dict[str, Any]) -> str:
    return (
        f"自动派单：{suggestion['topic']}（置信度{suggestion['confidence']:.2f}，模型{suggestion['model']}）"
    )


def dispatch_if_trusted(case: Case) -> bool:
    """Dispatch a just-created case as the system when its suggestion says `auto`; True if it did."""
    suggestion = (case.data or {}).get(KEY)
    if not isinstance(suggestion, dict) or suggestion.get("decision") != "auto":
        return False
    from taizhang.cases.system import do_system_transition

    req = TransitionRequest(
        code=get_routing().transition, opinion=opinion_of(suggestion), params={"unit": suggestion["unit"]}
    )
    try:
        do_system_transition(case, req, case.created_at)
    except ActionError as exc:
        log.warning("automatic dispatch of %s refused: %s (%s)", case.number, exc.message, exc.code)
        case.refresh_from_db()  # the savepoint rolled back; drop what the attempt set in memory
        return False
    return True


def prefill(plan: Any, title: str, description: str) -> None:
    """`suggest`, never failing intake: a broken model or rule file is logged and the case goes on."""
    try:
        suggest(plan, title, description)
    except Exception:
        log.exception("topic suggestion failed; the case is created without one")


def after_create(case: Case) -> None:
    """`dispatch_if_trusted` inside the creation's transaction; an unexpected error only loses the dispatch."""
    if KEY not in (case.data or {}):
        return
    try:
        with transaction.atomic():
            dispatch_if_trusted(case)
    except Exception:
        log.exception("automatic dispatch of %s failed; the case waits for a dispatcher", case.number)
        case.refresh_from_db()
