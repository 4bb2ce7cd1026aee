"""The shape of a mechanism file and of a rule pack (checked by pydantic, unknown keys refused)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .schema_values import BandOverride, BandTable, Code, Colour, Condition, Number, Strict

StateKind = Literal["open", "waiting", "controlled", "parked", "closed"]
FieldType = Literal[
    "text",
    "textarea",
    "int",
    "decimal",
    "date",
    "datetime",
    "choice",
    "multichoice",
    "bool",
    "computed",
    "reference",
]
# Core attributes of a case that a transition may set (besides the mechanism's own form fields).
CoreAttr = Literal["grade", "category", "title", "description", "address"]
# Whole numbers must be written as numbers: `photos: true` or `version: 1.5` is an error, not 1.
Count = Annotated[int, Field(ge=0, strict=True)]


# A role a transition names: `handler`, or relative to a party of the case: `verifier@supervisor`.
RoleSpec = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(@[a-z][a-z0-9_]*)?$", max_length=32)]
# (32: the width of the history row's role column, which records the spec the person acted in.)
NodeKind = Literal["division", "unit"]


class RoleDef(Strict):
    """A role a person holds on a node of the org tree (or on nothing), with what it may do."""

    code: Code
    name: str = Field(min_length=1)
    # Where the role is held: on a division (its subtree), on a unit (the unit and those below), or [] for
    # a role held on nothing (a resident acts for themself only).
    held_on: list[NodeKind] = []
    # Reads every case (纪委监督); such a role never changes a case's state.
    reads_everything: bool = False
    # May only flag and urge: every transition naming it must leave the state as it is.
    flag_and_urge_only: bool = False
    # Acts only on what the person reported themself (居民).
    acts_for_self_only: bool = False
    description: str = ""


class RolesFile(Strict):
    """The platform's roles (mechanisms/org/roles.yaml)."""

    roles: list[RoleDef] = Field(min_length=1)


class Choice(Strict):
    code: Code
    name: str = Field(min_length=1)
    # A number the choice stands for (LEC's L = 6 for 相当可能): what expressions and comparisons use.
    value: Number | None = None
    # What the choice means as a colour (重大 = red); pages and maps colour by this, never by position.
    colour: Colour | None = None


class FieldDef(Strict):
    name: Code
    label: str = Field(min_length=1)
    type: FieldType = "text"
    required: bool = False
    choices: list[Choice] = []
    max_length: int | None = Field(default=None, gt=0, strict=True)
    help: str = ""
    public: bool = False
    # A `computed` field's arithmetic over other fields (`likelihood * exposure * consequence`), exact.
    expression: str | None = None
    # `type: reference`: the register whose item the value names (an item number such as QY-000012).
    register_: Code | None = Field(default=None, alias="register")  # (`register` is a class method)


class StateDef(Strict):
    code: Code
    name: str = Field(min_length=1)
    kind: StateKind
    public_name: str | None = None
    # A stopped clock keeps the time left and resumes it on a transition with `deadline: resume`.
    clock: Literal["running", "stopped"] = "running"


class Requirement(Strict):
    when: Condition | None = None
    opinion: bool = False
    photos: Count = 0
    fields: list[Code] = []


class Supervise(Strict):
    """挂牌督办: the transition puts the case under the supervision of a body `levels` above its division
    (never lowering a level it already has; capped by `escalate_up_to`), and a listed case's acceptance
    (验收, 复核) states get their own limit."""

    levels: int = Field(ge=1, le=5, strict=True)
    accept_in: list[Code] = []
    accept_within: str | None = None


class Approval(Strict):
    roles: list[RoleSpec] = Field(min_length=1)
    name: str = "审批"
    # Approval only when this holds for the case as the transition leaves it (延期 beyond 10 万元 …).
    when: Condition | None = None


# Kinds of link between a parent case and a child case (taizhang.cases.links).
LinkKind = Literal["subtask", "derived", "related"]


