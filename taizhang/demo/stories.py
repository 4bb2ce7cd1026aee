"""Case histories: each story is a generator that acts on one case and yields when it next acts.

The builder pins the platform's clock to each yielded moment before resuming the story, so every
history row is written by the real actions layer at a plausible past time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import Case
from taizhang.clock.clock import Duration
from taizhang.org.models import Unit, User

from .catalog import EXTEND_REASONS, PASS_OPINIONS, REJECT_REASONS, REWORK_REASONS, Hazard
from .org import Place
from .photos import upload_photos
from .timeline import Timeline

EXTEND_BY = {"general": "5 工作日", "larger": "10 工作日", "major": "15 工作日"}
LATE_DAYS = {"general": (1, 6), "larger": (2, 9), "major": (3, 12)}


def district_supervises(grade: str) -> bool:
    """A 重大隐患 is handed over by the district's dispatcher: the district is its supervising body."""
    return grade == "major"


@dataclass
class Staff:
    """The people of the case's street and of the district who register, assign, approve and supervise."""

    intake: User
    dispatcher: User
    leader: User
    district_dispatcher: User
    district_leader: User
    inspector: User


@dataclass
class Story(Timeline):
    rng: random.Random
    plot: str
    variants: frozenset[str]
    hazard: Hazard
    place: Place
    grade: str
    channel: str
    reporter: User
    staff: Staff
    unit: Unit
    handler: User
    officer_handles: bool  # the handler is the enterprise's 安全员 (no handler role)
    verifier: User  # of the supervising body (bodies.hazard_verifiers)
    start: datetime
    text: dict[str, str]
    lat: float
    lon: float
    wrong_unit: Unit | None = None
    wrong_handler: User | None = None
    enf_unit: Unit | None = None
    enf_handler: User | None = None
    case: Case | None = None

    def steps(self) -> Iterator[datetime]:
        return play(self)

    @property
    def district_supervises(self) -> bool:
        return district_supervises(self.grade)

    @property
    def supervising_leader(self) -> User:
        """The leader of the supervising body, who approves 挂账 and extensions (leader@supervisor)."""
        return self.staff.district_leader if self.district_supervises else self.staff.leader

    @property
    def supervising_dispatcher(self) -> User:
        """The dispatcher who handed the hazard over (and may approve its extension)."""
        return self.staff.district_dispatcher if self.district_supervises else self.staff.dispatcher

    # -- acting ----------------------------------------------------------------------------------------

    def create(self) -> None:
        photos = []
        if self.channel in ("grid", "resident", "inspection", "self_check") and self.rng.random() < 0.6:
            photos = upload_photos(self.reporter, self.rng, "before", self.now, self.rng.randint(1, 2))
        # People in the street report as 一般 and the dispatcher grades; inspections grade at once.
        first_grade = self.grade if self.channel in ("inspection", "self_check") else "general"
        where = self.text.get("ent") or self.text.get("shop") or ""
        data = CaseInput(
            mechanism="hazard",
            title=self.hazard.title.format(**self.text),
            description=self.hazard.description.format(**self.text),
            division=self.place.grid.code,
            category=self.hazard.category,
            grade=first_grade,
            channel=self.channel,
            address=f"潞州区{self.place.street.name}{self.text['addr']}",
            lat=f"{self.lat:.6f}",
            lon=f"{self.lon:.6f}",
            attachments=photos,
            fields={
                "hazard_place": self.text["addr"],
                "enterprise": where if self.hazard.where in ("enterprise", "shop") else "",
            },
        )
        self.case, _ = do_create_case(self.reporter, data)

    @property
    def acting_handler(self) -> User:
        """Who cordons and lifts cordons: the handler, or the street's dispatcher for an enterprise's 安全员."""
        return self.staff.dispatcher if self.officer_handles else self.handler

    def plan_fields(self) -> dict:
        """The 五落实 of a 重大隐患 (措施、责任、资金、时限、预案), filled in when signing."""
        if self.grade == "general":
            return {}
        fields = {"measures": self.hazard.measures, "responsible_person": self.handler.display_name}
        if self.grade == "major":
            deadline = timezone.localtime(self.now).date() + timedelta(days=self.rng.randint(25, 40))
            fields.update(
                {
                    "funds": f"{self.rng.uniform(0.5, 60):.1f}",
                    "plan_deadline": deadline.isoformat(),
                    "contingency": "制定专项应急预案，整改期间落实专人值守、配备应急器材，险情升级立即撤离人员",
                }
            )
        return fields


