"""The permission matrix's world and its oracle: personas made from the roles data, sample cases, and the
expected outcome of every persona × case worked out from the data alone (roles.yaml flags and held_on,
the parties of the case as stored, the role@party specs of the mechanism files).

The oracle follows the rules as roles.yaml and taizhang/org/parties.py state them, walking the org tree
by parent links rather than by path prefixes, so that it does not share code with the engine it checks.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from taizhang.mechanisms.registry import get_registry

HERE = Path(__file__).resolve().parent
TEST_MECHANISM = HERE / "matrix_river.yaml"

# Where a persona of a role sits, by what the role is held on: an "in" node reaches the sample cases
# (as their place, supervising body, lead or enforcement unit, or an earlier lead), "out" does not.
DIVISION_NODES = {"grid": "grid", "street": "street", "out": "other_grid"}
# `bureau`: the district's safety bureau, an earlier lead of one sample and the lead of another (a department
# of the district, which supervises that one: it may not supervise its own work); `office`: a department of
# the street, a unit of its own: it is no party of the street's cases (only the street's own roles act for
# the street).
UNIT_NODES = {
    "lead": "enterprise",
    "enforcement": "enforcement_bureau",
    "bureau": "safety_bureau",
    "office": "street_office",
    "out": "workshop",  # a unit below the lead unit: a unit reaches the units below it, never those above
}
SELF_NODES = ("self", "out")
IN_LABELS = {"grid", "street", "lead", "enforcement", "bureau", "self"}
WORKING = ("lead", "co", "enforcement")


def mechanism_dir(tmp: Path, shipped: Path) -> Path:
    """The shipped mechanisms plus the matrix's own (with roles of its own), in a temp directory."""
    target = tmp / "mechanisms"
    shutil.copytree(shipped, target)
    shutil.copy(TEST_MECHANISM, target / "river.yaml")
    return target


@dataclass
class Persona:
    key: str  # "verifier@unit:lead"
    role: str
    label: str
    user: object
    node: object | None  # a Division, a Unit, or None


@dataclass
class Matrix:
    world: object
    personas: list[Persona]
    cases: dict[str, object]  # sample key -> Case
    admin: object
    attachment_id: int | None = None

    def persona(self, key: str) -> Persona:
        return next(p for p in self.personas if p.key == key)


def make_personas(world) -> list[Persona]:
    """One persona per role × node kind it is held on × (in, out); `self`/`out` for roles held on nothing."""
    from taizhang.org.models import Membership, User

    out = []
    for code, role in sorted(get_registry().roles.items()):
        places = []
        if "division" in role.held_on:
            places += [("division", label, getattr(world, attr)) for label, attr in DIVISION_NODES.items()]
        if "unit" in role.held_on:
            places += [("unit", label, getattr(world, attr)) for label, attr in UNIT_NODES.items()]
        if not role.held_on:
            places += [("self", label, None) for label in SELF_NODES]
        for kind, label, node in places:
            key = f"{code}@{kind}:{label}"
            user = User.objects.create_user(
                username=f"mx-{code}-{kind}-{label}", password="pw", display_name=key
            )
            node_kw = {} if node is None else ({"division": node} if kind == "division" else {"unit": node})
            Membership.objects.create(user=user, role=code, **node_kw)
            out.append(Persona(key, code, label, user, node))
    return out


def image() -> tuple[io.BytesIO, int]:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 40)).save(buf, "JPEG")
    return io.BytesIO(buf.getvalue()), len(buf.getvalue())


