"""What the case page shows of the insight layer, for staff: the automatic-dispatch suggestion made at intake
(taizhang/insight/classify/intake.py) and the quality scores of the case's answers (reply_index.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy

from taizhang.cases.models import Case, Transition
from taizhang.insight.models import ReplyQuality
from taizhang.insight.reply_index import case_reply_scores

from .timeline import Entry

# What happened to the suggestion (the `decision` codes of intake.suggest), in words.
DECISIONS = {
    "auto": gettext_lazy("置信度达到本地阈值，系统已自动派单"),
    "below_threshold": gettext_lazy("置信度低于本地阈值，由派遣员人工派单"),
    "manual": gettext_lazy("本地未启用自动派单，仅作建议，由派遣员派单"),
    "no_unit": gettext_lazy("本地未配置该领域的承办单位，由派遣员派单"),
    "topic_differs": gettext_lazy("与上报时选择的问题领域不一致，由派遣员决定"),
}
# Decisions whose suggested unit is a sensible default for the 派单 form (the reporter's own topic wins).
PRESELECT = {"auto", "below_threshold", "manual"}
# Labels of the four reply-quality components, in the order the page shows them.
COMPONENTS = (
    ("relevance", gettext_lazy("相关性")),
    ("completeness", gettext_lazy("完整性")),
    ("interpretability", gettext_lazy("可解释性")),
    ("timeliness", gettext_lazy("及时性")),
)


def percent(value: Any) -> str:
    try:
        return f"{round(float(value) * 100)}%"
    except (TypeError, ValueError):
        return "—"


def stored_suggestion(case: Case) -> dict[str, Any] | None:
    suggestion = (case.data or {}).get("suggestion")
    return suggestion if isinstance(suggestion, dict) and suggestion.get("topic") else None


def suggestion_view(case: Case, public: bool) -> dict[str, Any] | None:
    """The 智能分派建议 panel; never for a member of the public (as the API's `suggestion`)."""
    suggestion = stored_suggestion(case)
    if public or suggestion is None:
        return None
    decision = str(suggestion.get("decision", ""))
    threshold = suggestion.get("threshold")
    return {
        "topic": suggestion["topic"],
        "percent": percent(suggestion.get("confidence")),
        "unit_name": suggestion.get("unit_name") or "",
        "unit": suggestion.get("unit") or "",
        "decision": decision,
        "decision_text": str(DECISIONS.get(decision, decision)),
        "threshold": percent(threshold) if threshold is not None else "",
        "model": suggestion.get("model", ""),
        "locality": suggestion.get("locality", ""),
        "alternatives": [
            {"topic": a.get("topic", ""), "percent": percent(a.get("confidence"))}
            for a in suggestion.get("alternatives") or []
            if isinstance(a, dict)
        ],
    }


def suggested_unit(case: Case) -> str:
    """The unit to pre-select on the form that assigns the responsible unit, while the case has none."""
    suggestion = stored_suggestion(case)
    if case.unit_id or suggestion is None or suggestion.get("decision") not in PRESELECT:
        return ""
    return str(suggestion.get("unit") or "")


@dataclass
class ReplyView:
    """One answer's scores as the timeline shows them."""

    overall: float
    weak: bool
    reasons: list[str]
    components: list[tuple[str, float | None]]

    @classmethod
    def of(cls, q: ReplyQuality) -> ReplyView:
        return cls(
            overall=q.overall,
            weak=q.weak,
            reasons=list(q.reasons or []),
            components=[(str(label), getattr(q, name)) for name, label in COMPONENTS],
        )


def attach_reply_scores(user, case: Case, public: bool, rows: list[Transition], entries: list[Entry]) -> int:
    """Put each scored answer's quality on its timeline entry, for people who may read reply quality
    (never in the public view); returns how many were shown. One query, none for anybody else."""
    if public:
        return 0
    scores = case_reply_scores(user, case)
    if not scores:
        return 0
    by_seq = {row.seq: scores[row.pk] for row in rows if row.pk in scores}
    for entry in entries:
        if entry.seq in by_seq:
            entry.quality = ReplyView.of(by_seq[entry.seq])
    return len(by_seq)
