"""12345 demand histories: each story files one demand and takes it as far as its plot goes.

Plots (the state a story ends in): accepted, invalid, referred (转110/119/120), guided (引导诉讼、复议、
仲裁或信访), merged (a repeat call merged into an open
master), direct (a 咨询 answered at once by the call taker, then 回访), dispatched, return_review,
handling, replied, reopened (回访不满意 → 重办, still open) and closed. Variants: returned (退单 →
改派), refused (退单 → 驳回), co (协办 units give their part), extend (延期, usually approved), late_sign
(signed after the 24 h limit), late_reply (answered after the deadline, urged), redo (回访不满意 →
重办 → answered again) and unreachable (回访未接通办结).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.clock.clock import Duration, get_clock
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.models import Unit, User

from . import demand_catalog as cat
from .demand_catalog import DemandText
from .org import Place
from .timeline import Timeline

SATISFACTION = {  # (满意, 基本满意) weights by the quality of the answer
    "good": (85, 15),
    "partial": (40, 60),
    "poor": (25, 75),
}
EXTEND_BY = {"general": "7 天", "complex": "15 天"}


@dataclass
class Desk:
    """The district's 12345 centre and who supervises it."""

    takers: list[User]  # 受理员: take calls, answer 咨询, visit (回访)
    dispatcher: User  # 派单员: dispatches, reviews 退单, approves 延期, merges repeats
    leader: User
    inspector: User


@dataclass
class DemandStory(Timeline):
    rng: random.Random
    plot: str
    variants: frozenset[str]
    demand: DemandText
    place: Place
    located: bool  # the demand names a place (coordinates and an address)
    text: dict[str, str]
    channel: str
    reporter: User
    taker: User
    desk: Desk
    unit: Unit
    handler: User
    quality: str  # of the answer: good, partial or poor
    start: datetime
    lat: float = 0.0
    lon: float = 0.0
    grade: str = "general"
    co_units: list[Unit] = field(default_factory=list)
    co_handlers: list[User] = field(default_factory=list)
    wrong_unit: Unit | None = None
    wrong_handler: User | None = None
    invalid: tuple[str, str, str] | None = None
    outcome: cat.Outcome | None = None  # 转110/119/120 or 引导法定途径 at 受理
    master: DemandStory | None = None  # the earlier call a repeat is merged into
    hold_days: float = 0.0  # a master is not answered before this many days (its repeats arrive first)
    answer_by: datetime | None = None  # a story that is to end 待回访 answers before the demo's "now"
    case: Case | None = None

    def steps(self) -> Iterator[datetime]:
        return play(self)

    # -- texts -----------------------------------------------------------------------------------------

    def fill(self, template: str, **more: str) -> str:
        return template.format(**self.text, **more)

    @property
    def title(self) -> str:
        if self.outcome:
            return self.outcome.title
        return self.invalid[0] if self.invalid else self.fill(self.demand.title)

    def reply_text(self) -> str:
        day = timezone.localtime(self.now)
        later = day + timedelta(days=self.rng.randint(3, 12))
        dates = {"unit": self.unit.name, "today": f"{day:%-m月%-d日}", "later": f"{later:%-m月%-d日}"}
        if self.quality == "good":
            return self.fill(self.demand.reply, **dates)
        if self.quality == "partial":
            return self.fill(self.rng.choice(cat.PARTIAL_REPLIES), title=self.title, **dates)
        return self.rng.choice(cat.POOR_REPLIES)

    def second_reply(self) -> str:
        day = timezone.localtime(self.now)
        return cat.SECOND_REPLY.format(unit=self.unit.name, today=f"{day:%-m月%-d日}")

    # -- acting ----------------------------------------------------------------------------------------

    def create(self) -> None:
        opener = self.rng.choice(cat.OPENERS[self.channel]).format(caller=self.text["caller"])
        body = self.invalid[1] if self.invalid else self.fill(self.demand.description)
        category = self.invalid_category() if self.invalid else self.demand.category
        topic = "" if self.invalid else self.demand.topic
        if self.outcome:
            body, category, topic = self.outcome.description, self.outcome.category, self.outcome.topic
        street = self.place.street.name
        data = CaseInput(
            mechanism="demand",
            title=self.title,
            description=opener + body,
            division=self.place.grid.code,
            category=category,
            grade=self.grade,
            channel=self.channel,
            address=f"潞州区{street}{self.text['addr']}" if self.located else "",
            lat=f"{self.lat:.6f}" if self.located else None,
            lon=f"{self.lon:.6f}" if self.located else None,
            fields={
                "caller_name": self.text["caller"],
                "caller_phone": self.text["phone"],
                "topic": topic,
            },
        )
        self.case, _ = do_create_case(self.reporter, data)

    def invalid_category(self) -> str:
        return "consult" if "咨询" in self.invalid[0] else "help"

    def within(self, lo: float, hi: float, limit: float) -> datetime:
        """`lo`–`hi` hours from now, moved into office hours when that still leaves it under `limit` hours."""
        moment = self.now + timedelta(hours=self.rng.uniform(lo, hi))
        snapped = self.snap(moment)
        return snapped if snapped - self.now < timedelta(hours=limit) else moment

    def return_moment(self) -> datetime:
        """When the unit asks for 退单 after the 派单 just made: within the locality's window (`within`)."""
        moment = self.within(0.5, 8, 23)
        mech = get_mechanism("demand")
        window = mech.transition_rule(mech.transitions["return"], "within", self.case.division.path)
        if window:
            end = get_clock().add(self.now, Duration.parse(window))
            if moment > end:
                moment = self.now + (end - self.now) * self.rng.uniform(0.2, 0.9)
        return moment

    def master_open(self) -> Case | None:
        """The master case if a repeat can still be merged into it now."""
        if self.master is None or self.master.case is None:
            return None
        master = Case.objects.filter(pk=self.master.case.pk).first()
        if master is None or master.state_kind == "closed" or master.merged_into_id is not None:
            return None
        return master


