"""A mechanism's states and transitions laid out as a left-to-right diagram, drawn as SVG by a template.

Layout: states go into columns by their longest path from the intake state (back edges — 退回, 返工 —
are found by a depth-first walk and left out of the layering); within a column states are ordered
by the average row of their predecessors. Edges between neighbouring columns are curves from side
to side; edges that skip columns arc over the top, back edges arc underneath, each arc in its own
lane so none overlap. Transitions that do not change the state (催办, 延期, 标记) are not drawn: the
table on the page lists them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import permutations

from taizhang.mechanisms.registry import Mechanism

NODE_H = 40
ROW_GAP = 34
COL_GAP = 110  # at least; wider where the labels between two columns need it
LINE_H = 17
CHAR_W = 15  # a CJK character at the node font size
LABEL_CHAR_W = 12.5
LANE_GAP = 24
MARGIN = 24
MIN_SCALE = 0.75  # the page shrinks a wide diagram to fit, down to this scale
MAX_PERMUTED = 6  # columns with more states keep definition order (6! orders is still quick)


@dataclass
class Node:
    code: str
    name: str
    kind: str
    initial: bool
    layer: int = 0
    row: int = 0
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = NODE_H

    @property
    def cx(self) -> float:
        return round(self.x + self.w / 2, 1)

    @property
    def cy(self) -> float:
        return round(self.y + self.h / 2, 1)


@dataclass
class Edge:
    source: str
    target: str
    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    kind: str = "forward"  # forward (next column), over (skips columns), back
    path: str = ""
    label_x: float = 0
    label_y: float = 0

    @property
    def lines(self) -> list[str]:
        """The label: one transition per line between neighbouring columns, one line on an arc."""
        return self.names if self.kind == "forward" else [" / ".join(self.names)]

    @property
    def label_w(self) -> float:
        return round(max(len(line) for line in self.lines) * LABEL_CHAR_W + 10, 1)

    @property
    def label_h(self) -> float:
        return LINE_H * len(self.lines) + 2

    @property
    def label_box(self) -> tuple[float, float]:
        """Top-left corner of the label's background."""
        return round(self.label_x - self.label_w / 2, 1), round(self.label_y - self.label_h / 2, 1)

    @property
    def label_lines(self) -> list[tuple[str, float]]:
        """Each line of the label with the y of its middle."""
        first = self.label_y - LINE_H * (len(self.lines) - 1) / 2
        return [(line, round(first + i * LINE_H, 1)) for i, line in enumerate(self.lines)]


@dataclass
class Diagram:
    nodes: list[Node]
    edges: list[Edge]
    width: float
    height: float
    start_x: float = 0
    start_y: float = 0

    @property
    def min_width(self) -> int:
        """Narrower than this the diagram scrolls instead of shrinking (its text stays readable)."""
        return round(self.width * MIN_SCALE)


def state_edges(mech: Mechanism) -> list[Edge]:
    """One edge per (from, to) pair of states, naming every transition that takes it."""
    edges: dict[tuple[str, str], Edge] = {}
    for t in mech.definition.transitions:
        for source in t.from_:
            # `to_previous`: an edge back to each state the case may have come from.
            for target in mech.entries_of(source) if t.to_previous else [t.to] if t.to else []:
                if source == target:
                    continue
                edge = edges.setdefault((source, target), Edge(source, target))
                edge.codes.append(t.code)
                edge.names.append(t.name)
    return list(edges.values())


def back_edges(order: list[str], initial: str, edges: list[Edge]) -> set[tuple[str, str]]:
    """Edges that close a cycle in a depth-first walk from the initial state (then from any left)."""
    out_of: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        out_of[e.source].append(e.target)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()

    def walk(node: str) -> None:
        state[node] = 1
        for nxt in out_of[node]:
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                walk(nxt)
        state[node] = 2

    for start in [initial, *order]:
        if start not in state:
            walk(start)
    return back


