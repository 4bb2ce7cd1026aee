"""What a person sees of a case's links: its parents and children that they may see themself, and the
children's progress rolled up (how many in each kind of state, how many overdue).

Only through `Case.objects.for_user`: a link to a case the person may not see is neither shown nor counted.
(The history rows that record links are the case's own history, shown as written to those who read the
case in full; the public view leaves the link entries out, `PUBLIC_HIDDEN`.)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F

from taizhang.mechanisms.registry import get_registry

from .links import KIND_NAMES, RELATED
from .models import STATE_KINDS, Case

# History entries that record links: never in the public view of a row (they name other cases).
PUBLIC_HIDDEN = ("spawned", "spawned_from", "link_kind", "related_to", "related_from")


@dataclass
class LinkedCase:
    number: str
    title: str
    mechanism: str
    mechanism_name: str
    state: str
    state_name: str
    state_kind: str
    kind: str  # subtask, derived, related
    kind_name: str
    due_at: datetime | None
    overdue: bool


@dataclass
class LinksView:
    parents: list[LinkedCase] = field(default_factory=list)
    children: list[LinkedCase] = field(default_factory=list)
    # 关联 cases, either way: neither parent nor child, and not in the progress.
    related: list[LinkedCase] = field(default_factory=list)
    # The numbers of the 关联 cases this case links to (its own, the only ones it can unlink).
    related_here: set[str] = field(default_factory=set)
    # The children's progress: {state kind: count} for every kind, and how many are overdue.
    by_state_kind: dict[str, int] = field(default_factory=dict)
    overdue: int = 0

    @property
    def empty(self) -> bool:
        return not (self.parents or self.children or self.related)

    @property
    def numbers(self) -> set[str]:
        return {c.number for c in (*self.parents, *self.children, *self.related)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "parents": [vars(c) for c in self.parents],
            "children": [vars(c) for c in self.children],
            "related": [vars(c) for c in self.related],
            "progress": {
                "total": len(self.children),
                "by_state_kind": self.by_state_kind,
                "overdue": self.overdue,
            },
        }


def linked(qs, kind_path: str) -> list[LinkedCase]:
    registry = get_registry().mechanisms
    out = []
    for c in qs.annotate(link_kind=F(kind_path)).order_by("number"):
        mech = registry.get(c.mechanism)
        out.append(
            LinkedCase(
                number=c.number,
                title=c.title,
                mechanism=c.mechanism,
                mechanism_name=mech.name if mech else c.mechanism,
                state=c.state,
                state_name=mech.state_name(c.state) if mech else c.state,
                state_kind=c.state_kind,
                kind=c.link_kind,
                kind_name=KIND_NAMES.get(c.link_kind, c.link_kind),
                due_at=c.due_at,
                overdue=c.is_overdue,
            )
        )
    return out


def links_of(user, case: Case) -> LinksView:
    """The case's parents, children and 关联 cases the person may see (two queries), with the progress of
    the children (子任务, 派生: a 关联 case is no part of the work)."""
    visible = Case.objects.for_user(user)
    above = linked(visible.filter(child_links__child=case), "child_links__kind")
    below = linked(visible.filter(parent_links__parent=case), "parent_links__kind")
    view = LinksView(
        parents=[c for c in above if c.kind != RELATED],
        children=[c for c in below if c.kind != RELATED],
        related=sorted((c for c in (*above, *below) if c.kind == RELATED), key=lambda c: c.number),
        related_here={c.number for c in below if c.kind == RELATED},
    )
    kinds = Counter(c.state_kind for c in view.children)
    view.by_state_kind = {code: kinds.get(code, 0) for code, _ in STATE_KINDS}
    view.overdue = sum(c.overdue for c in view.children)
    return view
