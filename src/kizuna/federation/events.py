"""The event log as a federated stream: a persistent outbox per peer, a compact wire format.

Unlike a domain's :class:`~kizuna.kernel.streams.FederatedStream`, which is sent by
cursor and resent after a restart, events are queued per peer (release checked at
enqueue and again at send) and drained by precedence; a batch is a zlib-compressed
msgpack array of :class:`~kizuna.core.records.Event`.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from kizuna.core.labels import GroupRegistry
from kizuna.core.records import Event
from kizuna.federation.rules import EVENTS
from kizuna.kernel.contract import expand_groups
from kizuna.kernel.streams import BatchCodec
from kizuna.store.base import Backend, Outbox

SCAN = 5000  # events read from the log per outbox fill step

_codec = BatchCodec(Event)


def encode_batch(events: list[Event]) -> bytes:
    return _codec.encode(events)


def decode_batch(body: bytes) -> list[Event]:
    return _codec.decode(body)


class EventStream:
    """The node's event log towards its peers, through the backend's outbox."""

    name = EVENTS

    def __init__(self, backend: Backend, node_id: str, groups: GroupRegistry) -> None:
        self.node_id = node_id
        self.groups = groups
        self.log = backend.events
        self.outbox: Outbox = backend.outbox

    def fill(self, peer_id: str, allowed: Callable[[Event], bool]) -> int:
        """Move newly committed events into the peer's outbox (those ``allowed``)."""
        total = 0
        while True:
            scanned, _ = self.outbox.enqueue_new(peer_id, allowed, SCAN)
            total += scanned
            if scanned < SCAN:
                return total

    def prepare(self, event: Event, peer_id: str) -> Event:
        """A relayed event crosses one more link; our groups leave as their nations."""
        if event.origin != self.node_id:
            return msgspec.structs.replace(event, hops=event.hops + 1)
        label = expand_groups(event.label, self.groups)
        if label is not event.label:
            return msgspec.structs.replace(event, label=label)
        return event

    encode = staticmethod(encode_batch)
    decode = staticmethod(decode_batch)

    def accept(self, peer_id: str, events: list[Event]) -> int:
        return len(self.log.apply(events))

    def on_change(self, callback: Callable[[], None]) -> None:
        self.log.on_commit(lambda _events: callback())