def layers(order: list[str], edges: list[Edge], back: set[tuple[str, str]]) -> dict[str, int]:
    """Longest-path column of each state over the forward edges."""
    layer = dict.fromkeys(order, 0)
    forward = [(e.source, e.target) for e in edges if (e.source, e.target) not in back]
    for _ in order:  # at most len(order) relaxations on a DAG
        changed = False
        for s, t in forward:
            if layer[t] < layer[s] + 1:
                layer[t] = layer[s] + 1
                changed = True
        if not changed:
            break
    return layer


def arc_costs(s: Node, t: Node, rows_in: dict[int, int]) -> tuple[int, int]:
    """How many states an arc's ends cross going over the top, and going underneath."""
    above = s.row + t.row
    below = (rows_in[s.layer] - 1 - s.row) + (rows_in[t.layer] - 1 - t.row)
    return above, below


def layout_cost(nodes: dict[str, Node], edges: list[Edge], back: set[tuple[str, str]]) -> int:
    """Crossing edges weigh most, then arcs through states, then edges that are not level."""
    rows_in: dict[int, int] = defaultdict(int)
    for n in nodes.values():
        rows_in[n.layer] += 1
    cost, level = 0, []
    for e in edges:
        s, t = nodes[e.source], nodes[e.target]
        if (e.source, e.target) not in back and t.layer - s.layer == 1:
            level.append((s, t))
            cost += 2 * abs(s.row - t.row)
        else:
            cost += 6 * min(arc_costs(s, t, rows_in))
    for i, (s1, t1) in enumerate(level):
        for s2, t2 in level[i + 1 :]:
            if s1.layer == s2.layer and (s1.row - s2.row) * (t1.row - t2.row) < 0:
                cost += 10
    return cost


def order_rows(nodes: dict[str, Node], edges: list[Edge], back: set[tuple[str, str]]) -> None:
    """Rows within each column: column by column (a few sweeps), the order of least `layout_cost`;
    definition order first among equals. Columns are small, so every order is tried."""
    columns: dict[int, list[Node]] = defaultdict(list)
    for n in nodes.values():
        columns[n.layer].append(n)
    for col in columns.values():
        for i, n in enumerate(col):
            n.row = i
    for _ in range(3):
        for layer in sorted(columns):
            col = columns[layer]
            if len(col) < 2 or len(col) > MAX_PERMUTED:
                continue
            best, best_cost = list(col), None
            for order in permutations(col):
                for i, n in enumerate(order):
                    n.row = i
                cost = layout_cost(nodes, edges, back)
                if best_cost is None or cost < best_cost:
                    best, best_cost = list(order), cost
            for i, n in enumerate(best):
                n.row = i
            columns[layer] = best


def assign_lanes(edges: list[Edge], nodes: dict[str, Node]) -> dict[int, int]:
    """Lane per arc (by id): arcs whose spans overlap get different lanes, shorter arcs inside."""
    lanes: dict[int, int] = {}
    taken: list[list[tuple[float, float]]] = []
    for e in sorted(edges, key=lambda e: abs(nodes[e.source].cx - nodes[e.target].cx)):
        lo, hi = sorted((nodes[e.source].cx, nodes[e.target].cx))
        lane = 0
        while lane < len(taken) and any(a < hi + 20 and lo - 20 < b for a, b in taken[lane]):
            lane += 1
        if lane == len(taken):
            taken.append([])
        taken[lane].append((lo, hi))
        lanes[id(e)] = lane
    return lanes


def arc_side(e: Edge, nodes: dict[str, Node], rows_in: dict[int, int]) -> bool:
    """True to arc over the top: the side where the arc's ends cross fewer states of their columns."""
    above, below = arc_costs(nodes[e.source], nodes[e.target], rows_in)
    return above < below or (above == below and e.kind == "over")


def ports(arcs: list[tuple[Edge, bool]], nodes: dict[str, Node]) -> dict[tuple[int, str], float]:
    """Where each arc leaves or meets a state: spread along the state's top or bottom edge."""
    at: dict[tuple[str, bool], list[tuple[float, int, str]]] = defaultdict(list)
    for e, above in arcs:
        at[e.source, above].append((nodes[e.target].cx, id(e), "s"))
        at[e.target, above].append((nodes[e.source].cx, id(e), "t"))
    out: dict[tuple[int, str], float] = {}
    for (code, _), ends in at.items():
        n = nodes[code]
        ends.sort()
        for i, (_, key, end) in enumerate(ends):
            out[key, end] = round(n.x + n.w * (i + 1) / (len(ends) + 1), 1)
    return out


