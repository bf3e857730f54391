"""One outbound link: fill the peer's outbox, drain it by precedence, back off on failure.

The event log goes first, by precedence, in batches sized to what the link carries
in about :data:`TARGET_SECONDS`; the other streams (tracks, a domain's records) ride
along when no FLASH or IMMEDIATE event is waiting, so FLASH never queues behind them.

Several workers of one node each run a link per peer, but only the holder of the
peer's lease (``outbox:<peer>``, ADR 0011) fills and drains its outbox; the others try
to take it every :data:`LEASE_RETRY` seconds. A holder that dies loses its lease with
its database session, and the next holder resumes from the shared outbox; what the
dead one had sent but not yet acknowledged is sent again and the receiver's
``(origin, seq)`` idempotency applies it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from kizuna.core.records import Event, Precedence
from kizuna.federation.events import EventStream
from kizuna.federation.linkstate import LinkState
from kizuna.federation.rules import EVENTS, Peer, event_envelope, send_refusal, wire_refusal
from kizuna.kernel.metrics import Metrics
from kizuna.kernel.streams import Ack, Connection, Envelope, FederatedStream, TransportError
from kizuna.store.base import Leases, LocalLeases

log = structlog.get_logger("kizuna.federation")

MIN_BUDGET, MAX_BUDGET = 2_048, 1_048_576  # bytes per batch, adapted to the link
TARGET_SECONDS = 0.5  # a batch should take about this long, so FLASH never waits behind much
MAX_EVENTS = 2_000
STREAM_BATCH = 500  # items of a stream per batch
BACKOFF_MIN, BACKOFF_MAX = 0.1, 2.0
LEASE_RETRY = 1.0  # seconds between attempts to take a peer's lease another worker holds
LEASE_CHECK = 1.0  # seconds between checks that the lease is still held


def dedup_id(body: bytes) -> str:
    """The same batch resent (its answer lost) carries the same id."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


