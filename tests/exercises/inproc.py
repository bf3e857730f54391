"""In-process nodes for exercise tests: memory contexts with the coordination, reports and
picture services, a stand-in access check, and a federation stand-in that ships releasable
events judged by the record types' owner rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kizuna.coordination import plugin as coordination
from kizuna.core.records import Text
from kizuna.exercises import plugin as exercises
from kizuna.exercises.models import ExerciseIn, InjectIn, MilestoneIn, ParticipantIn, StageIn
from kizuna.exercises.service import ExerciseService
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.node.users import principal_of
from kizuna.picture.service import PictureService
from kizuna.reports import plugin as reports
from kizuna.store.base import User
from tests.support import inproc

TYPES = [*exercises.record_types(), *coordination.record_types(), *reports.record_types()]
OWNERS = {rt.name: rt.owner for rt in TYPES}
RAA_AUS = dt.datetime(2023, 8, 13, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    instrument: str | None
    reason: str
    needed: str | None
    detail: dict[str, str]


class FakeAccess:
    """The access domain's check as its interface gives it: AUS covered from 13 Aug 2023."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str | None]] = []

    def check(
        self,
        nation: str,
        activity: str,
        facility_id: str | None,
        start: dt.datetime,
        end: dt.datetime,
    ) -> Verdict:
        self.asked.append((nation, activity, facility_id))
        if nation in ("USA", "JPN"):
            return Verdict(True, "us-japan-sofa" if nation == "USA" else None, "covered", None, {})
        if nation == "AUS" and start >= RAA_AUS:
            return Verdict(True, "japan-australia-raa", "covered", None, {})
        return Verdict(
            False,
            None,
            "not_in_force",
            "Japan–Australia RAA",
            {"en": "not in force then", "ja": "発効前"},
        )


@dataclass
class Node:
    ctx: NodeContext
    service: ExerciseService
    picture: PictureService
    services: dict[str, Any]
    refused: list[tuple[str, str, str]] = field(default_factory=list)

    def user(self, name: str = "op", *roles: str, clearance: str = "SECRET") -> Caller:
        user = User(name=name, nation=self.ctx.nation, clearance=clearance, roles=list(roles))
        return Caller(user, principal_of(user, self.ctx.groups))

    def control(self) -> Caller:
        return self.user("excon", "exercise_control")


def start(node_id: str, nation: str, clock: Any = None) -> Node:
    services: dict[str, Any] = {"access": FakeAccess()}
    ctx = memory_context(node_id, nation, services=services)
    for rt in TYPES:
        ctx.events.register_merge(rt.name, rt.merge)
    picture = PictureService(ctx)
    services.update(
        coordination=coordination.start(ctx), reports=reports.start(ctx), picture=picture
    )
    ctx._services = services  # the node hands each plugin its requirements' services
    service = ExerciseService(ctx, clock=clock) if clock else ExerciseService(ctx)
    return Node(ctx, service, picture, services)


def ship(src: Node, dst: Node) -> int:
    """Deliver what ``dst``'s nation may see of ``src``'s log, judged by the owner rules."""
    return inproc.ship(src, dst, OWNERS)


def sync(*nodes: Node, rounds: int = 2) -> None:
    inproc.sync(nodes, OWNERS, rounds)


def exercise_in(
    startex: str = "2030-02-01T00:00:00Z",
    endex: str = "2030-02-10T00:00:00Z",
    label: str = "SECRET//REL TO USA, JPN, AUS",
    **kw: Any,
) -> ExerciseIn:
    return ExerciseIn(
        name=Text(en="Southern Jackaroo", ja="サザン・ジャッカルー"),
        label=label,
        participants=[
            ParticipantIn(nation="USA", node="usfj", units=["3rd MEF"]),
            ParticipantIn(nation="JPN", node="jjoc", units=["1st Airborne Brigade"]),
            ParticipantIn(nation="AUS", node="aus", units=["1st Brigade"]),
        ],
        startex=startex,
        endex=endex,
        stages=[
            StageIn(stage="ipc", start="2029-10-01T00:00:00Z", end="2029-10-03T00:00:00Z"),
            StageIn(stage="execution", start=startex, end=endex),
        ],
        milestones=[
            MilestoneIn(
                stage="ipc", name=Text(en="IPC", ja="初期計画会議"), at="2029-10-01T00:00:00Z"
            )
        ],
        **kw,
    )


def inject_in(seq: int = 1, to_node: str | None = "jjoc", **kw: Any) -> InjectIn:
    values: dict[str, Any] = {
        "offset_minutes": 30.0,
        "from_org": "EXCON",
        "to_org": "JJOC J3",
        "to_node": to_node,
        "description": {"en": "Simulated vessel aground off Kure", "ja": "呉沖で座礁船（想定）"},
        "expected_action": {"en": "Request tug support", "ja": "曳船支援を要請"},
        **kw,
    }
    return msgspec.convert({"seq": seq, **values}, InjectIn)