def play(s: DemandStory) -> Iterator[datetime]:
    """The whole life of one demand, stopping where its plot ends."""
    s.create()
    if s.plot == "accepted":
        return
    quick = s.plot == "direct" or s.grade == "emergency"  # 紧急 is dispatched within half an hour
    yield s.soon(0.05, 0.3) if quick else s.soon(0.1, 1.2)
    if s.plot == "invalid":
        s.act(s.taker, "invalidate", opinion=s.invalid[2])
        return
    if s.outcome is not None:  # 转110/119/120, 引导法定途径: closed at 受理
        s.act(s.taker, s.outcome.transition, opinion=s.outcome.opinion, fields=dict(s.outcome.fields))
        return
    if s.plot == "merged":
        master = s.master_open()
        if master is not None:
            opinion = cat.MERGE_OPINION.format(master=master.number)
            s.act(s.desk.dispatcher, "merge", params={"master": master.number}, opinion=opinion)
            return
        s.plot = "closed"  # the master was already answered: this call is handled on its own
    if s.plot == "direct":
        s.act(
            s.taker,
            "answer_directly",
            opinion="依据政策知识库当即答复来电人",
            fields={"reply": s.reply_text()},
        )
    else:
        yield from dispatch(s)
        if s.plot in ("dispatched", "return_review"):
            return
        yield from sign(s)
        if s.co_handlers:
            yield from assist(s)
        if s.plot == "handling":
            yield from linger(s)
            return
        if "extend" in s.variants:
            yield from extend(s)
        yield from reply(s)
        if s.plot == "replied":
            return
    yield from visit(s)


def dispatch(s: DemandStory) -> Iterator[datetime]:
    """派单, with a 退单 the dispatcher accepts (改派) or refuses (驳回) on the way."""
    d, grade, category = s.desk, s.grade, s.demand.category
    by = d.dispatcher if s.rng.random() < 0.8 else s.taker
    opinion = s.rng.choice(cat.DISPATCH_OPINIONS)
    if "returned" in s.variants and s.wrong_unit is not None:
        s.act(
            by,
            "dispatch",
            params={"unit": s.wrong_unit.code, "grade": grade, "category": category},
            opinion=opinion,
        )
        yield s.return_moment()
        reason = s.rng.choice(cat.RETURN_REASONS).format(right=s.unit.name)
        s.act(s.wrong_handler, "return", opinion=reason, fields={"return_reason": reason})
        yield s.office(0.3, 4)
        s.act(d.dispatcher, "accept_return", opinion=cat.ACCEPT_RETURN.format(right=s.unit.name))
        yield s.soon(0.1, 0.8)
    params = {"unit": s.unit.code, "grade": grade, "category": category}
    if s.co_units:
        params["co_units"] = [u.code for u in s.co_units]
        opinion += "；" + cat.CO_OPINIONS.format(co="、".join(u.name for u in s.co_units))
    s.act(by, "dispatch", params=params, opinion=opinion)
    if "refused" in s.variants and s.wrong_unit is not None:
        yield s.return_moment()
        reason = s.rng.choice(cat.RETURN_REASONS).format(right=s.wrong_unit.name)
        s.act(s.handler, "return", opinion=reason, fields={"return_reason": reason})
        if s.plot == "return_review":
            return
        yield s.office(0.3, 4)
        s.act(d.dispatcher, "refuse_return", opinion=s.rng.choice(cat.REFUSE_RETURN))