class Link:
    def __init__(
        self,
        node_id: str,
        metrics: Metrics,
        peer: Peer,
        connection: Connection,
        events: EventStream,
        streams: Sequence[FederatedStream[Any]] = (),
        leases: Leases | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node_id = node_id
        self.metrics = metrics
        self.peer = peer
        self.connection = connection
        self.events = events
        self.outbox = events.outbox
        # Streams the agreement does not name are never read for this peer.
        self.streams = [s for s in streams if s.name in peer.types]
        self.wake = asyncio.Event()
        self.budget = 65_536
        self.connected = False
        # In memory: after a restart each stream's current state is resent.
        self.cursors = {s.name: 0 for s in self.streams}
        self._denied = metrics.released_denied.labels(f"federation:{peer.id}")
        self.leases: Leases = leases if leases is not None else LocalLeases()
        self.lease = f"outbox:{peer.id}"
        self.leased = False  # this worker drains the peer's outbox
        self._lease_checked = 0.0
        # What the network status shows of this link (ADR 0020).
        self.state = LinkState(clock)
        self._exchanged = False  # a batch was acknowledged in this round

    def hold_lease(self) -> bool:
        """Whether this worker may fill and drain the peer's outbox now: take the lease
        if it is free, and check now and then that a lease held is still held."""
        now = time.monotonic()
        if self.leased:
            if now - self._lease_checked < LEASE_CHECK:
                return True
            self._lease_checked = now
            if self.leases.holds(self.lease):
                return True
            self.leased = False
            log.warning("outbox lease lost", peer=self.peer.id)
        if self.leases.acquire(self.lease):
            self.leased = True
            self._lease_checked = now
            log.info("outbox lease taken", peer=self.peer.id)
        return self.leased

    def _may_send(self, kind: str, env: Envelope) -> bool:
        reason = send_refusal(self.peer, kind, env)
        if reason in ("label", "group_label"):
            self._denied.inc()
            self.state.refused_out(reason)
        return reason is None

    def _may_wire(self, kind: str, env: Envelope) -> bool:
        """The item as prepared for the peer: no node-defined group may be left in it."""
        reason = wire_refusal(env)
        if reason is not None:
            self._denied.inc()
            self.state.refused_out(reason)
            log.warning("withheld: not expandable", peer=self.peer.id, kind=kind, reason=reason)
        return reason is None

    def _allowed(self, event: Event) -> bool:
        return self._may_send(event.record_type, event_envelope(event, self.node_id))

    def fill(self) -> int:
        """Move newly committed events into the outbox (release checked at enqueue)."""
        return self.events.fill(self.peer.id, self._allowed)

    def _batch(self) -> tuple[list[int], list[Event]]:
        rows = self.outbox.next_batch(self.peer.id, MAX_EVENTS)
        positions: list[int] = []
        events: list[Event] = []
        denied: list[int] = []
        size = 0
        for pos, event, nbytes in rows:
            # Checked again at send time: agreements and labels may have changed.
            if not self._allowed(event):
                denied.append(pos)
                continue
            if events and size + nbytes > self.budget:
                break
            wire = self.events.prepare(event, self.peer.id)
            if not self._may_wire(event.record_type, event_envelope(wire, self.node_id)):
                denied.append(pos)
                continue
            size += nbytes
            positions.append(pos)
            events.append(wire)
        if denied:
            log.warning("withheld at send time", peer=self.peer.id, count=len(denied))
            self.outbox.ack(self.peer.id, denied)
        return positions, events

    async def run(self) -> None:
        backoff = BACKOFF_MIN
        depth = self.metrics.outbox_depth.labels(self.peer.id)
        sent = self.metrics.federation_sent.labels(self.peer.id)
        try:
            while True:
                if not self.hold_lease():
                    await asyncio.sleep(LEASE_RETRY)  # another worker drains this peer
                    continue
                self.fill()
                positions, events = self._batch()
                depth.set(self.outbox.depth(self.peer.id))
                urgent = any(e.precedence <= Precedence.IMMEDIATE for e in events)
                started = time.monotonic()
                self._exchanged = False
                try:
                    ack = await self._send(EVENTS, self.events.encode(events)) if events else None
                    # The other streams ride along when no FLASH or IMMEDIATE traffic waits.
                    sent_items = 0 if urgent else await self._send_streams()
                except TransportError as exc:
                    if self.connected:
                        log.warning("link down", peer=self.peer.id, error=str(exc)[:200])
                    self.connected = False
                    self.budget = max(MIN_BUDGET, self.budget // 2)
                    self.state.failure(exc, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(BACKOFF_MAX, backoff * 2)
                    continue
                if ack is None and not sent_items:
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), timeout=1.0)
                    continue
                if not self.connected:
                    log.info("link up", peer=self.peer.id)
                self.connected = True
                backoff = BACKOFF_MIN
                took = time.monotonic() - started
                if self._exchanged:  # a batch went and was acknowledged
                    self.state.success(took)
                self._adapt(took)
                if ack is not None:
                    self.outbox.ack(self.peer.id, positions)
                    sent.inc(ack.accepted)
                    self.state.sent_events(ack.accepted)
        finally:
            if self.leased:
                self.leased = False
                self.leases.release(self.lease)
            await self.connection.close()

    async def _send(self, stream: str, body: bytes) -> Ack:
        ack = await self.connection.send(stream, body, dedup_id(body))
        self._exchanged = True
        return ack

    def releasable(self, stream: FederatedStream[Any], items: list[Any]) -> list[Any]:
        """``items`` of ``stream`` as they may go to this peer: release-checked, prepared
        for it, and checked again as prepared (every stream item this link sends)."""
        kind = stream.name
        prepared = [
            stream.prepare(item, self.peer.id)
            for item in items
            if self._may_send(kind, stream.envelope(item))
        ]
        return [item for item in prepared if self._may_wire(kind, stream.envelope(item))]

    async def _send_streams(self) -> int:
        """Each stream's changes since its cursor (coalesced, release-checked)."""
        total = 0
        for stream in self.streams:
            cursor = self.cursors[stream.name]
            changes, after = stream.changes_since(cursor, STREAM_BATCH)
            if after == cursor:
                continue
            kind = stream.name
            items = self.releasable(stream, changes)
            if items:
                await self._send(kind, stream.encode(items))
            self.cursors[kind] = after
            total += len(items) or 1
        return total

    def _adapt(self, seconds: float) -> None:
        if seconds > TARGET_SECONDS:
            self.budget = max(MIN_BUDGET, int(self.budget * TARGET_SECONDS / seconds))
        elif seconds < TARGET_SECONDS / 4:
            self.budget = min(MAX_BUDGET, self.budget * 2)
