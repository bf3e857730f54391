"""In-process nodes of facilities, access and reservations for unit tests: memory contexts
on one backend, users with roles, and a federation stand-in that ships releasable events
and judges them by the record types' owner rules (as tests/assistance/nodes.py does)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from kizuna.access import plugin as access_plugin
from kizuna.facilities import FacilitiesSettings
from kizuna.facilities import plugin as facilities_plugin
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.contract import Domain
from kizuna.kernel.testing import memory_context
from kizuna.reservations import plugin as reservations_plugin
from tests.conftest import SHARED_DATA
from tests.support import inproc

CSV = SHARED_DATA / "reference" / "facilities.csv"  # read in place
PLUGINS: list[Domain] = [facilities_plugin, access_plugin, reservations_plugin]
OWNERS = {rt.name: rt.owner for p in PLUGINS for rt in p.record_types()}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Node:
    ctx: NodeContext
    services: dict[str, Any]
    refused: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def facilities(self) -> Any:
        return self.services["facilities"]

    @property
    def access(self) -> Any:
        return self.services["access"]

    @property
    def reservations(self) -> Any:
        return self.services["reservations"]

    def user(
        self, name: str = "op", *roles: str, nation: str | None = None, clearance: str = "SECRET"
    ) -> Caller:
        return inproc.caller(self.ctx, name, clearance, *roles, nation=nation or "")


def start(
    node_id: str = "jjoc",
    nation: str = "JPN",
    *,
    root: Path | None = None,
    settings: dict[str, msgspec.Struct] | None = None,
    upto: str = "reservations",
    backend: Any = None,
) -> Node:
    """A node of facilities (reading the shared facilities CSV), access and reservations."""
    tables: dict[str, msgspec.Struct] = {"facilities": FacilitiesSettings(csv=str(CSV))}
    tables.update(settings or {})
    services: dict[str, Any] = {}
    first: NodeContext | None = None
    for plugin in PLUGINS:
        ctx = memory_context(
            node_id,
            nation,
            root=root if first is None else first.root,
            backend=backend if first is None else first.backend,
            settings=tables.get(plugin.name),
            services=services,
            name=plugin.name,
        )
        if first is None:
            first = ctx
        else:  # one node: share the audit trail and bus of the first context
            ctx.audit, ctx.bus, ctx.metrics = first.audit, first.bus, first.metrics
        for rt in plugin.record_types():
            ctx.events.register_merge(rt.name, rt.merge)
        services[plugin.name] = plugin.start(ctx)
        if plugin.name == upto:
            break
    assert first is not None
    return Node(first, services)


def fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def ship(src: Node, dst: Node) -> int:
    """Deliver what ``dst``'s nation may see of ``src``'s log, judged by the owner rules."""
    return inproc.ship(src, dst, OWNERS)