def build_matrix(world) -> Matrix:
    """Personas and sample cases in the states the specs differ in (see the docstring of each step)."""
    from taizhang.cases.actions import TransitionRequest, do_transition
    from taizhang.cases.attachments import do_upload_attachment
    from taizhang.cases.create import CaseInput, do_create_case
    from taizhang.cases.models import Case
    from taizhang.org.models import Membership, Unit, User

    world.street_office = Unit.objects.create(
        code="WMJD-BSC", name="五马街道办事处", kind="department", division=world.street
    )
    personas = make_personas(world)
    selfs = [p for p in personas if p.label == "self"]
    reporter = next(p.user for p in selfs if p.role == "resident")
    river_chief = User.objects.create_user(username="mx-actor-river", password="pw", display_name="河长")
    Membership.objects.create(user=river_chief, role="river_chief", division=world.street)

    def report(key, user=reporter, mechanism="hazard", division=world.grid, **kw):
        data = dict(
            mechanism=mechanism,
            title=f"矩阵样本{key}号",
            division=division.code,
            category="fire" if mechanism == "hazard" else "litter",
            address=f"矩阵地址{key}",
        )
        if mechanism == "hazard":
            data["grade"] = "general"
        data.update(kw)
        case, _created = do_create_case(user, CaseInput(**data))
        return case

    def act(user, case, code, **kw):
        kw.setdefault("opinion", "同意")
        do_transition(user, case.pk, TransitionRequest(code=code, **kw))

    def at_enterprise(case, via_former=False):
        act(world.dispatcher, case, "register")
        if via_former:  # the safety bureau leads first and hands it back: an earlier lead (former)
            act(world.dispatcher, case, "assign", params={"unit": world.safety_bureau.code})
            act(world.handler, case, "return", opinion="不属于本单位职责")
        act(world.dispatcher, case, "assign", params={"unit": world.enterprise.code})
        act(world.enterprise_officer, case, "sign")

    cases = {}
    cases["reported"] = report("A")
    cases["rejected"] = report("B")
    act(world.dispatcher, cases["rejected"], "reject", opinion="不属于隐患")
    cases["verifying"] = report("C")
    at_enterprise(cases["verifying"], via_former=True)
    data, size = image()
    photo = do_upload_attachment(world.enterprise_officer, "现场.jpg", data, size)
    act(world.enterprise_officer, cases["verifying"], "rectified", attachments=[photo.pk])
    cases["enforcement"] = report("D")
    at_enterprise(cases["enforcement"])
    act(world.dispatcher, cases["enforcement"], "refuse", params={"unit": world.enforcement_bureau.code})
    cases["pending"] = report("E")
    at_enterprise(cases["pending"])
    act(world.enterprise_officer, cases["pending"], "extend", params={"extend_by": "3 工作日"})
    cases["bureau"] = report("H")  # the district hands it to its own bureau: the district supervises
    act(world.leader, cases["bureau"], "register")
    act(world.leader, cases["bureau"], "assign", params={"unit": world.safety_bureau.code})
    act(world.handler, cases["bureau"], "sign")
    data, size = image()
    bureau_photo = do_upload_attachment(world.handler, "整改.jpg", data, size)
    act(world.handler, cases["bureau"], "rectified", attachments=[bureau_photo.pk])
    cases["river"] = report("F", mechanism="river")
    act(river_chief, cases["river"], "assign", params={"unit": world.enterprise.code})
    cases["elsewhere"] = report("G", user=world.outsider, division=world.other_grid)
    # Roles held on nothing besides `resident` (a mechanism's own): each reports some of the cases.
    others = [p for p in selfs if p.role != "resident"]
    for i, key in enumerate(k for k in cases if k != "elsewhere"):
        if others and i % (len(others) + 1):
            Case.objects.filter(pk=cases[key].pk).update(reporter=others[i % (len(others) + 1) - 1].user)
    cases = {k: Case.objects.get(pk=c.pk) for k, c in cases.items()}
    admin = User.objects.create_superuser(username="mx-admin", password="pw", display_name="管理员")
    return Matrix(world, personas, cases, admin, attachment_id=photo.pk)


# ------------------------------------------------------------------------------------------------ oracle


def ancestors(node) -> list:
    """The node and every node above it (parent links of the org tree)."""
    chain = []
    while node is not None:
        chain.append(node)
        node = node.parent
    return chain


def party_rows(case) -> list:
    return list(case.parties.select_related("division__parent", "unit__parent", "unit__division").all())


def node_reaches(node, row) -> bool:
    """A division reaches parties in its subtree; a unit, itself and the units below (roles.yaml: held_on).
    A department located at a division is a unit of its own, not the division's body."""
    from taizhang.org.models import Division

    if isinstance(node, Division):
        return row.division is not None and node in ancestors(row.division)
    return row.unit is not None and node in ancestors(row.unit)


def works_on(node, rows) -> bool:
    """A unit above or below a working party (lead, 协办, enforcement) never acts as its supervisor."""
    from taizhang.org.models import Unit

    if not isinstance(node, Unit):
        return False
    for row in rows:
        if row.kind in WORKING and row.unit is not None:
            if node in ancestors(row.unit) or row.unit in ancestors(node):
                return True
    return False


def flags(role: str):
    return get_registry().roles[role]


def sees(persona: Persona | None, case, rows=None) -> bool:
    """Whether the persona may read the case: a party reached, their own report, or reads_everything."""
    if persona is None:
        return False
    if flags(persona.role).reads_everything:
        return True
    if case.reporter_id == persona.user.pk:
        return True
    if persona.node is None:
        return False
    return any(node_reaches(persona.node, r) for r in (rows if rows is not None else party_rows(case)))


def holds(persona: Persona, spec: str, case, rows) -> bool:
    """Whether the persona holds a mechanism's role spec (`verifier@supervisor`, `handler`, `reporter`)."""
    from taizhang.org.models import Division

    role, _sep, party = spec.partition("@")
    if role == "reporter":
        return case.reporter_id == persona.user.pk
    if role != persona.role:
        return False
    definition = flags(role)
    if definition.reads_everything:
        return True
    if definition.acts_for_self_only:
        return case.reporter_id == persona.user.pk
    if persona.node is None:
        return False
    kind = party or ("place" if isinstance(persona.node, Division) else "lead")
    if kind == "supervisor" and works_on(persona.node, rows):
        return False
    return any(r.kind == kind and node_reaches(persona.node, r) for r in rows)


def may_take(persona: Persona, specs: list[str], case, rows) -> bool:
    return any(holds(persona, spec, case, rows) for spec in specs)


def is_public(case) -> bool:
    """Whether the public ledger and Open311 show the case: its mechanism publishes its channel."""
    mech = get_registry().mechanisms[case.mechanism]
    return case.channel in (mech.definition.public.channels or [])
