"""Pure rules of the ORBAT: SIDCs, which edges may exist, who may write them, the tree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kizuna.core.catalog import Catalog, Message
from kizuna.core.records import Event, RecordState
from kizuna.kernel.contract import origin_owns
from kizuna.orbat.models import COMMAND_KINDS, ECHELON_CODES, KINDS

MESSAGES = Catalog("kizuna.orbat")

# 2525D symbol sets a unit may be drawn with (land unit, sea surface, air, space, cyber...).
SYMBOL_SETS = frozenset({"01", "05", "10", "15", "20", "30", "35", "40", "60"})
# Which tree parent wins when a unit has several command edges at one instant: the
# operational one (who it works for now) before the organic and administrative ones.
PARENT_ORDER = ("ATTACHED", "OPCON", "TACON", "ORGANIC", "ADCON")


def sidc_problem(sidc: str) -> Message | None:
    """What is wrong with a 20-digit 2525D SIDC (None: fine), as a catalog message."""
    if len(sidc) != 20 or not sidc.isdigit():
        return MESSAGES.msg("sidc.digits")
    if sidc[:2] not in ("10", "11", "13"):
        return MESSAGES.msg("sidc.version", version=sidc[:2])
    if sidc[2] not in "012":
        return MESSAGES.msg("sidc.context")
    if sidc[3] not in "0123456":
        return MESSAGES.msg("sidc.identity")
    if sidc[4:6] not in SYMBOL_SETS:
        return MESSAGES.msg("sidc.symbol-set", set=sidc[4:6])
    return None


def sidc_with(sidc: str, *, hq: bool, task_force: bool, echelon: str) -> str:
    """The SIDC with its headquarters/task force digit, and for land units its echelon
    amplifier, set from the unit's fields (so the symbol always says what the record does)."""
    digit = "6" if hq and task_force else "2" if hq else "4" if task_force else "0"
    out = sidc[:7] + digit + sidc[8:]
    if sidc[4:6] == "10" and echelon in ECHELON_CODES:
        out = out[:8] + ECHELON_CODES[echelon] + out[10:]
    return out


def is_command(kind: str) -> bool:
    return kind in COMMAND_KINDS


# -- which edges may exist -----------------------------------------------------------


@dataclass(frozen=True)
class EdgeRefusal:
    """Why an edge may not exist: a code (metrics, audit, catalog key) and its values."""

    code: str
    values: Mapping[str, str] = field(default_factory=dict)


def edge_refusal(
    kind: str, from_nation: str | None, to_nation: str | None, from_unit: str, to_unit: str
) -> EdgeRefusal | None:
    """A command edge holds only within one nation's chain; no unit relates to itself."""
    if kind not in KINDS:
        return EdgeRefusal("bad_kind", {"kind": kind})
    if from_unit == to_unit:
        return EdgeRefusal("self_edge", {"unit": from_unit})
    if is_command(kind):
        if not from_nation or not to_nation:
            return EdgeRefusal("command_unknown_nation", {"kind": kind})
        if from_nation != to_nation:
            return EdgeRefusal(
                "command_across_chains",
                {"kind": kind, "from_nation": from_nation, "to_nation": to_nation},
            )
    return None


def relation_owner(state: RecordState | None, event: Event) -> str | None:
    """Federation's check of a ``unit_relation`` event: the origin owns its edges, and no
    event may make an edge a command relationship between two nations' chains (it would
    put one nation's unit under the other's command), nor a command edge over a unit
    another node owns."""
    refusal = origin_owns(state, event)
    if refusal is not None:
        return refusal
    if event.op == "tombstone":
        return None
    fields: dict[str, Any] = {**(state.fields if state is not None else {}), **event.payload}
    kind = fields.get("kind")
    if kind is None:  # a patch ahead of its create: ends or a label only
        return None
    refused = edge_refusal(
        str(kind),
        fields.get("from_nation"),
        fields.get("to_nation"),
        str(fields.get("from_unit", "")),
        str(fields.get("to_unit", "")),
    )
    if refused is not None:
        return refused.code
    if is_command(str(kind)) and fields.get("from_node") != event.origin:
        return "command_not_subordinate_owner"
    if not is_command(str(kind)) and event.origin not in (
        fields.get("from_node"),
        fields.get("to_node"),
    ):
        return "coordination_not_party"
    return None