class SpawnDef(Strict):
    """Cases a transition opens in another mechanism, linked to the case as its children (`spawn`)."""

    mechanism: Code
    kind: LinkKind = "subtask"
    # Who the new cases are for: `param` one case per unit named in `params.units`; `lead` one case for
    # the case's lead unit (after the transition); `none` one case without a unit.
    units: Literal["param", "lead", "none"] = "param"
    channel: Code  # the channel the new cases come by in their mechanism
    category: Code | None = None  # None: the case's own category (which the mechanism must have)
    grade: Code | None = None  # None: the case's own grade where the mechanism has it, else its first
    state: Code | None = None  # the state they start in; None: the mechanism's `intake.initial`
    # The new case's form field <- the case's form field or core attribute (title, description,
    # address, category, grade, number).
    fields: dict[Code, Code] = {}


class TransitionDef(Strict):
    code: Code
    name: str = Field(min_length=1)
    from_: list[Code] = Field(alias="from", min_length=1)
    to: Code | None = None  # None: the state does not change (催办, 延期, 标记)
    # Who may take it: a role, or a role relative to a party of the case (`verifier@supervisor`). A bare
    # role acts on the case's place (roles held on a division) or on its lead unit (roles held on a unit).
    roles: list[RoleSpec] = Field(min_length=1)
    only_if: Condition | None = None
    opinion: bool = False
    photos: Count = 0
    fields: list[Code] = []
    require: list[Requirement] = []
    sets: list[CoreAttr] = []
    # `unit`: a new lead unit (the one before keeps read access as an earlier lead); `discipline_unit`: a
    # new lead that must be a 纪检监察 body (检举控告类 petitions go nowhere else); `enforcement_unit`: an
    # enforcement party joins (联合执法) and the lead unit stays responsible.
    assign: Literal["unit", "enforcement_unit", "discipline_unit"] | None = None
    # The new lead unit must be the body one level above the current one (复查, 复核: 信访工作条例).
    assign_above: bool = False
    # The enforcement unit's part is done (执法完成): it keeps read access as an earlier party only.
    ends_enforcement: bool = False
    clears_unit: bool = False
    # Back to the state the case was in before the current one, read from its history (解除封控: the
    # case resumes where the cordon found it). Written instead of `to`.
    to_previous: bool = False
    # 派单 with 协办 units: the transition takes `params.co_units` (unit codes) besides the lead unit.
    co_units: bool = False
    # 并单: the case is merged into the master case named by `params.master`; both histories are kept.
    merge: bool = False
    # The row is copied onto the cases merged into this one, so each of their reporters gets the answer.
    notify_merged: bool = False
    # restart: the new state's limit from now; renew: the same, keeping the supervision level and the
    # overdue record (返工, 重办, a resubmission); recount: the current state's limit for the case's new
    # values from when it entered the state (升级为重大隐患); keep, extend, resume.
    deadline: Literal["restart", "renew", "recount", "keep", "extend", "resume"] = "restart"
    # 挂牌督办: raises the supervision level, with its own acceptance limit.
    supervise: Supervise | None = None
    approval: Approval | None = None
    distinct_from: list[Code] = []
    before_due: bool = False
    # Only once the deadline has passed (期满办结: a window left to the petitioner must run out first).
    after_due: bool = False
    # The most an `extend` may add, all approved extensions of this transition on the case together.
    extend_max: str | None = None
    # Only within this time after the case entered its current state (退单 within 2 工作时 of 派单),
    # counted by the business clock.
    within: str | None = None
    # Form-field values the transition itself records (回访满意 sets 满意度 to satisfied).
    set_fields: dict[str, str | int | bool] = {}
    # At most once per case (群众评价: a reporter rates the answer once).
    once: bool = False
    public: bool = True
    public_name: str | None = None
    # Whose 待办 the transition is: the roles the state waits for. None: every role of the transition;
    # [] for exceptions and oversight (封控, 挂账, 转执法) that nobody's work list should hold.
    waiting_for: list[RoleSpec] | None = None
    # Cases opened in other mechanisms by this transition, linked as children (taizhang.cases.links).
    spawn: list[SpawnDef] = []
    # Only when every child case linked to this one is closed (refused: `children_open`).
    children_closed: bool = False

    def figure(self, key: str) -> str | None:
        """The transition's own figure a rule pack may override (`TransitionOverride`): `within`,
        `extend_max`, or its `supervise.accept_within`."""
        if key == "accept_within":
            return self.supervise.accept_within if self.supervise is not None else None
        return getattr(self, key)

    @property
    def assigns_lead(self) -> bool:
        """Whether the transition hands the case to a new lead unit (交办, 派单, 转送 …)."""
        return self.assign in ("unit", "discipline_unit")

    @property
    def moves(self) -> bool:
        """Whether the transition changes the state (to a named state or back to the previous one)."""
        return self.to is not None or self.to_previous


