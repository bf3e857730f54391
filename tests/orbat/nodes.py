"""In-process nodes for ORBAT tests: memory contexts, callers, and a federation stand-in that
ships releasable events and judges them by the record types' owner rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kizuna.core.release import may_release
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.node.users import make_user, principal_of
from kizuna.orbat import plugin
from kizuna.orbat.models import RelationIn, UnitIn
from kizuna.orbat.service import OrbatService

OWNERS = {rt.name: rt.owner for rt in plugin.record_types()}
LAND_HQ = "10031000001100000000"


@dataclass
class Node:
    ctx: NodeContext
    service: OrbatService
    refused: list[tuple[str, str, str]] = field(default_factory=list)

    def user(self, name: str = "op", clearance: str = "SECRET", *roles: str) -> Caller:
        user, _ = make_user(name, self.ctx.nation, clearance, [], list(roles), self.ctx.groups)
        return Caller(user, principal_of(user, self.ctx.groups))

    def foreign(self, name: str, nation: str, clearance: str = "SECRET") -> Caller:
        user, _ = make_user(name, nation, clearance, [], [], self.ctx.groups)
        return Caller(user, principal_of(user, self.ctx.groups))


def start(node_id: str, nation: str) -> Node:
    ctx = memory_context(node_id, nation, groups={"ACM": ["USA", "JPN"]})
    for rt in plugin.record_types():
        ctx.events.register_merge(rt.name, rt.merge)
    return Node(ctx, plugin.start(ctx))


def ship(src: Node, dst: Node) -> int:
    """Deliver every event of ``src``'s log that ``dst``'s nation may see, each judged by
    its record type's owner rule against ``dst``'s state (as federation does)."""
    applied = 0
    for _, event in src.ctx.events.events_after(0, 100_000):
        if event.origin == dst.ctx.node_id:
            continue
        if not may_release(event.label, dst.ctx.node_principal()):
            continue
        state = dst.ctx.events.get(event.record_type, event.record_id)
        reason = OWNERS[event.record_type](state, event)
        if reason is not None:
            dst.refused.append((event.record_type, event.origin, reason))
            continue
        applied += len(dst.ctx.events.apply([event]))
    return applied


def sync(*nodes: Node) -> None:
    for _ in range(2):
        for a in nodes:
            for b in nodes:
                if a is not b:
                    ship(a, b)


def unit(uid: str, en: str, ja: str = "", label: str = "UNCLASSIFIED", **extra: Any) -> UnitIn:
    body: dict[str, Any] = {
        "id": uid,
        "label": label,
        "name": {"en": en, "ja": ja},
        "sidc": LAND_HQ,
        "echelon": "command",
        "hq": True,
        **extra,
    }
    import msgspec

    return msgspec.convert(body, UnitIn)


def edge(
    rid: str, sub: str, sup: str, kind: str, start: str = "2026-01-01T00:00:00Z", **extra: Any
) -> RelationIn:
    return RelationIn(
        id=rid,
        label=extra.pop("label", "UNCLASSIFIED"),
        from_unit=sub,
        to_unit=sup,
        kind=kind,  # type: ignore[arg-type]
        valid_from=start,
        **extra,
    )