# -- time ---------------------------------------------------------------------------


def valid_at(fields: Mapping[str, Any], at: float) -> bool:
    """Whether an edge holds at ``at``: from ``valid_from`` (inclusive) to ``valid_to``."""
    start = fields.get("valid_from")
    end = fields.get("valid_to")
    if start is None or float(start) > at:
        return False
    return end is None or at < float(end)


def overlaps(a: Mapping[str, Any], start: float, end: float | None) -> bool:
    a_start = float(a.get("valid_from") or 0.0)
    a_end = a.get("valid_to")
    return (end is None or a_start < end) and (a_end is None or start < float(a_end))


def state_at(events: Sequence[Event], at: float, merge: Any) -> RecordState | None:
    """A record as its events had made it by ``at`` (HLC time), or None if not yet."""
    from kizuna.core.hlc import to_seconds

    state: RecordState | None = None
    for e in sorted(events, key=lambda e: e.order):
        if to_seconds(e.hlc) <= at:
            state = merge(state, e)
    return state


def would_cycle(
    edges: Iterable[Mapping[str, Any]],
    from_unit: str,
    to_unit: str,
    start: float,
    end: float | None,
) -> bool:
    """Whether a command edge from_unit → to_unit over [start, end) closes a loop with the
    command edges that overlap it (to_unit already reaches from_unit upward)."""
    up: dict[str, set[str]] = {}
    for e in edges:
        if is_command(str(e.get("kind"))) and overlaps(e, start, end):
            up.setdefault(str(e["from_unit"]), set()).add(str(e["to_unit"]))
    seen, todo = set(), [to_unit]
    while todo:
        u = todo.pop()
        if u == from_unit:
            return True
        if u in seen:
            continue
        seen.add(u)
        todo.extend(up.get(u, ()))
    return False


# -- the tree -----------------------------------------------------------------------


@dataclass
class Placed:
    unit_id: str
    parent: str | None
    relation: str | None  # the edge to the parent
    depth: int
    children: list[str]
    other: list[str]  # other command edges valid at the instant


def tree(
    units: Sequence[str], edges: Sequence[tuple[str, Mapping[str, Any]]], names: Mapping[str, str]
) -> tuple[list[Placed], list[str]]:
    """The task organisation from the units and the edges valid at one instant: each
    unit's parent by :data:`PARENT_ORDER` (an edge to a unit not shown is ignored), depth
    first from the roots, siblings by name. Returns the placed units and the COORDINATION
    edges between shown units."""
    shown = set(units)
    rank = {k: i for i, k in enumerate(PARENT_ORDER)}
    best: dict[str, tuple[int, str, str]] = {}
    others: dict[str, list[str]] = {}
    coordination = []
    for rid, f in edges:
        a, b, kind = str(f["from_unit"]), str(f["to_unit"]), str(f["kind"])
        if a not in shown or b not in shown:
            continue
        if not is_command(kind):
            coordination.append(rid)
            continue
        cand = (rank.get(kind, 99), rid, b)
        if a not in best or cand < best[a]:
            if a in best:
                others.setdefault(a, []).append(best[a][1])
            best[a] = cand
        else:
            others.setdefault(a, []).append(rid)
    # A loop (possible only from concurrent writes on cut-off nodes) is cut at its edges.
    parent = {u: best[u][2] for u in best}
    for u in list(parent):
        seen, v = {u}, parent.get(u)
        while v is not None:
            if v in seen:
                parent.pop(u, None)
                break
            seen.add(v)
            v = parent.get(v)
    kids: dict[str | None, list[str]] = {}
    for u in units:
        kids.setdefault(parent.get(u), []).append(u)
    for lst in kids.values():
        lst.sort(key=lambda u: (names.get(u, ""), u))
    out: list[Placed] = []

    def walk(u: str, depth: int) -> None:
        children = kids.get(u, [])
        rel = best[u][1] if u in parent else None
        out.append(Placed(u, parent.get(u), rel, depth, list(children), sorted(others.get(u, []))))
        for c in children:
            walk(c, depth + 1)

    for root in kids.get(None, []):
        walk(root, 0)
    return out, sorted(coordination)
