"""考核指标 (KPIs) of the 12345 loop, per unit or division and period, computed from the history rows.

Everything is read from Transition rows (append-only), never from a case's mutable fields, so a
closed case's figures never change afterwards. Definitions, exactly as computed below:

- **Population**: the cases of the mechanism whose `create` row falls in the period [from, to) (local
  dates; `to` is excluded), among the cases the caller may see (`Case.objects.for_user`), optionally
  narrowed to a division's subtree (the case's division) and to a unit's subtree (the unit below).
  Rows of those cases count whenever they were written (up to the moment of computing).
- **Unit** of a case: the last `unit_id` change of its rows (派单 sets it, 同意退单 clears it, a
  later 派单 sets the new one); none when never dispatched or returned and not dispatched again.
- **Division** of a case: its division's ancestor at level street (街道/镇), or the division itself
  when it has none (a case filed on a district).
- **Rules** (`Mechanism.kpi_rules`): per case, those of its division (deepest rule pack first, then the
  mechanism): `sign_hours`, `close_days`, `basic_score`; the weights of a group's 综合得分 are those of
  the group's division (a unit: the unit's division), the totals' those of the scope (the `division`
  asked for, else the deepest division that holds all of the caller's posts).
- **派单 cases** (dispatched): cases with at least one row of the mechanism's `kpi.dispatch` transition; "the dispatch" is the last one.
- **24 h 签收率** (`sign_rate`): dispatched cases whose first `kpi.sign` row after the dispatch came within
  `sign_hours` (natural hours) of it / dispatched cases.
- **响应率** (`response_rate`): dispatched cases whose first `sign` after the dispatch came no later
  than the deadline recorded on the dispatch row (its `due_at`; any sign when it has none) / dispatched.
- **7 日办结率** (`close_rate`): cases whose first row into a closed state (kind closed: 办结, 无效,
  并单) came within `close_days` × 24 h of the `create` row / cases.
- **按期办结率** (`on_time_rate`): closed cases that never got a system `overdue` timer row / closed. The
  timer and this rate share one rule (`cases.schedule.past_due`): at or before `due_at` is on time, so a
  case closed at the deadline itself is on time and its 超期 timer falls only after the deadline.
- **回访** rows: rows of the transitions that record 满意度 (`set_fields.satisfaction`: visit_satisfied,
  visit_basic, visit_unsatisfied); the value is the row's `fields.satisfaction` change, else the one
  the transition sets (a repeated value leaves no change in the row).
- **解决率** (`resolution_rate`): visited cases whose last 回访 was satisfied or basic / visited cases.
- **满意率** (`satisfaction_rate`): (satisfied + basic × `basic_score`) / evaluated, counted over 回访
  rows with a value (a 重办 case contributes each of its visits).
- **重办率** (`redo_rate`): cases with at least one unsatisfied 回访 / visited cases.
- **综合得分** (`score`): Σ weight × rate over 响应率、解决率、满意率 (weights sum to 100, so 0–100
  points); null when any of the three is null.

Each rate is {numerator, denominator, rate}; a denominator of 0 gives a null rate, not 0.
Queries: a fixed handful (the permission scope, the rows of the population in one query ordered by
case and seq, then the units and divisions named) whatever the number of cases.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from itertools import groupby

from django.db.models import Subquery

from taizhang.cases.models import Case, Transition
from taizhang.cases.queries import day_start
from taizhang.cases.schedule import past_due
from taizhang.errors import FieldError, forbidden, invalid
from taizhang.mechanisms.registry import Mechanism, get_registry
from taizhang.mechanisms.schema import KpiRules
from taizhang.org.models import Division, Unit, User
from taizhang.org.scopes import grants_of, staff_roles

GROUPS = ("unit", "division")
OVERDUE = "overdue"
SATISFIED, BASIC, UNSATISFIED = "satisfied", "basic", "unsatisfied"
# Rates in the order of the report and the export, with their Chinese names ({h}, {d}: the windows).
RATES = (
    ("sign_rate", "{h}小时签收率"),
    ("response_rate", "响应率"),
    ("close_rate", "{d}日办结率"),
    ("on_time_rate", "按期办结率"),
    ("resolution_rate", "解决率"),
    ("satisfaction_rate", "满意率"),
    ("redo_rate", "重办率"),
)
NO_UNIT = ("", "未派单")


@dataclass
class KpiRequest:
    mechanism: str
    start: date
    end: date  # excluded
    group: str = "unit"
    division: str = ""
    unit: str = ""


@dataclass
class Tally:
    """Counts over a group of cases (the numerators and denominators of the rates)."""

    cases: int = 0
    dispatched: int = 0
    signed_in_window: int = 0
    responded: int = 0
    closed: int = 0
    closed_in_window: int = 0
    closed_on_time: int = 0
    visited: int = 0
    resolved: int = 0
    evaluated: int = 0
    satisfaction_points: float = 0.0
    redone: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(Tally):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def rates(self) -> dict[str, dict]:
        return {
            "sign_rate": rate(self.signed_in_window, self.dispatched),
            "response_rate": rate(self.responded, self.dispatched),
            "close_rate": rate(self.closed_in_window, self.cases),
            "on_time_rate": rate(self.closed_on_time, self.closed),
            "resolution_rate": rate(self.resolved, self.visited),
            "satisfaction_rate": rate(round(self.satisfaction_points, 4), self.evaluated),
            "redo_rate": rate(self.redone, self.visited),
        }


@dataclass
class Facts(Tally):
    """What one case's rows say, as counts (0/1, or points for 满意率), and where the case belongs."""

    cases: int = 1
    unit_id: int | None = None
    division_path: str = ""