def play(s: Story) -> Iterator[datetime]:
    """The whole life of one case, stopping at the state its plot ends in."""
    rng, hz, staff = s.rng, s.hazard, s.staff
    s.create()
    if s.plot == "reported":
        return
    if s.plot == "fixed":
        yield s.office(0.1, 1.2)
        # An enterprise never closes its own self-check finding: the street checks it on the spot.
        closer = staff.dispatcher if s.channel == "self_check" else s.reporter
        s.act(closer, "fix_on_spot", opinion=hz.spot, photos=1)
        return
    urgent = s.grade == "major"
    yield s.soon(0.1, 1) if urgent else s.office(0.3, 3)
    registrar = staff.dispatcher if rng.random() < 0.7 else staff.intake
    if s.plot == "rejected":
        s.act(registrar, "reject", opinion=rng.choice(REJECT_REASONS))
        return
    s.act(
        registrar,
        "register",
        params={"grade": s.grade, "category": hz.category},
        opinion="经核实情况属实，予以立案" if s.channel != "hotline" else "已电话回访核实，立案办理",
    )
    if s.plot == "registered":
        return
    assigner = s.supervising_dispatcher
    yield s.soon(0.1, 1) if urgent else s.office(0.2, 2)
    if "returned" in s.variants and s.wrong_unit is not None:
        s.act(assigner, "assign", params={"unit": s.wrong_unit.code}, opinion="请按职责限期整改")
        yield s.soon(0.2, 1.5) if urgent else s.office(1, 6)
        s.act(s.wrong_handler, "return", opinion=f"该事项不属于本单位职责范围，建议交由{s.unit.name}办理")
        yield s.soon(0.1, 0.5) if urgent else s.office(0.3, 3)
    opinion = "重大隐患，请立即制定整改方案，落实“五落实”" if urgent else "请按时限完成整改并上传整改前后照片"
    s.act(assigner, "assign", params={"unit": s.unit.code}, opinion=opinion)
    if s.plot == "assigned":
        return
    yield s.soon(0.1, 1.5) if urgent else s.office(0.5, 6, workday=True)
    s.act(
        s.handler,
        "sign",
        fields=s.plan_fields(),
        opinion="已签收，整改方案和“五落实”已明确" if urgent else "已签收，立即组织整改",
    )
    if hz.cordon and (s.plot == "controlled" or "cordon" in s.variants or urgent):
        yield s.soon(0.1, 0.8)
        s.act(
            s.acting_handler,
            "cordon",
            opinion=hz.cordon,
            fields={"cordon": hz.cordon, "evacuated_people": rng.randint(3, 60)},
        )
        if s.plot == "controlled":
            return
        yield s.days(1, 3)
        s.act(s.acting_handler, "lift_cordon", opinion="险情已排除，解除封控，转入整改")
    if s.plot == "rectifying":
        yield from linger(s)
        return
    if s.plot == "parked" or "park" in s.variants:
        yield from park(s)
        if s.plot == "parked":
            return
    if "extend" in s.variants:
        yield from extend(s)
    if s.plot in ("enforcement", "suspended") or ("enforce" in s.variants and s.enf_unit is not None):
        yield s.days(1, 4)
        s.act(
            s.supervising_dispatcher,  # the body that handed it over asks for 联合执法
            "refuse",
            params={"unit": s.enf_unit.code},
            opinion=f"经多次督促，责任方拒不整改，提请{s.enf_unit.name}联合执法",
        )
        if s.plot == "enforcement":
            return
        if s.plot == "suspended":
            yield s.days(1, 4)
            s.act(
                s.enf_handler,
                "suspend",
                opinion="经执法检查，隐患未消除前继续生产经营存在重大安全风险，依法责令停产停业整顿",
                fields={
                    "suspension_measure": "suspend_production",
                    "suspension_basis": hz.basis or "《中华人民共和国安全生产法》第七十条",
                    "suspension_scope": f"{s.case.address}涉及隐患的生产经营场所",
                },
            )
            return
        yield s.days(2, 8)
        s.act(
            s.enf_handler,
            "enforced",
            opinion="已下达责令限期改正通知书并依法处罚，督促完成整改",
            fields={"enforcement_basis": hz.basis},
            photos=1,
        )
    else:
        yield from rectify(s)
    if s.plot == "verifying":
        return
    yield s.office(2, 30, workday=True)
    # 复核 by the supervising body; 返工 goes back to the unit that must rectify (after 联合执法 too: the
    # enforcement bureau joined the case, the unit stays responsible).
    if "rework" in s.variants:
        s.act(s.verifier, "rework", opinion=rng.choice(REWORK_REASONS))
        yield s.days(1, 3)
        s.act(s.handler, "rectified", opinion="已按复核意见返工，整改到位", photos=1)
        yield s.office(2, 24, workday=True)
    s.act(s.verifier, "pass", opinion=rng.choice(PASS_OPINIONS))


