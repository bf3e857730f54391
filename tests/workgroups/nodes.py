"""In-process nodes for workgroups tests: memory contexts, callers, a federation stand-in
that ships releasable events judged by the record types' owner rules, and a clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kizuna.core.records import Text
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.workgroups import WorkgroupsSettings, plugin
from kizuna.workgroups.models import ActionItemIn, GroupMember, MeetingIn, Office, WorkingGroupIn
from kizuna.workgroups.service import WorkgroupsService
from tests.support import inproc

OWNERS = {rt.name: rt.owner for rt in plugin.record_types()}
DUE = 2_000_000_000.0  # 2033-05-18T03:33:20Z


@dataclass
class Clock:
    now: float = DUE - 7 * 86_400

    def __call__(self) -> float:
        return self.now


@dataclass
class Node:
    ctx: NodeContext
    service: WorkgroupsService
    clock: Clock
    refused: list[tuple[str, str, str]] = field(default_factory=list)

    def user(self, name: str = "op", *roles: str, clearance: str = "SECRET") -> Caller:
        return inproc.caller(self.ctx, name, clearance, *roles)


def start(node_id: str, nation: str, clock: Clock | None = None) -> Node:
    ctx = memory_context(
        node_id, nation, groups={"ACM": ["USA", "JPN"]}, settings=WorkgroupsSettings()
    )
    for rt in plugin.record_types():
        ctx.events.register_merge(rt.name, rt.merge)
    service = plugin.start(ctx)
    clock = clock or Clock()
    service.clock = clock
    return Node(ctx, service, clock)


def ship(src: Node, dst: Node) -> int:
    """Deliver what ``dst``'s nation may see of ``src``'s log, judged by the owner rules."""
    return inproc.ship(src, dst, OWNERS)


def sync(*nodes: Node, rounds: int = 2) -> None:
    inproc.sync(nodes, OWNERS, rounds)


CHAIR_US = GroupMember(user="us.chair", node="usfj", nation="USA")
CHAIR_JP = GroupMember(user="jp.chair", node="jjoc", nation="JPN")
OPR_JP = Office(office="J3 Operations", node="jjoc", nation="JPN", user="jp.ao")
OCR_US = Office(office="J5 Plans", node="usfj", nation="USA", user="us.ao")


def acg(label: str = "S//REL TO USA, JPN", **kw: Any) -> WorkingGroupIn:
    return WorkingGroupIn(
        name=Text(en="Alliance Coordination Group", ja="同盟調整グループ"),
        convening_authority=Text(en="USINDOPACOM / JJOC", ja="インド太平洋軍・統合作戦司令部"),
        level="acg",
        cadence="weekly",
        co_chairs=[CHAIR_US, CHAIR_JP],
        members=[
            GroupMember(user="us.liaison", node="jjoc", nation="USA"),
            GroupMember(user="jp.liaison", node="usfj", nation="JPN"),
        ],
        label=label,
        **kw,
    )


def meeting(group_id: str, label: str = "S//REL TO USA, JPN") -> MeetingIn:
    return MeetingIn(
        working_group_id=group_id,
        start="2033-05-10T01:00:00Z",
        title=Text(en="ACG weekly", ja="同盟調整グループ定例"),
        agenda=Text(en="1. Exercise schedule", ja="1. 演習日程"),
        minutes=Text(en="Agreed to align the schedule.", ja="日程の調整に合意した。"),
        label=label,
    )


def item(
    meeting_id: str | None = None,
    label: str = "S//REL TO USA, JPN",
    due: str = "2033-05-18T03:33:20Z",
    **kw: Any,
) -> ActionItemIn:
    fields: dict[str, Any] = {"opr": OPR_JP, "ocr": OCR_US, "priority": "high", **kw}
    return ActionItemIn(
        title=Text(en="Align exercise schedules", ja="演習日程の調整"),
        meeting_id=meeting_id,
        due=due,
        label=label,
        **fields,
    )