def rate(numerator: float, denominator: int) -> dict:
    value = round(numerator / denominator, 4) if denominator else None
    return {"numerator": numerator, "denominator": denominator, "rate": value}


def score(rates: dict[str, dict], rules: KpiRules) -> float | None:
    """综合得分: Σ weight × rate of 响应率、解决率、满意率, 0–100; null when one of them is null."""
    w = rules.weights
    parts = [
        (w.response, rates["response_rate"]["rate"]),
        (w.resolution, rates["resolution_rate"]["rate"]),
        (w.satisfaction, rates["satisfaction_rate"]["rate"]),
    ]
    if any(value is None for _, value in parts):
        return None
    return round(sum(weight * value for weight, value in parts), 2)


# -- one case -------------------------------------------------------------------------------------------


def case_facts(rows: list[tuple], rules: KpiRules, closed: set[str], visits: dict[str, str]) -> Facts:
    """The facts of one case from its rows (kind, code, to_state, changes, due_at, created_at) in seq order."""
    facts = Facts()
    created = dispatched_at = dispatch_due = signed_at = closed_at = None
    overdue = False
    values: list[str] = []
    for kind, code, to_state, changes, due_at, at in rows:
        changes = changes or {}
        if kind == "create":
            created = at
            continue
        if kind == "timer":
            overdue = overdue or code == OVERDUE
            continue
        if kind not in ("transition", "approve"):
            continue  # requests and refusals change nothing
        if "unit_id" in changes:
            facts.unit_id = changes["unit_id"][1]
        if code == rules.dispatch:
            dispatched_at, dispatch_due, signed_at = at, due_at, None
        elif code == rules.sign and dispatched_at is not None and signed_at is None:
            signed_at = at
        if closed_at is None and to_state in closed:
            closed_at = at
        if code in visits:
            value = (changes.get("fields.satisfaction") or [None, None])[1] or visits[code]
            values.append(value)
    if dispatched_at is not None:
        facts.dispatched = 1
        if signed_at is not None:
            facts.signed_in_window = int(signed_at - dispatched_at <= timedelta(hours=rules.sign_hours))
            facts.responded = int(not past_due(dispatch_due, signed_at))
    if closed_at is not None:
        facts.closed = 1
        facts.closed_in_window = int(
            created is not None and closed_at - created <= timedelta(days=rules.close_days)
        )
        facts.closed_on_time = int(not overdue)
    if values:
        facts.visited = 1
        facts.resolved = int(values[-1] in (SATISFIED, BASIC))
        facts.redone = int(UNSATISFIED in values)
        facts.evaluated = sum(v in (SATISFIED, BASIC, UNSATISFIED) for v in values)
        facts.satisfaction_points = values.count(SATISFIED) + values.count(BASIC) * rules.basic_score
    return facts