def rectify(s: Story) -> Iterator[datetime]:
    """Rectify within the time limit, or late (after 超期 and 督办) with a leader's 催办 in between."""
    due = s.case.due_at
    if "late" in s.variants:
        lo, hi = LATE_DAYS[s.grade]
        finish = due + timedelta(days=s.rng.uniform(lo, hi))
        yield s.snap(due + timedelta(days=s.rng.uniform(0.3, 1.0)), workday=True)
        if s.now < finish:
            s.act(s.staff.leader, "urge", opinion="该隐患已超期，请责任单位加快整改，明日前报送整改进展")
        yield s.snap(max(finish, s.now + timedelta(hours=2)), workday=True)
    elif s.plot == "verifying":
        yield s.days(0.5, 3)  # done quickly, so that it waits for verification now
    else:
        yield s.snap(s.now + (due - s.now) * s.rng.uniform(0.3, 0.85), workday=True)
    s.act(s.handler, "rectified", opinion=s.hazard.done, photos=s.rng.randint(1, 2))


def extend(s: Story) -> Iterator[datetime]:
    """Ask for an extension a day or two before the deadline; usually approved by the supervising body's
    leader or dispatcher (leader@supervisor, dispatcher)."""
    due = s.case.due_at
    yield max(s.snap(due - timedelta(days=s.rng.uniform(1, 3)), workday=True), s.now + timedelta(hours=1))
    if s.now >= s.case.due_at:
        return
    by = EXTEND_BY[s.grade]
    s.act(s.handler, "extend", opinion=s.rng.choice(EXTEND_REASONS), params={"extend_by": by})
    yield s.office(1, 20, workday=True)
    approver = s.supervising_leader if s.rng.random() < 0.6 else s.supervising_dispatcher
    if s.rng.random() < 0.85:
        s.decide(approver, True, f"同意延期{Duration.parse(by)}，请按新时限完成整改")
    else:
        s.decide(approver, False, "整改工作量不大，不予延期，请按原时限完成")


def park(s: Story) -> Iterator[datetime]:
    """挂账 with the supervising body's leader's approval; resumed later unless the plot ends parked."""
    yield s.days(1, 4)
    reason = s.hazard.park or "整改需纳入年度改造计划统一实施，短期内无法完成，已落实临时管控措施"
    s.act(s.handler, "park", opinion="申请挂账整改", fields={"park_reason": reason})
    yield s.office(1, 24, workday=True)
    s.decide(s.supervising_leader, True, "同意挂账，责任单位每月报送管控情况，条件具备后立即恢复整改")
    if s.plot == "parked":
        return
    yield s.days(8, 20)
    s.act(
        s.handler if not s.officer_handles else s.staff.leader,
        "resume",
        opinion="整改资金和施工队伍已落实，恢复整改",
    )


def linger(s: Story) -> Iterator[datetime]:
    """An open case past its deadline: the leader urges, the 纪委监委 flags and urges."""
    due = s.case.due_at
    if due is None:
        return
    yield s.snap(due + timedelta(days=s.rng.uniform(0.5, 2)), workday=True)
    s.act(s.staff.leader, "urge", opinion="该隐患已超期，请责任单位加快整改，明日前报送整改进展")
    yield s.days(2, 5)
    s.act(s.staff.inspector, "flag", opinion="超期未整改，纳入纪委监委作风监督台账")
    yield s.days(2, 6)
    s.act(s.staff.inspector, "urge", opinion="纪委监委跟踪督办：请说明超期原因，限期整改到位")