class Limit(Strict):
    state: Code
    # The duration; left out only with `until_field` (due at the end of that date).
    limit: str | None = None
    grade: Code | None = None
    category: Code | None = None
    channel: Code | None = None
    # Only for cases whose values satisfy the condition (counts as one more attribute named).
    when: Condition | None = None
    # Counted from a date (or datetime) form field of the case instead of the moment the state is entered
    # (10 工作日 from the loss date); a date counts from its end (the day itself is not counted).
    from_field: Code | None = None
    # Due at the end of a date form field (a task due on 9月30日), or at a datetime field's moment.
    until_field: Code | None = None


class TotalLimit(Strict):
    """A limit on the whole case, counted from its creation (or `from_field`) whatever the steps: the
    case's deadline is the earlier of the state's limit and this one."""

    limit: str | None = None
    grade: Code | None = None
    category: Code | None = None
    channel: Code | None = None
    from_field: Code | None = None
    until_field: Code | None = None


class Escalation(Strict):
    after: str
    levels: int = Field(ge=1, le=5, strict=True)


class Supervision(Strict):
    state: Code | None = None  # None: every state with a time limit
    # Only for cases whose values satisfy the condition; the most specific entry wins.
    when: Condition | None = None
    remind_before: list[str] = []
    escalate: list[Escalation] = []


class Parties(Strict):
    """Who the supervising body (监督方) of a case is: 复核, 销号 and approvals named `@supervisor`."""

    # `assigner`: the division or unit through which the case was last handed over (交办, 派单).
    supervisor: Literal["assigner"] = "assigner"
    # Until somebody hands the case over (a self-check report), the case's division at this level
    # (its own division when it lies above that level).
    supervisor_level: Literal["city", "district", "street", "community", "grid"] | None = None
    # Which roles read a case through its place (the division it lies in); None: every role held on a
    # division. A petition is read by the 信访 staff of its place, not by every grid worker there.
    place_readers: list[Code] | None = None


class Intake(Strict):
    initial: Code
    roles: list[str] = Field(min_length=1)
    # Which channel a report gets when the reporter's role implies it (a grid worker's report is 网格巡查).
    channel_by_role: dict[str, Code] = {}
    photos: Count = 0


class KpiWeights(Strict):
    """Weights of the 三率 in the 综合得分 (they sum to 100)."""

    response: Count  # 响应率
    resolution: Count  # 解决率
    satisfaction: Count  # 满意率


class KpiRules(Strict):
    """Assessment (考核) rules: a mechanism writes every key, a rule pack only those it overrides."""

    weights: KpiWeights | None = None
    # How much a 基本满意 counts towards 满意率 (0–1; 满意 counts 1).
    basic_score: Annotated[float, Field(strict=True)] | None = None
    sign_hours: Count | None = None  # 24 h 签收率: the window after 派单
    close_days: Count | None = None  # 7 日办结率: the window after 受理
    # The transitions the rates are measured from: 派单 (starts the response clock) and 签收.
    dispatch: Code | None = None
    sign: Code | None = None


# Case attributes a mechanism may publish besides what every public item shows (number, category,
# public state, dates, the place cut to the community) and the form fields marked `public: true`.
PublicAttr = Literal["title", "description", "address", "unit", "deadline", "media"]


class PublicLocation(Strict):
    """Coordinates shown publicly, snapped to a grid of `decimals` decimal places (3 ≈ 100 m)."""

    decimals: int = Field(strict=True)


