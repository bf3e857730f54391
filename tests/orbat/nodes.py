"""In-process nodes for ORBAT tests: memory contexts, callers, and a federation stand-in that
ships releasable events and judges them by the record types' owner rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.orbat import plugin
from kizuna.orbat.models import RelationIn, UnitIn
from kizuna.orbat.service import OrbatService
from tests.support import inproc

OWNERS = {rt.name: rt.owner for rt in plugin.record_types()}
LAND_HQ = "10031000001100000000"


@dataclass
class Node:
    ctx: NodeContext
    service: OrbatService
    refused: list[tuple[str, str, str]] = field(default_factory=list)

    def user(self, name: str = "op", clearance: str = "SECRET", *roles: str) -> Caller:
        return inproc.caller(self.ctx, name, clearance, *roles)

    def foreign(self, name: str, nation: str, clearance: str = "SECRET") -> Caller:
        return inproc.caller(self.ctx, name, clearance, nation=nation)


def start(node_id: str, nation: str) -> Node:
    ctx = memory_context(node_id, nation, groups={"ACM": ["USA", "JPN"]})
    for rt in plugin.record_types():
        ctx.events.register_merge(rt.name, rt.merge)
    return Node(ctx, plugin.start(ctx))


def ship(src: Node, dst: Node) -> int:
    """Deliver what ``dst``'s nation may see of ``src``'s log, judged by the owner rules."""
    return inproc.ship(src, dst, OWNERS)


def sync(*nodes: Node) -> None:
    inproc.sync(nodes, OWNERS)


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
