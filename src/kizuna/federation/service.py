"""Federation of a running node: its transports' listeners and one outbound link per peer.

Federation names no domain. It carries the event log itself (:mod:`events`) and
every :class:`~kizuna.kernel.streams.FederatedStream` the node's plugins offer,
and judges every item of every stream by the same rules (:mod:`rules`) when it
sends and when it receives. Transports come from the ``kizuna.transports`` entry
points, chosen per peer by its ``transport`` setting.

On receipt, past those rules, ownership: each event is judged by its record type's
``owner`` rule against the record as this node holds it (with the batch's earlier
events merged in), and each item of a stream that offers ``refusal(peer_id, item)``
(:class:`OwnedStream`) by that. Whatever is refused is counted
(``kizuna_federation_violations_total{peer, reason}``), audited and not applied.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from typing import Any, Protocol, runtime_checkable

import msgspec
import structlog
from litestar import Router
from litestar.di import Provide

from kizuna.core.merge import lww_merge
from kizuna.core.records import Event, RecordState
from kizuna.federation.digest import Digest, peer_digest
from kizuna.federation.events import EventStream
from kizuna.federation.link import Link
from kizuna.federation.peers import FederatedNode, endpoint, load_peers
from kizuna.federation.rules import EVENTS, Peer, event_envelope, receipt_refusal
from kizuna.federation.views import digest_route
from kizuna.kernel.contract import origin_owns
from kizuna.kernel.plugins import transport_factory
from kizuna.kernel.streams import (
    Ack,
    AnsweringStream,
    Envelope,
    FederatedStream,
    PeerEndpoint,
    Transport,
)
from kizuna.kernel.tasks import cancel_all
from kizuna.store.base import leases_of

log = structlog.get_logger("kizuna.federation")

DEFAULT_TRANSPORT = "https"  # always listening, as the default of every PeerConfig
DEDUP_KEEP = 64  # recent batch ids remembered per peer and stream
DEDUP_SECONDS = 120.0  # a resent batch comes back within this long
AUDIT_IDS = 20  # ids named in one audit entry of a stream's refusals


@runtime_checkable
class OwnedStream(Protocol):
    """A stream that judges who may deliver an item (the picture: observations of
    sources this node observes itself come from no peer)."""

    def refusal(self, peer_id: str, item: Any) -> str | None:
        """Why ``item`` from ``peer_id`` must be refused (None: accept)."""
        ...

    def item_id(self, item: Any) -> str: ...


class Federation:
    def __init__(self, node: FederatedNode) -> None:
        self.node = node
        ctx = node.context
        self.node_id = ctx.node_id
        self.me = ctx.node_principal()
        self.peers: dict[str, Peer] = load_peers(node)
        self.events = EventStream(node.backend, self.node_id, ctx.groups)
        self.streams: dict[str, FederatedStream[Any]] = {}
        for stream in node.streams():
            if stream.name == EVENTS or stream.name in self.streams:
                raise ValueError(f"two federated streams are called {stream.name!r}")
            self.streams[stream.name] = stream
        names = {DEFAULT_TRANSPORT} | {p.config.transport for p in self.peers.values()}
        self.transports: dict[str, Transport] = {
            name: transport_factory(name)(node) for name in sorted(names)
        }
        # One drainer per peer's outbox among the node's workers (ADR 0011).
        self.leases = leases_of(node.backend)
        self.links = {
            pid: Link(
                self.node_id,
                node.metrics,
                peer,
                self.transports[peer.config.transport].connect(endpoint(node.dir, peer)),
                self.events,
                list(self.streams.values()),
                self.leases,
            )
            for pid, peer in self.peers.items()
        }
        self._seen: dict[tuple[str, str], OrderedDict[str, tuple[float, Ack]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.events.on_change(self._wake)
        for stream in self.streams.values():
            stream.on_change(self._wake)

    def _wake(self) -> None:
        loop = self._loop
        if loop is None:
            return
        for link in self.links.values():
            loop.call_soon_threadsafe(link.wake.set)

    def routes(self) -> list[Router]:
        """Routes for the node's API port: the digest, for operators and tests."""
        return [
            Router(
                path="/",
                route_handlers=[digest_route],
                dependencies={
                    "federation": Provide(lambda: self, use_cache=True, sync_to_thread=False)
                },
            )
        ]

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        tasks = [
            asyncio.create_task(transport.serve(self._endpoints(name), self))
            for name, transport in self.transports.items()
        ]
        tasks += [asyncio.create_task(link.run()) for link in self.links.values()]
        try:
            await asyncio.gather(*tasks)
        finally:
            await cancel_all(tasks)

    def _endpoints(self, transport: str) -> list[PeerEndpoint]:
        return [
            endpoint(self.node.dir, p)
            for p in self.peers.values()
            if p.config.transport == transport
        ]

    # -- the node's side of inbound traffic (kernel.streams.Inbound) ------------
    def refused(self, reason: str, **details: object) -> None:
        self.node.refuse(reason, "unknown", **details)

    def shared(self, peer_id: str) -> Digest:
        return peer_digest(self.node, peer_id, self.peers)

    def digest(self, peer_id: str) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(self.shared(peer_id))
        return out

    def answer(self, peer_id: str, stream: str) -> bytes:
        target = self.streams.get(stream)
        if not isinstance(target, AnsweringStream) or stream not in self.peers[peer_id].types:
            raise LookupError(f"no answering stream {stream!r} for peer {peer_id}")
        item = target.answer(peer_id)
        # Through the same release check as the stream's batches (None: nothing to give).
        released = self.links[peer_id].releasable(target, [item]) if item is not None else []
        return msgspec.json.encode(released[0] if released else None)

    def receive(self, peer_id: str, stream: str, body: bytes, dedup_id: str) -> Ack:
        """Judge and apply one batch from an authenticated peer."""
        peer = self.peers[peer_id]
        target = self.streams.get(stream)
        if target is None and stream != EVENTS:
            raise LookupError(f"no federated stream {stream!r} on node {self.node_id}")
        seen = self._seen.setdefault((peer_id, stream), OrderedDict())
        if dedup_id:
            hit = seen.get(dedup_id)
            if hit is not None and time.monotonic() - hit[0] < DEDUP_SECONDS:
                return hit[1]  # a batch we applied, sent again because our answer was lost
        if target is None:
            ack = self._receive_events(peer, body)
        else:
            ack = self._receive_stream(peer, target, body)
        if dedup_id:
            seen[dedup_id] = (time.monotonic(), ack)
            while len(seen) > DEDUP_KEEP:
                seen.popitem(last=False)
        return ack

    def _malformed(self, peer: Peer, exc: ValueError) -> None:
        self.node.metrics.bad_input.labels("federation", "malformed_batch").inc()
        log.warning("bad batch", peer=peer.id, error=str(exc)[:200])

    def _violation(self, peer: Peer, reason: str, env: Envelope, **ids: object) -> None:
        """The sender should never have sent this: count it, audit it, log it."""
        self.node.metrics.federation_violations.labels(peer.id, reason).inc()
        self.node.audit.append(
            "federation.receive",
            f"node:{peer.id}",
            "refused",
            reason=reason,
            origin=env.origin,
            **ids,
            label=env.label.render(),
        )
        log.warning("federation violation", peer=peer.id, reason=reason, origin=env.origin, **ids)

    def _admit(self, peer: Peer, kind: str, env: Envelope, **ids: object) -> bool:
        reason = receipt_refusal(self.node_id, self.me, peer, kind, env)
        if reason is None:
            return True
        self._violation(peer, reason, env, **ids)
        return False

    def _owned(self, peer: Peer, events: list[Event]) -> list[Event]:
        """The events whose origin may write what they write, by their record types'
        ownership rules. Each is judged against the record as we hold it with the batch's
        earlier accepted events merged in (a create and its patch may share a batch)."""
        types = self.node.record_types
        working: dict[tuple[str, str], RecordState | None] = {}
        out = []
        for e in events:
            rt = types.get(e.record_type)
            key = (e.record_type, e.record_id)
            if key in working:
                state = working[key]
            else:
                held = self.node.backend.events.get(*key)
                # A private copy: the merge below changes the state it is given.
                state = None if held is None else _copy(held)
            reason = (rt.owner if rt is not None else origin_owns)(state, e)
            if reason is not None:
                self._violation(
                    peer,
                    reason,
                    event_envelope(e, peer.id),
                    seq=e.seq,
                    record_type=e.record_type,
                    record_id=e.record_id,
                )
                working[key] = state
                continue
            working[key] = (rt.merge if rt is not None else lww_merge)(state, e)
            out.append(e)
        return out

    def _receive_events(self, peer: Peer, body: bytes) -> Ack:
        try:
            events = self.events.decode(body)
        except ValueError as exc:
            self._malformed(peer, exc)
            raise
        admitted = [
            e
            for e in events
            if self._admit(
                peer,
                e.record_type,
                event_envelope(e, peer.id),
                seq=e.seq,
                record_type=e.record_type,
                record_id=e.record_id,
            )
        ]
        accepted = self._owned(peer, admitted)
        applied = self.events.accept(peer.id, accepted)
        self.node.metrics.federation_received.labels(peer.id).inc(applied)
        return Ack(accepted=len(events), applied=applied, refused=len(events) - len(accepted))

    def _receive_stream(self, peer: Peer, stream: FederatedStream[Any], body: bytes) -> Ack:
        try:
            items = stream.decode(body)
        except ValueError as exc:
            self._malformed(peer, exc)
            raise
        kind = stream.name
        accepted = [
            item for item in items if self._admit(peer, kind, stream.envelope(item), stream=kind)
        ]
        if isinstance(stream, OwnedStream) and accepted:
            accepted = self._stream_owned(peer, stream, kind, accepted)
        applied = stream.accept(peer.id, accepted) if accepted else 0
        return Ack(accepted=len(items), applied=applied, refused=len(items) - len(accepted))

    def _stream_owned(
        self, peer: Peer, stream: OwnedStream, kind: str, items: list[Any]
    ) -> list[Any]:
        """A stream's own ownership refusals: counted per item, audited once per batch and
        reason (a busy feed both nodes observe must not flood the audit trail)."""
        kept = []
        refused: dict[str, list[str]] = {}
        counts: Counter[str] = Counter()
        for item in items:
            reason = stream.refusal(peer.id, item)
            if reason is None:
                kept.append(item)
                continue
            counts[reason] += 1
            ids = refused.setdefault(reason, [])
            if len(ids) < AUDIT_IDS:
                ids.append(stream.item_id(item))
        for reason, n in counts.items():
            self.node.metrics.federation_violations.labels(peer.id, reason).inc(n)
            self.node.audit.append(
                "federation.receive",
                f"node:{peer.id}",
                "refused",
                reason=reason,
                stream=kind,
                count=n,
                ids=refused[reason],
            )
            log.warning("federation violation", peer=peer.id, reason=reason, stream=kind, count=n)
        return kept


def _copy(state: RecordState) -> RecordState:
    return msgspec.msgpack.decode(msgspec.msgpack.encode(state), type=RecordState)