def visit_transitions(mech: Mechanism) -> dict[str, str]:
    """{transition code: the 满意度 it records} for the 回访 transitions."""
    return {
        t.code: str(t.set_fields["satisfaction"])
        for t in mech.definition.transitions
        if "satisfaction" in t.set_fields
    }


# -- the report -----------------------------------------------------------------------------------------


def check_staff(user: User) -> None:
    """Any staff role may read the KPIs (of the cases it sees); a resident may not."""
    if user.is_superuser or staff_roles(user):
        return
    raise forbidden("role_not_allowed", "考核指标仅供工作人员查看")


def common_path(paths: list[str]) -> str:
    """The deepest division path that is a prefix of all of them ("" for none)."""
    if not paths:
        return ""
    parts = [[c for c in p.split("/") if c] for p in paths]
    common: list[str] = []
    for codes in zip(*parts, strict=False):
        if len(set(codes)) != 1:
            break
        common.append(codes[0])
    return "/" + "".join(f"{c}/" for c in common) if common else ""


def scope_path(user: User, division: Division | None) -> str:
    if division is not None:
        return division.path
    paths = [
        g.division.path if g.division is not None else g.unit.division.path
        for g in grants_of(user)
        if g.division or g.unit
    ]
    return common_path(paths)


def check_request(user: User, req: KpiRequest) -> tuple[Mechanism, KpiRules, Division | None, Unit | None]:
    """The mechanism, the scope's rules and the division and unit asked for; 422 with every problem."""
    errors: list[FieldError] = []
    mech = get_registry().mechanisms.get(req.mechanism)
    if mech is None:
        errors.append(FieldError("mechanism", "unknown_mechanism", f"没有编码为 {req.mechanism} 的机制"))
    if req.start > req.end:
        errors.append(FieldError("from", "invalid_range", "开始日期不能晚于结束日期"))
    if req.group not in GROUPS:
        errors.append(FieldError("group", "invalid_choice", f"分组须为 {'、'.join(GROUPS)} 之一"))
    division = unit = None
    if req.division:
        division = Division.objects.filter(code=req.division).first()
        if division is None:
            errors.append(FieldError("division", "unknown_division", f"没有编码为 {req.division} 的区划"))
    if req.unit:
        unit = Unit.objects.filter(code=req.unit).first()
        if unit is None:
            errors.append(FieldError("unit", "unknown_unit", f"没有编码为 {req.unit} 的单位"))
    rules = mech.kpi_rules(scope_path(user, division)) if mech is not None else None
    if mech is not None and rules is None and not (req.division and division is None):
        message = f"机制「{mech.name}」没有考核规则（kpi）"
        errors.append(FieldError("mechanism", "no_kpi_rules", message))
    if errors:
        raise invalid(errors)
    return mech, rules, division, unit


def population_rows(user: User, mech: Mechanism, req: KpiRequest, division: Division | None):
    """The rows of the population's cases, by case and seq, in one query."""
    visible = Case.objects.for_user(user).filter(mechanism=mech.code)
    if division is not None:
        visible = visible.filter(division__path__startswith=division.path)
    created = Transition.objects.filter(
        kind="create",
        created_at__gte=day_start(req.start),
        created_at__lt=day_start(req.end),
        case__in=visible,
    ).values("case_id")
    return (
        Transition.objects.filter(case_id__in=Subquery(created))
        .order_by("case_id", "seq")
        .values_list(
            "case_id", "case__division__path", "kind", "code", "to_state", "changes", "due_at", "created_at"
        )
    )


