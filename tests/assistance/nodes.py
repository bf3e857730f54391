"""In-process nodes for assistance tests: memory contexts, callers, and a federation
stand-in that ships releasable events and judges them by the record types' owner rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from kizuna.assistance import plugin
from kizuna.assistance.models import LineIn, OfferIn, RfaIn, SiteIn
from kizuna.assistance.service import AssistanceService
from kizuna.core.records import Text
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from tests.support import inproc

OWNERS = {rt.name: rt.owner for rt in plugin.record_types()}


@dataclass
class Node:
    ctx: NodeContext
    service: AssistanceService
    refused: list[tuple[str, str, str]] = field(default_factory=list)

    def user(self, name: str = "op", clearance: str = "SECRET", *roles: str) -> Caller:
        return inproc.caller(self.ctx, name, clearance, *roles)


def start(node_id: str, nation: str) -> Node:
    ctx = memory_context(node_id, nation, groups={"ACM": ["USA", "JPN"]})
    for rt in plugin.record_types():
        ctx.events.register_merge(rt.name, rt.merge)
    return Node(ctx, plugin.start(ctx))


def ship(src: Node, dst: Node) -> int:
    """Deliver what ``dst``'s nation may see of ``src``'s log, judged by the owner rules."""
    return inproc.ship(src, dst, OWNERS)


def sync(*nodes: Node, rounds: int = 3) -> None:
    inproc.sync(nodes, OWNERS, rounds)


def water_rfa(label: str = "U", **kw: object) -> RfaIn:
    """Water for 20,000 people for 3 days at 15 L a day: 900,000 L, in 2 L bottles."""
    return RfaIn(
        incident_id="eq-2024-noto",
        requesting_org=Text(en="Ishikawa Prefecture", ja="石川県"),
        site=SiteIn(
            id="shelter-wajima-01", name=Text(en="Wajima Elementary School", ja="輪島小学校")
        ),
        needed_by="2030-01-03T00:00:00Z",
        lines=[
            LineIn(
                item="water",
                kind="item",
                description=Text(en="Drinking water", ja="飲料水"),
                unit="L",
                pack_size=2.0,
                packs=450_000,
            )
        ],
        label=label,
        **kw,  # type: ignore[arg-type]
    )


def water_offer(rfa_id: str | None, litres: float, label: str = "U", **kw: object) -> OfferIn:
    return OfferIn(
        rfa_id=rfa_id,
        lines=[LineIn(item="water", kind="item", quantity=litres, unit="L")],
        unit="Task Force Water",
        label=label,
        **kw,  # type: ignore[arg-type]
    )
