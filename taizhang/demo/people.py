"""The demo's people: one or more persons for every role on every node, with invented names.

Names and usernames do not depend on the command's --seed, so the account table stays the same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from taizhang.org.models import Membership, Unit, User
from taizhang.org.roles import Role

from .org import Org
from .places import DEPARTMENTS, ENTERPRISES, STREETS

DEMO_PASSWORD = "taizhang2026"
NAME_SEED = 20260402

SURNAMES = "王李张刘赵郭杨武牛申郝贾韩田秦常冯段崔程史靳栗连侯路原苗焦梁董白孟吕高石闫薛"
GIVEN = (
    "志强",
    "晓东",
    "丽娟",
    "海燕",
    "俊峰",
    "雅琴",
    "文博",
    "佳怡",
    "宇航",
    "思远",
    "建华",
    "红梅",
    "玉兰",
    "慧敏",
    "晓婷",
    "鹏飞",
    "永刚",
    "利军",
    "艳芳",
    "春燕",
    "晨曦",
    "浩然",
    "欣怡",
    "雪梅",
    "志刚",
    "卫东",
    "秀英",
    "桂兰",
    "瑞峰",
    "泽宇",
    "梦瑶",
    "晓丽",
    "国栋",
    "振华",
    "丽萍",
    "亚楠",
    "少杰",
    "文静",
    "婉婷",
    "明轩",
    "子豪",
    "一鸣",
    "嘉欣",
    "晓燕",
    "建军",
    "爱萍",
    "小龙",
    "宏伟",
    "俊杰",
    "雅丽",
    "晋生",
    "二虎",
    "润生",
    "青松",
    "翠兰",
    "彩霞",
    "海龙",
    "晓军",
    "丽君",
    "旭东",
    "伟",
    "磊",
    "静",
    "敏",
    "军",
    "芳",
    "勇",
    "洁",
)
# People named in the source documents: never reuse their names.
TAKEN = frozenset(
    {
        "方义",
        "刘惠强",
        "魏振东",
        "阎新平",
        "武国宏",
        "张华兴",
        "梁志滢",
        "宋佳佳",
        "郝光明",
        "赵莹莹",
        "王彦辰",
        "郑铠君",
        "任巧莲",
        "郭邦栋",
        "孙维全",
        "韩涛",
        "贺思宇",
        "郭婷婷",
        "孙鸣",
        "申俊玲",
        "郭维军",
        "李国亮",
        "牛彦岗",
        "王刚",
        "鲍晓明",
        "宋启立",
        "赵康",
        "王玉斌",
        "马建国",
    }
)

PREFIX = {
    Role.GRID_WORKER: "wangge",
    Role.INTAKE: "shouli",
    Role.DISPATCHER: "paiqian",
    Role.HANDLER: "chuzhi",
    Role.VERIFIER: "hecha",
    Role.LEADER: "lingdao",
    Role.INSPECTOR: "jiwei",
    Role.ENTERPRISE_OFFICER: "anquan",
    Role.RESIDENT: "jumin",
}
# Accounts printed by default (the rest with -v 2): the district, 五马街道 and one unit of each kind.
FEATURED = frozenset(
    {"LZQ", "WMJD", "WMJD-WM-01", "LZQ-YJJ", "WMJD-YJB", "LZQ-ZFJ", "QY-JRHG", "QY-JRHG-HC", None}
)
# And the 12345 hotline's and 信访's own posts (a second person on a node is not printed otherwise).
FEATURED_USERNAMES = frozenset(
    {
        "shouli_lzq2",
        "paiqian_lzq2",
        "shouli_lzq3",
        "paiqian_lzq3",
        "chuzhi_wmjd_bsc",
        "chuzhi_lzq_rsj",
        "lingdao_lzq_rsj",
        "chuzhi_qy_nsrl",
        "chuzhi_lzq_zfb",
    }
)


@dataclass
class Account:
    role: str
    username: str
    name: str
    where: str
    node: str | None
    user: User | None = None

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


@dataclass
class Cast:
    accounts: list[Account] = field(default_factory=list)
    on: dict[tuple[str, str | None], list[User]] = field(default_factory=dict)

    def all(self, role: str, node: str | None) -> list[User]:
        return self.on.get((role, node), [])

    def one(self, role: str, node: str | None, rng: random.Random | None = None) -> User:
        people = self.on[(role, node)]
        return rng.choice(people) if rng else people[0]

    def up(self, org: Org, role: str, unit: Unit) -> list[User]:
        """People holding `role` on the unit or, failing that, on the nearest unit above it."""
        node: Unit | None = unit
        while node is not None:
            people = self.all(role, node.code)
            if people:
                return people
            node = org.parent_unit(node.code)
        return []

    def featured(self) -> list[Account]:
        seen: set[tuple[str, str | None]] = set()
        out = []
        for a in self.accounts:
            if a.username in FEATURED_USERNAMES or (a.node in FEATURED and (a.role, a.node) not in seen):
                seen.add((a.role, a.node))
                out.append(a)
        return out


def name_pool(count: int) -> list[str]:
    """`count` distinct invented full names, the same on every run."""
    rng = random.Random(NAME_SEED)
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in names and name not in TAKEN:
            names.append(name)
    return names


def plan_accounts(org: Org) -> list[Account]:
    """Who holds which role where, before any names are given."""
    plan: list[Account] = []

    def add(role: str, node: str | None, where: str, post: str, count: int = 1) -> None:
        for i in range(count):
            slug = node.lower().replace("-", "_") if node else ""
            base = f"{PREFIX[Role(role)]}_{slug}" if node else PREFIX[Role(role)]
            username = (base if i == 0 else f"{base}{i + 1}") if node else f"{base}{i + 1:02d}"
            plan.append(Account(role, username, "", f"{where} · {post}", node))

    add(Role.LEADER, "LZQ", "潞州区", "分管安全副区长")
    add(Role.DISPATCHER, "LZQ", "潞州区", "区安委办调度员")
    add(Role.INTAKE, "LZQ", "潞州区", "12345热线受理员", 2)
    add(Role.INSPECTOR, "LZQ", "潞州区", "区纪委监委监督员")
    for street in STREETS:
        town = street.name.endswith("镇")
        add(Role.LEADER, street.code, street.name, "分管安全副镇长" if town else "分管安全副主任")
        add(Role.DISPATCHER, street.code, street.name, "应急办调度员")
        add(Role.INTAKE, street.code, street.name, "便民服务中心受理员")
        for community in street.communities:
            for grid in org.grids[f"{street.code}-{community.code}"]:
                add(Role.GRID_WORKER, grid.code, grid.name, "专职网格员")
    for dept in DEPARTMENTS:
        if dept.code == "LZQ-YJJ":
            add(Role.LEADER, dept.code, dept.name, "局长")
        add(Role.HANDLER, dept.code, dept.name, "执法队员" if dept.enforcement else "业务科室办理人", 2)
        add(Role.VERIFIER, dept.code, dept.name, "复核员")
    for street in STREETS:
        add(Role.HANDLER, street.office_code, street.office_name, "安全监管员", 2 if street.weight > 1 else 1)
        add(Role.VERIFIER, street.office_code, street.office_name, "复核员")
    for ent in ENTERPRISES:
        add(Role.ENTERPRISE_OFFICER, ent.code, ent.name, "专职安全员")
        add(Role.VERIFIER, ent.code, ent.name, "安全总监")
        for shop in ent.workshops:
            post = (
                "车间主任" if shop.name.endswith("车间") else "队长" if shop.name.endswith("队") else "负责人"
            )
            add(Role.HANDLER, f"{ent.code}-{shop.code}", f"{ent.name}{shop.name}", post)
    add(Role.RESIDENT, None, "无岗位", "可在任一网格上报", 6)
    return plan


def extra_accounts(org: Org, before: list[Account], rows: list[tuple[str, str, str, int]]) -> list[Account]:
    """Accounts for (role, node, post, count) rows, planned after `before`: usernames continue the
    `<role>_<node>` scheme (a second 派遣员 on 潞州区 is paiqian_lzq2), so none repeats one in `before`."""
    taken: dict[tuple[str, str], int] = {}
    for a in before:
        if a.node:
            taken[(a.role, a.node)] = taken.get((a.role, a.node), 0) + 1
    plan: list[Account] = []
    for role, node, post, count in rows:
        where = org.units[node].name if node in org.units else org.divisions[node].name
        for _ in range(count):
            n = taken.get((role, node), 0)
            base = f"{PREFIX[Role(role)]}_{node.lower().replace('-', '_')}"
            plan.append(Account(role, base if n == 0 else f"{base}{n + 1}", "", f"{where} · {post}", node))
            taken[(role, node)] = n + 1
    return plan


ADMIN_USERNAME = "admin"


def build_people(org: Org, plan: list[Account] | None = None) -> Cast:
    """Create every account of `plan` (default: plan_accounts) with the one demo password (hashed once)
    and its membership."""
    plan = plan if plan is not None else plan_accounts(org)
    password = make_password(DEMO_PASSWORD)
    for account, name in zip(plan, name_pool(len(plan)), strict=True):
        account.name = name
    users = User.objects.bulk_create(
        [User(username=a.username, display_name=a.name, password=password) for a in plan]
    )
    # The administrator of the demo: the Django admin (org tree, people, roles) needs a staff account.
    User.objects.create(
        username=ADMIN_USERNAME,
        display_name="系统管理员",
        password=password,
        is_staff=True,
        is_superuser=True,
    )
    cast = Cast(accounts=plan)
    for account, user in zip(plan, users, strict=True):
        account.user = user
        node = account.node
        Membership(
            user=user,
            role=account.role,
            division=org.divisions.get(node) if node else None,
            unit=org.units.get(node) if node else None,
        ).save()
        cast.on.setdefault((account.role, node), []).append(user)
    return cast
