"""A toy domain in its own package: a record type with a merge rule, routes, a CLI command and
a federated stream. It joins a node through its entry point alone (see the dist-info beside it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import msgspec
import typer
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from kizuna.core.ids import new_id
from kizuna.core.labels import Label
from kizuna.core.merge import lww_merge
from kizuna.core.records import Event, RecordState
from kizuna.kernel.access import filter_visible, label_for_write
from kizuna.kernel.context import Caller, CallerDep, NodeContext
from kizuna.kernel.contract import Domain, OpenNode, RecordType
from kizuna.kernel.streams import BatchCodec, Envelope
from kizuna.store.base import Draft

NOTE = "toy_note"
BEACON = "toy_beacon"


def merge_note(state: RecordState | None, event: Event) -> RecordState:
    """Per-field LWW, except that a note's count never goes down."""
    before = state.fields.get("count") if state is not None else None
    merged = lww_merge(state, event)
    if before is not None and "count" in merged.fields:
        merged.fields["count"] = max(before, merged.fields["count"])
    return merged


class NoteIn(msgspec.Struct, forbid_unknown_fields=True):
    label: str
    text: str
    count: int = 0


class NoteOut(msgspec.Struct):
    id: str
    origin: str
    label: str
    text: str
    count: int


class Beacon(msgspec.Struct, frozen=True):
    id: str
    label: Label
    text: str
    via: str = ""  # the peer that delivered it; "" for our own


class BeaconOut(msgspec.Struct):
    id: str
    label: str
    text: str
    via: str


class ToyService:
    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._beacons: dict[str, tuple[int, Beacon]] = {}
        self._version = 0
        self._listeners: list[Callable[[], None]] = []

    # notes: event-log records
    def add_note(self, caller: Caller, data: NoteIn) -> RecordState:
        label = label_for_write(self.ctx, caller, data.label)
        rid = new_id()
        payload = {"text": data.text, "count": data.count}
        self.ctx.events.append([Draft(NOTE, rid, "create", label, payload, author=caller.name)])
        state = self.ctx.events.get(NOTE, rid)
        assert state is not None
        return state

    def notes(self, caller: Caller) -> list[RecordState]:
        return filter_visible(self.ctx, caller, self.ctx.events.scan(NOTE))

    # beacons: a federated stream outside the event log
    def add_beacon(self, beacon: Beacon) -> None:
        with self._lock:
            self._version += 1
            self._beacons[beacon.id] = (self._version, beacon)
        for listener in self._listeners:
            listener()

    def beacons(self, caller: Caller) -> list[Beacon]:
        from kizuna.core.release import may_release

        with self._lock:
            items = [b for _, b in self._beacons.values()]
        return [b for b in items if may_release(b.label, caller.principal)]


_codec = BatchCodec(Beacon)


class BeaconStream:
    name = BEACON

    def __init__(self, service: ToyService) -> None:
        self.service = service

    def changes_since(self, cursor: int, limit: int) -> tuple[list[Beacon], int]:
        with self.service._lock:
            rows = sorted((v, b) for v, b in self.service._beacons.values() if v > cursor)[:limit]
        return [b for _, b in rows], (rows[-1][0] if rows else cursor)

    def envelope(self, item: Beacon) -> Envelope:
        return Envelope(label=item.label, relayed_from=item.via or None)

    def prepare(self, item: Beacon, peer_id: str) -> Beacon:
        return item

    def encode(self, items: list[Beacon]) -> bytes:
        return _codec.encode(items)

    def decode(self, body: bytes) -> list[Beacon]:
        return _codec.decode(body)

    def accept(self, peer_id: str, items: list[Beacon]) -> int:
        for item in items:
            self.service.add_beacon(msgspec.structs.replace(item, via=peer_id))
        return len(items)

    def on_change(self, callback: Callable[[], None]) -> None:
        self.service._listeners.append(callback)


ToyServiceDep: TypeAlias = NamedDependency[ToyService]


class ToyController(Controller):
    path = "/api/v1/toy"
    tags: ClassVar[list[str]] = ["toy"]

    @post("/notes", status_code=201, summary="Add a toy note")
    async def add(
        self, data: JSONBody[NoteIn], caller: CallerDep, service: ToyServiceDep
    ) -> NoteOut:
        return _note(service.add_note(caller, data))

    @get("/notes", summary="Toy notes the caller may see")
    async def list_notes(self, caller: CallerDep, service: ToyServiceDep) -> list[NoteOut]:
        return [_note(s) for s in service.notes(caller)]

    @post("/beacons", status_code=201, summary="Add a toy beacon")
    async def beacon(
        self, data: JSONBody[NoteIn], caller: CallerDep, service: ToyServiceDep
    ) -> BeaconOut:
        beacon = Beacon(new_id(), label_for_write(service.ctx, caller, data.label), data.text)
        service.add_beacon(beacon)
        return _beacon(beacon)

    @get("/beacons", summary="Toy beacons the caller may see")
    async def list_beacons(self, caller: CallerDep, service: ToyServiceDep) -> list[BeaconOut]:
        return [_beacon(b) for b in service.beacons(caller)]


def _note(state: RecordState) -> NoteOut:
    return NoteOut(
        id=state.record_id,
        origin=state.origin,
        label=state.label.render(fgi=False),
        text=state.fields["text"],
        count=state.fields["count"],
    )


def _beacon(b: Beacon) -> BeaconOut:
    return BeaconOut(id=b.id, label=b.label.render(fgi=False), text=b.text, via=b.via)


class Toy(Domain):
    name = "toy"

    def record_types(self) -> Sequence[RecordType]:
        return (RecordType(name=NOTE, merge=merge_note),)

    def federated_types(self) -> Sequence[str]:
        return [NOTE, BEACON]

    def start(self, ctx: NodeContext) -> ToyService:
        return ToyService(ctx)

    def routes(self) -> Sequence[Any]:
        return (ToyController,)

    def streams(self, service: Any) -> Sequence[Any]:
        return (BeaconStream(service),)

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        toy = typer.Typer(help="The toy domain.", no_args_is_help=True)

        @toy.command("count")
        def count(dir: Path = typer.Option(..., "--dir")) -> None:
            """How many toy notes this node holds."""
            node = open_node(dir)
            try:
                service: ToyService = node.service("toy")
                print(f"toy notes: {sum(1 for _ in service.ctx.events.scan(NOTE))}")
            finally:
                node.close()

        return {"toy": toy}


plugin = Toy()