class PublicLedger(Strict):
    """How the mechanism's public items appear in the public ledger (为民办事台账)."""

    listed: bool = True  # False: never in the ledger (machine outputs still follow `channels`)
    # Form fields the ledger shows with each item (label: value, redacted): each `public: true`.
    fields: list[Code] = []


class PublicRules(Strict):
    """What the public ledger and every machine output (Open311 GET …) show of the mechanism's cases.

    Without the block nothing of the mechanism is public.
    """

    # The channels whose items are public ([]: none, as for petitions).
    channels: list[Code] = []
    fields: list[PublicAttr] = []
    location: PublicLocation | None = None  # None: no coordinates
    # Form fields that identify a person: never shown, their values masked wherever they appear.
    personal: list[Code] = []
    ledger: PublicLedger = PublicLedger()


# Where a value of a written notice comes from (taizhang.cases.notice_values): `field.<name>`,
# `label.<name>`, `limit.<state>`, `extend_max.<transition>`, or one of `SOURCES` there.
NoticeSource = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")]
# One source, or several: the first that is not empty.
NoticeValue = NoticeSource | list[NoticeSource]


class NoticeDef(Strict):
    """A written notice (书面告知): a template the transitions in `issued_by` issue."""

    kind: Code
    title: str = Field(min_length=1)
    issued_by: list[Code] = Field(min_length=1)  # the last of them taken counts
    template: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_][a-z0-9_/-]*\.html$", max_length=200)]
    values: dict[Code, NoticeValue] = {}


class NoticesDef(Strict):
    values: dict[Code, NoticeValue] = {}  # shared by every notice of the mechanism
    documents: list[NoticeDef] = []


class MechanismDef(Strict):
    # `loop` (a case goes through states to closed); a `register` file has its own shape (register_schema).
    kind: Literal["loop"] = "loop"
    code: Code
    name: str = Field(min_length=1)
    number_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,6}$")]
    version: int = Field(default=1, ge=1, strict=True)
    description: str = ""
    categories: list[Choice] = Field(min_length=1)
    grades: list[Choice] = []
    channels: list[Choice] = Field(min_length=1)
    fields: list[FieldDef] = []
    intake: Intake
    states: list[StateDef] = Field(min_length=2)
    transitions: list[TransitionDef] = Field(min_length=1)
    time_limits: list[Limit] = []
    total_limits: list[TotalLimit] = []
    supervision: list[Supervision] = []
    # The highest level 督办 may reach (a 镇's hazard stops at the 区, never the 市); None: no cap.
    escalate_up_to: Literal["city", "district", "street", "community", "grid"] | None = None
    kpi: KpiRules | None = None
    public: PublicRules = PublicRules()
    # Roles of this mechanism besides the platform's (河长, 护河员, 专家 …).
    roles: list[RoleDef] = []
    parties: Parties = Parties()
    notices: NoticesDef = NoticesDef()
    # Band tables mapping a computed value to a grade or a choice (LEC, LS).
    bands: list[BandTable] = []


class TransitionOverride(Strict):
    """The numbers of one transition a rule pack may change (only those the mechanism writes)."""

    within: str | None = None
    extend_max: str | None = None
    # A 挂牌督办 transition's `supervise.accept_within` (the listed case's acceptance limit).
    accept_within: str | None = None


class IntakeOverride(Strict):
    """Photos a report must carry where the pack applies: on the channels listed (None: every channel)."""

    photos: Count
    channels: list[Code] | None = None


class PackOverride(Strict):
    time_limits: list[Limit] = []
    total_limits: list[TotalLimit] = []
    supervision: list[Supervision] = []
    kpi: KpiRules | None = None
    transitions: dict[Code, TransitionOverride] = {}
    intake: IntakeOverride | None = None
    # A band table's thresholds for the pack's divisions, by the table's code.
    bands: dict[Code, BandOverride] = {}


class PackDef(Strict):
    pack: Code
    name: str = Field(min_length=1)
    # Division codes whose subtrees the pack applies to.
    divisions: list[str] = Field(min_length=1)
    source: str = ""
    mechanisms: dict[Code, PackOverride] = Field(min_length=1)