def kpi_report(user: User, req: KpiRequest) -> dict:
    """The KPIs of the population, in total and per group (see the module's docstring)."""
    check_staff(user)
    mech, scope_rules, division, unit = check_request(user, req)
    closed = {s.code for s in mech.definition.states if s.kind == "closed"}
    visits = visit_transitions(mech)
    rules_at: dict[str, KpiRules] = {}

    def rules_for(path: str) -> KpiRules:
        if path not in rules_at:
            rules_at[path] = mech.kpi_rules(path) or scope_rules
        return rules_at[path]

    all_facts: list[Facts] = []
    rows = population_rows(user, mech, req, division).iterator(chunk_size=5000)
    for (_, path), case_rows in groupby(rows, key=lambda row: row[:2]):
        facts = case_facts([row[2:] for row in case_rows], rules_for(path), closed, visits)
        facts.division_path = path
        all_facts.append(facts)

    units = {
        pk: (code, name, upath, dpath)
        for pk, code, name, upath, dpath in Unit.objects.filter(
            pk__in={f.unit_id for f in all_facts if f.unit_id}
        ).values_list("pk", "code", "name", "path", "division__path")
    }
    if unit is not None:
        all_facts = [f for f in all_facts if f.unit_id in units and units[f.unit_id][2].startswith(unit.path)]

    totals = Tally()
    groups: dict[str, tuple[str, KpiRules, Tally]] = {}  # code -> (name, rules, tally)
    if req.group == "unit":
        for f in all_facts:
            code, name, _, dpath = units.get(f.unit_id, (*NO_UNIT, "", ""))
            key = groups.setdefault(code, (name, rules_for(dpath) if dpath else scope_rules, Tally()))
            key[2].add(f)
    else:
        streets = street_of({f.division_path for f in all_facts})
        for f in all_facts:
            code, name, spath = streets[f.division_path]
            groups.setdefault(code, (name, rules_for(spath), Tally()))[2].add(f)
    for f in all_facts:
        totals.add(f)
    total_rates = totals.rates()
    return {
        "mechanism": mech.code,
        "period": {"from": req.start.isoformat(), "to": req.end.isoformat()},
        "group": req.group,
        "rules": scope_rules.model_dump(),
        "totals": {"cases": totals.cases, **total_rates, "score": score(total_rates, scope_rules)},
        "groups": [
            group_data(code, name, rules, tally)
            for code, (name, rules, tally) in sorted(
                groups.items(), key=lambda item: (item[0] == "", item[0])
            )
        ],
    }


def group_data(code: str, name: str, rules: KpiRules, tally: Tally) -> dict:
    rates = tally.rates()
    return {
        "code": code,
        "name": name,
        "cases": tally.cases,
        **rates,
        "score": score(rates, rules),
        "weights": rules.weights.model_dump(),
    }


def street_of(paths: set[str]) -> dict[str, tuple[str, str, str]]:
    """{division path: (code, name, path) of its street-level ancestor, or of the division itself}."""
    codes = {c for p in paths for c in p.split("/") if c}
    found = {
        code: (name, level)
        for code, name, level in Division.objects.filter(code__in=codes).values_list("code", "name", "level")
    }
    out = {}
    for p in paths:
        chain = [c for c in p.split("/") if c]
        street = next(
            (i for i, c in enumerate(chain) if found.get(c, ("", ""))[1] == Division.Level.STREET), None
        )
        end = street + 1 if street is not None else len(chain)
        code = chain[end - 1]
        out[p] = (code, found.get(code, (code, ""))[0], "/" + "".join(f"{c}/" for c in chain[:end]))
    return out


def rate_label(key: str, rules: KpiRules) -> str:
    return dict(RATES)[key].format(h=rules.sign_hours, d=rules.close_days)