def sign(s: DemandStory) -> Iterator[datetime]:
    """签收: at once for 紧急, within the 24 h mostly; late ones after a 催办."""
    if s.grade == "emergency":
        yield s.soon(0.1, 0.6)
    elif "late_sign" in s.variants:
        yield s.soon(24.5, 28)
        s.act(s.desk.dispatcher, "urge", opinion="工单派发已超24小时未签收，请立即签收办理")
        yield s.within(2, 30, 40)
    else:
        yield s.within(0.3, 16, 23)
    s.act(s.handler, "sign", opinion=s.rng.choice(cat.SIGN_OPINIONS))


def assist(s: DemandStory) -> Iterator[datetime]:
    for co_handler in s.co_handlers:
        yield s.office(2, 40, workday=True)
        if s.case.state != "handling":
            return
        s.act(co_handler, "assist", opinion=s.demand.assist or cat.ASSIST_GENERIC)


def extend(s: DemandStory) -> Iterator[datetime]:
    """延期 a day or two before the deadline; the dispatcher (or the leader) usually approves."""
    due = s.case.due_at
    yield max(s.snap(due - timedelta(days=s.rng.uniform(1, 2)), workday=True), s.now + timedelta(hours=1))
    if s.now >= s.case.due_at:
        return
    by = EXTEND_BY.get(s.grade, "7 天")
    s.act(s.handler, "extend", opinion=s.rng.choice(cat.EXTEND_REASONS), params={"extend_by": by})
    yield s.office(1, 8)
    approver = s.desk.dispatcher if s.rng.random() < 0.7 else s.desk.leader
    if s.rng.random() < 0.85:
        s.decide(approver, True, f"同意延期{by.replace(' ', '')}，请在新时限内办结答复")
    else:
        s.decide(approver, False, "事项不复杂，不予延期，请按原时限办结")


def reply(s: DemandStory) -> Iterator[datetime]:
    """答复 within the time limit (after the master's repeats came in), or late after a 催办."""
    due = s.case.due_at
    earliest = s.start + timedelta(days=s.hold_days)
    if s.grade == "emergency":
        yield s.soon(0.3, 1.5)
    elif "late_reply" in s.variants and due is not None:
        yield max(due + timedelta(hours=s.rng.uniform(2, 20)), earliest)
        s.act(s.desk.dispatcher, "urge", opinion=s.rng.choice(cat.URGE_OPINIONS))
        yield s.days(0.5, 3)
    elif due is not None:
        left = max(1.0, (due - s.now).total_seconds() / 3600)
        moment = s.within(min(0.5, left / 4), max(1.0, left * 0.8), max(1.0, left * 0.95))
        moment = max(moment, earliest) if earliest < due else moment
        if s.answer_by is not None and moment > s.answer_by:
            moment = max(s.now + timedelta(minutes=20), s.answer_by - timedelta(hours=s.rng.uniform(0, 6)))
        yield moment
    else:
        yield s.days(1, 4)
    if s.case.state != "handling":
        return
    s.act(s.handler, "reply", opinion=s.rng.choice(cat.REPLY_OPINIONS), fields={"reply": s.reply_text()})


def visit(s: DemandStory) -> Iterator[datetime]:
    """回访 within 2 working days: satisfied or basic (by the answer's quality), unreachable, or 重办."""
    yield s.office(2, 30)
    visitor = s.rng.choice(s.desk.takers)
    if "unreachable" in s.variants:
        s.act(visitor, "close_unreachable", opinion=s.rng.choice(cat.UNREACHABLE))
        return
    if "redo" in s.variants or s.plot == "reopened":
        note = s.rng.choice(cat.VISIT_UNSATISFIED)
        s.act(visitor, "visit_unsatisfied", opinion="回访不满意，转重办", fields={"visit_note": note})
        if s.plot == "reopened":
            return
        yield s.days(1, 4)
        s.act(s.handler, "reply", opinion="重办完成，已再次答复诉求人", fields={"reply": s.second_reply()})
        yield s.office(2, 30)
        visitor = s.rng.choice(s.desk.takers)
        s.act(visitor, "visit_satisfied" if s.rng.random() < 0.7 else "visit_basic")
        return
    weights = SATISFACTION[s.quality]
    outcome = s.rng.choices(("visit_satisfied", "visit_basic"), weights=weights)[0]
    s.act(visitor, outcome)


def linger(s: DemandStory) -> Iterator[datetime]:
    """An open demand past its deadline: the dispatcher urges, the 纪委监委 flags the older ones."""
    due = s.case.due_at
    if due is None:
        return
    yield s.snap(due + timedelta(hours=s.rng.uniform(3, 30)))
    s.act(s.desk.dispatcher, "urge", opinion=s.rng.choice(cat.URGE_OPINIONS))
    yield s.days(2, 5)
    s.act(s.desk.inspector, "flag", opinion=s.rng.choice(cat.FLAG_OPINIONS))