def build_diagram(mech: Mechanism) -> Diagram:
    """Positions of every state and the path and label position of every state-changing edge."""
    order = [s.code for s in mech.definition.states]
    initial = mech.definition.intake.initial
    nodes = {
        s.code: Node(s.code, s.name, s.kind, s.code == initial, w=max(80, len(s.name) * CHAR_W + 28))
        for s in mech.definition.states
    }
    edges = state_edges(mech)
    back = back_edges(order, initial, edges)
    for code, layer in layers(order, edges, back).items():
        nodes[code].layer = layer
    order_rows(nodes, edges, back)
    for e in edges:
        gap = nodes[e.target].layer - nodes[e.source].layer
        e.kind = "back" if (e.source, e.target) in back or gap <= 0 else ("forward" if gap == 1 else "over")

    n_layers = max(n.layer for n in nodes.values()) + 1
    rows_in = {i: sum(1 for n in nodes.values() if n.layer == i) for i in range(n_layers)}
    col_w = [max((n.w for n in nodes.values() if n.layer == i), default=80) for i in range(n_layers)]
    n_rows = max(rows_in.values())
    gaps = [COL_GAP] * n_layers
    for e in edges:
        if e.kind == "forward":
            layer = nodes[e.source].layer
            gaps[layer] = max(gaps[layer], e.label_w + 40)
    x, left = MARGIN + 36, []  # room for the start marker
    for w, gap in zip(col_w, gaps, strict=True):
        left.append(x)
        x += w + gap
    for n in nodes.values():  # x first: the arcs' lanes and ports depend on it
        n.x = round(left[n.layer] + (col_w[n.layer] - n.w) / 2, 1)
    arcs = [(e, arc_side(e, nodes, rows_in)) for e in edges if e.kind != "forward"]
    over_lanes = assign_lanes([e for e, above in arcs if above], nodes)
    under_lanes = assign_lanes([e for e, above in arcs if not above], nodes)
    top = MARGIN + (max(over_lanes.values(), default=-1) + 1) * LANE_GAP + (12 if over_lanes else 0)
    for n in nodes.values():
        n.y = top + n.row * (NODE_H + ROW_GAP)
    bottom = top + n_rows * (NODE_H + ROW_GAP) - ROW_GAP
    for e in edges:
        if e.kind == "forward":
            s, t = nodes[e.source], nodes[e.target]
            x1, y1, x2, y2 = s.x + s.w, s.cy, t.x, t.cy
            mid = (x1 + x2) / 2
            e.path = f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2 - 2:.1f},{y2:.1f}"
            e.label_x, e.label_y = round(mid, 1), round((y1 + y2) / 2, 1)
    port = ports(arcs, nodes)
    for e, above in arcs:
        s, t = nodes[e.source], nodes[e.target]
        lane = (over_lanes if above else under_lanes)[id(e)]
        ly = (top - 14 - lane * LANE_GAP) if above else (bottom + 20 + lane * LANE_GAP)
        y1 = s.y if above else s.y + s.h
        y2 = t.y if above else t.y + t.h
        ctrl = (ly - (y1 + y2) / 8) / 0.75  # puts the curve's apex on the lane
        x1, x2 = port[id(e), "s"], port[id(e), "t"]
        end = y2 - 2 if above else y2 + 2
        e.path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{ctrl:.1f} {x2:.1f},{ctrl:.1f} {x2:.1f},{end:.1f}"
        e.label_x, e.label_y = round((x1 + x2) / 2, 1), ly
    lowest = bottom + (max(under_lanes.values(), default=-1) + 1) * LANE_GAP + (20 if under_lanes else 0)
    width = left[-1] + col_w[-1] + MARGIN
    first = nodes[initial]
    return Diagram(
        nodes=list(nodes.values()),
        edges=edges,
        width=round(width),
        height=round(lowest + MARGIN),
        start_x=round(first.x - 30, 1),
        start_y=first.cy,
    )
