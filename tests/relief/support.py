"""Relief services on memory contexts, callers of each nation, a bus that records."""

from __future__ import annotations

from typing import Any

from kizuna.core.labels import Label
from kizuna.core.records import Text
from kizuna.kernel.bus import PushBus
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.node.users import make_user, principal_of
from kizuna.relief import plugin
from kizuna.relief.models import ShelterIn, Where
from kizuna.relief.service import ReliefService


class RecordingBus(PushBus):
    """The node's bus with one listener, remembering every publish."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, dict[str, Any], Label]] = []

    @property
    def subscribers(self) -> int:
        return 1

    def publish(self, topic: str, item: Any, label: Label) -> None:
        self.published.append((topic, dict(item), label))


def node(node_id: str = "jjoc", nation: str = "JPN") -> tuple[NodeContext, ReliefService]:
    ctx = memory_context(node_id, nation)
    ctx.bus = RecordingBus()
    for rt in plugin.record_types():
        ctx.events.register_merge(rt.name, rt.merge)
    service = plugin.start(ctx)
    assert isinstance(service, ReliefService)
    return ctx, service


def caller(
    ctx: NodeContext, name: str, nation: str, clearance: str = "SECRET", *roles: str
) -> Caller:
    user, _ = make_user(name, nation, clearance, [], list(roles), ctx.groups)
    return Caller(user, principal_of(user, ctx.groups))


def shelter_in(label: str = "UNCLASSIFIED", **over: Any) -> ShelterIn:
    fields: dict[str, Any] = {
        "label": label,
        "name": Text(en="Wajima Municipal Gymnasium", ja="輪島市立体育館"),
        "municipality": Text(en="Wajima", ja="輪島市"),
        "municipality_code": "172049",
        "position": Where(lat=37.3906, lon=136.8992),
        "capacity_day": 800,
        "capacity_night": 600,
        "population_day": 350,
        "population_night": 580,
        **over,
    }
    return ShelterIn(**fields)
