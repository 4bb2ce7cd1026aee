"""Petition (信访) histories under the 信访工作条例: 登记 → 转送 → 受理 → 办理 → 处理意见书, then 复查 and 复核.

Plots (the state a story ends in): registered, routed, declined (by 信访 staff at registration, or by
the competent body), handling (with an approved 延期), hearing (听证, clock stopped), replied (in the
复查 window), concluded (the petitioner accepts, or the window runs out), reviewing, review_replied
and final (复核终结). Letters and visits are registered by the 信访局's staff; web petitions are filed
by a resident, who then asks for 复查 and 复核 themselves.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.org.models import Unit, User
from taizhang.org.roles import Role

from .bodies import body_above, deciding_leader
from .casting import start_time, weighted
from .demand_casting import caller, pick_place, unit_of
from .demand_org import PETITION_REGISTRAR, PETITION_ROUTER, holders
from .org import Org, Place
from .people import Cast
from .petition_catalog import DECLINED, HANDLED, HEARING_RECORD, TRANSFER_OPINIONS, PetitionText
from .timeline import Timeline

# The first plots of every run (12 petitions show every state); later ones are drawn by weight.
OPENING = (
    "final",
    "concluded",
    "declined",
    "handling",
    "replied",
    "routed",
    "reviewing",
    "hearing",
    "concluded_window",
    "review_replied",
    "declined_routed",
    "registered",
)
WEIGHTS = {"concluded": 5, "replied": 3, "handling": 3, "registered": 1, "routed": 1, "declined": 1}
AGES = {
    "final": (84, 88),
    "concluded": (42, 80),
    "concluded_window": (66, 80),
    "declined": (1, 60),
    "declined_routed": (6, 60),
    "handling": (70, 78),
    "replied": (30, 50),
    "routed": (3, 10),
    "reviewing": (45, 60),
    "review_replied": (62, 75),
    "hearing": (20, 40),
    "registered": (0.3, 8),
}


@dataclass
class Office:
    registrar: User  # 信访局登记接待员
    router: User  # 信访局转送交办员


@dataclass
class PetitionStory(Timeline):
    rng: random.Random
    plot: str
    petition: PetitionText
    place: Place
    text: dict[str, str]
    channel: str
    reporter: User  # the registrar, or the resident who filed online
    bureau: Office  # the 信访局
    unit: Unit
    handler: User
    leader: User  # the competent body's own head: approves 延期 (leader@lead)
    review_body: Unit  # one level above the competent body (复查)
    reviewer: User
    recheck_body: Unit  # one level above the review body (复核)
    rechecker: User
    start: datetime
    pace: float = 1.0  # < 1 for a story that must get through 复查 and 复核 within the demo's 90 days
    case: Case | None = None

    def later(self, lo: float, hi: float) -> datetime:
        """Between `lo` and `hi` days from now (scaled by the pace), in office hours on a working day."""
        return self.days(lo * self.pace, hi * self.pace)

    def steps(self) -> Iterator[datetime]:
        return play(self)

    @property
    def online(self) -> bool:
        return self.channel == "web"

    def fill(self, template: str) -> str:
        later = timezone.localtime(self.now) + timedelta(days=self.rng.randint(10, 30))
        return template.format(**self.text, unit=self.unit.name, later=f"{later:%-m月%-d日}")

    def create(self) -> None:
        p = self.petition
        data = CaseInput(
            mechanism="petition",
            title=self.fill(p.title),
            description=self.fill(p.request),
            division=self.place.grid.code,
            category=p.category,
            channel=self.channel,
            address=f"潞州区{self.place.street.name}{self.text['addr']}" if self.text["addr"] else "",
            fields={
                "petitioner_name": self.text["caller"],
                "petitioner_phone": self.text["phone"],
                "petitioner_address": f"潞州区{self.place.street.name}{self.place.community.name}",
                "people_count": p.people,
                "request": self.fill(p.request),
            },
        )
        self.case, _ = do_create_case(self.reporter, data)

    def ask(self, own: str, recorded: str, field: str, text: str) -> None:
        """The petitioner asks (online) or the 信访局 records a request that came by letter."""
        if self.online:
            self.act(self.reporter, own, fields={field: text})
        else:
            self.act(
                self.bureau.registrar,
                recorded,
                opinion="信访人来信提出，邮戳日期在法定期限内",
                fields={field: text},
            )


def play(s: PetitionStory) -> Iterator[datetime]:
    p, office = s.petition, s.bureau
    s.create()
    if s.plot == "registered":
        return
    yield s.later(0.5, 3)
    if s.plot == "declined":
        s.act(
            office.registrar,
            "decline",
            fields={"decline_reason": p.decline[0], "proper_channel": p.decline[1]},
        )
        return
    route = "assign" if s.rng.random() < 0.3 else "transfer"
    s.act(
        office.router,
        route,
        params={"unit": s.unit.code, "category": p.category},
        opinion=s.rng.choice(TRANSFER_OPINIONS),
    )
    if s.plot == "routed":
        return
    yield s.later(2, 8)
    if s.plot == "declined_routed":
        s.act(s.handler, "decline", fields={"decline_reason": p.decline[0], "proper_channel": p.decline[1]})
        return
    s.act(s.handler, "accept", opinion="属于本机关职权范围，予以受理")
    if s.plot == "hearing":
        yield s.later(5, 12)
        day = timezone.localtime(s.now).date() + timedelta(days=s.rng.randint(5, 10))
        s.act(
            s.handler,
            "start_hearing",
            opinion="事项重大复杂，举行听证",
            fields={"hearing_date": day.isoformat()},
        )
        return
    if s.plot == "handling":
        due = s.case.due_at
        yield s.snap(due - timedelta(days=s.rng.uniform(3, 6)), workday=True)
        s.act(
            s.handler,
            "extend",
            opinion="涉及多个部门和历史遗留问题，需进一步调查核实",
            params={"extend_by": "30 天"},
        )
        yield s.office(2, 30, workday=True)
        s.decide(s.leader, True, "同意延期30日，请书面告知信访人延期理由")
        return
    yield s.later(10, 18)
    if p.category != "appeal":  # 建议意见类 and 检举控告类: the answer concludes the matter, no 复查 window
        s.act(s.handler, "reply_final", fields={"decision": p.decision, "reply": s.fill(p.reply)})
        return
    s.act(s.handler, "reply", fields={"decision": p.decision, "reply": s.fill(p.reply)})
    if s.plot == "replied":
        return
    if s.plot == "concluded":
        yield s.later(2, 10)
        if s.online:
            s.act(s.reporter, "accept_reply", opinion="认可处理意见")
        else:
            s.act(office.registrar, "accept_reply", opinion="信访人签收处理意见书并表示认可")
        return
    if s.plot == "concluded_window":
        yield s.snap(s.case.due_at + timedelta(days=s.rng.uniform(0.5, 3)), workday=True)
        s.act(office.registrar, "conclude")
        return
    yield s.later(3, 8)
    s.ask(
        "request_review",
        "record_review_request",
        "review_request",
        p.review_request or "信访人对处理意见不服，请求复查",
    )
    yield s.later(0.5, 2)
    s.act(
        office.router,
        "assign_review",
        params={"unit": s.review_body.code},
        opinion=f"转{s.review_body.name}复查",
    )
    if s.plot == "reviewing":
        return
    yield s.later(10, 15)
    review = p.review_reply or "经复查，原处理意见认定事实清楚，依据正确，维持原处理意见。"
    s.act(s.reviewer, "review_reply", fields={"review_result": "uphold", "review_reply": review})
    if s.plot == "review_replied":
        return
    yield s.later(3, 6)
    s.ask(
        "request_recheck",
        "record_recheck_request",
        "recheck_request",
        p.recheck_request or "信访人对复查意见不服，请求复核",
    )
    yield s.later(0.5, 1.5)
    s.act(
        office.router,
        "assign_recheck",
        params={"unit": s.recheck_body.code},
        opinion=f"报{s.recheck_body.name}复核",
    )
    yield s.later(2, 4)
    day = timezone.localtime(s.now).date() + timedelta(days=3)
    s.act(
        s.rechecker, "start_recheck_hearing", opinion="复核举行听证", fields={"hearing_date": day.isoformat()}
    )
    yield s.later(4, 6)
    s.act(s.rechecker, "end_recheck_hearing", fields={"hearing_record": HEARING_RECORD})
    yield s.later(4, 8)
    recheck = (
        p.recheck_reply or "经复核，维持复查意见。本复核意见为最终意见，以同一事实和理由再次提出的不再受理。"
    )
    s.act(s.rechecker, "recheck_reply", fields={"recheck_result": "uphold", "recheck_reply": recheck})


def cast_petitions(count: int, seed: int, org: Org, cast: Cast, end: datetime) -> list[PetitionStory]:
    office = Office(
        registrar=holders(cast, Role.INTAKE, "LZQ", PETITION_REGISTRAR)[0],
        router=holders(cast, Role.DISPATCHER, "LZQ", PETITION_ROUTER)[0],
    )
    stories = []
    for i in range(count):
        rng = random.Random(f"{seed}-petition-{i}")
        plot = OPENING[i] if i < len(OPENING) else weighted(rng, list(WEIGHTS.items()))
        pool = DECLINED if plot.startswith("declined") else HANDLED
        if plot in ("reviewing", "review_replied", "final"):
            pool = tuple(p for p in pool if p.review_request) or pool
        if plot in ("replied", "concluded_window", "declined_routed"):
            # Only 申诉求决类 have a 复查 window; a 检举控告 goes to a 纪检监察机关 only, not to the body named.
            pool = tuple(p for p in pool if p.category == "appeal") or pool
        petition = rng.choice(pool)
        place, text, _ = pick_place(rng, org, petition.where)
        text["caller"], text["phone"] = caller(rng)
        text["caller"] = text["caller"][0] + rng.choice(("某", "某某"))
        online = plot not in ("declined", "final") and rng.random() < 0.3
        reporter = rng.choice(cast.all(Role.RESIDENT, None)) if online else office.registrar
        if online:
            text["caller"] = reporter.display_name
        unit = unit_of(org, petition.unit, place)
        review_body = body_above(org, unit)
        recheck_body = body_above(org, review_body)
        lo, hi = AGES[plot]
        stories.append(
            PetitionStory(
                rng=rng,
                plot=plot,
                petition=petition,
                place=place,
                text=text,
                channel="web" if online else weighted(rng, [("letter", 5), ("visit", 4), ("phone", 1)]),
                reporter=reporter,
                bureau=office,
                unit=unit,
                handler=cast.up(org, Role.HANDLER, unit)[0],
                leader=deciding_leader(org, cast, unit),
                review_body=review_body,
                reviewer=cast.one(Role.HANDLER, review_body.code),
                recheck_body=recheck_body,
                rechecker=cast.one(Role.HANDLER, recheck_body.code),
                start=start_time(rng, lo, hi, (8, 17), end),
                pace=0.7 if plot == "final" else 1.0,
            )
        )
    return stories
