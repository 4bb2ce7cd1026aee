"""Reply quality (答复质量): how well an answer meets the demand it answers. Pure text and time; no database.

Every number and word list below is data: `mechanisms/insight/replies.yaml` (`rules.reply_rules`).

**Substance.** What is said in (almost) every answer whatever its content — greetings, "留言已收悉",
"现回复如下", thanks, "已转某局调查处理", dates — is removed first (`boilerplate` patterns). An answer
with less than `min_substance` characters left is empty: relevance, completeness and interpretability
are 0. For relevance and completeness the answer's restatement of the demand's title (quoted or
verbatim) is removed too, so that "关于您反映的“X”问题，已转交相关单位" does not look on topic.

**Components** (each 0–1):

* relevance — cosine of TF-IDF vectors of the demand (title words double, the start of the
  description) and the substance, tf = 1 + ln(count), idf from the scope's document frequencies
  (`similar.Weights`), divided by `relevance_full` and capped at 1.
* completeness — the demand's asked points are its title and the sentences with an ask marker (吗,
  是否, 何时, 如何, 希望, 建议 … `ask_markers`), at most `max_points`; a point's key words are its
  `point_terms` rarest words; the point is addressed when the substance contains at least
  `completeness_share` of them. Score = addressed / points.
* interpretability — cue classes found in the substance (`cues`: basis = a cited law, policy or
  investigated fact and figures; action = what was or will be done; when = dates and terms; who =
  a responsible body or a contact), Σ weight of the classes present / Σ weights.
* timeliness — from the case clock: 1 when answered by the deadline the state had (the row's
  `due_at` change), falling linearly to 0 at `late_zero_days` late; None without a deadline.

**Overall** = Σ weight · component / Σ weight over the components present; weak when below
`weak_below`. Reasons name the components under `component_floor`.

**Limits.** This measures words, not truth: an answer may cite a regulation that does not apply,
promise what is never done, or address a point with the right words and the wrong answer. Points
are found by markers, so a demand that asks without them has only its title as a point; word
overlap misses answers that use other words (synonyms, 电梯 for 升降梯). The cue patterns are
Chinese-administrative phrasing and must be reviewed for another locality. Agreement with labels
made by hand is measured by bench/reply_quality.py (bench/README.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .rules import ReplyRules
from .text import normalise, terms, tokens

COMPONENTS = ("relevance", "completeness", "interpretability", "timeliness")
LABELS = {
    "relevance": "与诉求相关性低",
    "completeness": "未回应所提问题",
    "interpretability": "缺少依据、措施或时限",
    "timeliness": "超期答复",
}
QUOTED = re.compile(r"[“\"「『《]([^”\"」』》]{4,80})[”\"」』》]")
SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")


@dataclass
class ReplyScore:
    """The scores of one answer, with the reasons a supervisor reads."""

    relevance: float
    completeness: float
    interpretability: float
    timeliness: float | None
    overall: float
    weak: bool
    reasons: list[str] = field(default_factory=list)
    points: int = 0
    addressed: int = 0
    cues: list[str] = field(default_factory=list)

    def components(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in COMPONENTS}


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


class ReplyScorer:
    """Scores answers with one set of rules (patterns compiled once)."""

    def __init__(self, rules: ReplyRules):
        self.rules = rules
        self.boilerplate = [re.compile(p) for p in rules.boilerplate]
        self.cues = {name: [re.compile(p) for p in c.patterns] for name, c in rules.cues.items()}
        self.cue_weights = {name: c.weight for name, c in rules.cues.items()}

    def substance(self, reply: str) -> str:
        """The answer without what every answer says."""
        text = normalise(reply)
        for pattern in self.boilerplate:
            text = pattern.sub(" ", text)
        return " ".join(text.split())

    def without_restatement(self, text: str, title: str) -> str:
        """`text` without the title said again, verbatim or as a quotation that mostly repeats it."""
        head = normalise(title).rstrip("？?!！。. ")
        if len(head) >= 4:
            text = text.replace(head, " ")
        title_grams = bigrams(head)

        def drop(m: re.Match) -> str:
            grams = bigrams(m.group(1))
            return " " if grams and len(grams & title_grams) >= 0.5 * len(grams) else m.group(0)

        return QUOTED.sub(drop, text)

    def asked_points(self, title: str, description: str) -> list[str]:
        """The title and the demand's sentences that ask something, in order (at most `max_points`)."""
        points = [title.strip()] if title.strip() else []
        for sentence in SENTENCE.findall(normalise(description)[: self.rules.demand_chars]):
            if any(marker in sentence for marker in self.rules.ask_markers):
                points.append(sentence.strip())
        return points[: self.rules.max_points]

    def score(
        self,
        title: str,
        description: str,
        reply: str,
        *,
        idf: Callable[[str], float] | None = None,
        replied_at: datetime | None = None,
        due_at: datetime | None = None,
    ) -> ReplyScore:
        """Score one answer to one demand; `idf` weighs words (None: every word weighs 1)."""
        rules = self.rules
        idf = idf or (lambda _w: 1.0)
        substance = self.substance(reply)
        empty = len(substance) < rules.min_substance
        content = "" if empty else self.without_restatement(substance, title)
        relevance = (
            0.0 if empty else min(1.0, cosine(terms(title, description), content, idf) / rules.relevance_full)
        )
        points = self.asked_points(title, description)
        credits = []
        for point in points:
            key = sorted(set(tokens(point)), key=lambda w: (-idf(w), w))[: rules.point_terms]
            if key:
                found = sum(1 for w in key if w in content)
                credits.append(min(1.0, found / len(key) / rules.completeness_share))
        addressed = sum(1 for c in credits if c >= 1.0)
        completeness = sum(credits) / len(credits) if credits and not empty else 0.0
        present = [] if empty else [n for n, ps in self.cues.items() if any(p.search(substance) for p in ps)]
        total = sum(self.cue_weights.values()) or 1.0
        interpretability = sum(self.cue_weights[n] for n in present) / total
        timeliness = None
        late_days = 0.0
        if replied_at is not None and due_at is not None:
            late_days = max(0.0, (replied_at - due_at).total_seconds() / 86400)
            timeliness = max(0.0, 1.0 - late_days / rules.late_zero_days)
        values = {
            "relevance": relevance,
            "completeness": completeness,
            "interpretability": interpretability,
            "timeliness": timeliness,
        }
        weights = rules.weights.model_dump()
        used = {k: v for k, v in values.items() if v is not None and weights[k] > 0}
        overall = sum(weights[k] * v for k, v in used.items()) / (sum(weights[k] for k in used) or 1.0)
        reasons = ["答复无实质内容（仅受理、转办或客套）"] if empty else []
        for name, value in values.items():
            if value is not None and value < rules.component_floor and not (empty and name != "timeliness"):
                reasons.append(
                    f"{LABELS[name]}（晚 {late_days:.1f} 天）"
                    if name == "timeliness"
                    else (
                        f"{LABELS[name]}（{addressed}/{len(points)}）"
                        if name == "completeness"
                        else LABELS[name]
                    )
                )
        return ReplyScore(
            relevance=round(relevance, 3),
            completeness=round(completeness, 3),
            interpretability=round(interpretability, 3),
            timeliness=None if timeliness is None else round(timeliness, 3),
            overall=round(overall, 3),
            weak=overall < rules.weak_below,
            reasons=reasons,
            points=len(points),
            addressed=addressed,
            cues=present,
        )


def cosine(demand: dict[str, int], content: str, idf: Callable[[str], float]) -> float:
    """Cosine of the TF-IDF vectors of the demand's words and the words of `content`."""
    answer = Counter(tokens(content))
    if not demand or not answer:
        return 0.0

    def vector(counts) -> dict[str, float]:
        vec = {w: (1 + math.log(n)) * idf(w) for w, n in counts.items() if n > 0}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {w: v / norm for w, v in vec.items()}

    a, b = vector(demand), vector(answer)
    return min(1.0, sum(v * b.get(w, 0.0) for w, v in a.items()))
