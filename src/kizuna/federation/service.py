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

Peers change while the node runs (ADR 0019): the node watches ``node.toml`` and, when its
peers change (`kizuna peer add|set|revoke|join`, or an enrolment on this node), reloads
them: new peers get a link, changed agreements apply to the next item sent or received, and
a removed peer's link stops, its queued outbox is dropped (audited) and its certificate is
no longer trusted on the federation port.

The network status (ADR 0020, :mod:`monitor`): every link's state, queues by precedence,
throughput, refusals and digest comparison, with alerts; on ``GET /api/v1/network``, the
operators' WebSocket topic ``network`` and ``kizuna peer status``. ``[federation]`` in
``node.toml`` sets its thresholds, read again when the file changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
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
from kizuna.federation.enrol import Enrolment
from kizuna.federation.events import EventStream
from kizuna.federation.link import Link
from kizuna.federation.live import NetworkFeed
from kizuna.federation.monitor import NetworkMonitor
from kizuna.federation.peers import FederatedNode, endpoint, load_peers
from kizuna.federation.rules import EVENTS, Peer, event_envelope, receipt_refusal
from kizuna.federation.status import NetworkStatus
from kizuna.federation.views import digest_route, network_route
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
from kizuna.store.base import leases_of

log = structlog.get_logger("kizuna.federation")

DEFAULT_TRANSPORT = "https"  # always listening, as the default of every PeerConfig
DEDUP_KEEP = 64  # recent batch ids remembered per peer and stream
DEDUP_SECONDS = 120.0  # a resent batch comes back within this long
AUDIT_IDS = 20  # ids named in one audit entry of a stream's refusals
WATCH_SECONDS = 0.5  # how often node.toml is checked for changed peers
DROP_BATCH = 5000  # outbox entries dropped per step when a peer is removed


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
        self.links: dict[str, Link] = {}
        self.monitor = NetworkMonitor(
            self,
            nation=ctx.nation,
            outbox=self.events.outbox,
            metrics=node.metrics,
            root=node.dir.root,
        )
        self.monitor.configure(node.config.plugins.get("federation"))
        self.links = {pid: self._link(peer) for pid, peer in self.peers.items()}
        self._seen: dict[tuple[str, str], OrderedDict[str, tuple[float, Ack]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._link_tasks: dict[str, asyncio.Task[None]] = {}
        self._serve_tasks: dict[str, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._config_stamp = self._stamp()
        self.enrolment = Enrolment(node.dir, node.config, node.audit, self._changed.set)
        self.events.on_change(self._wake)
        for stream in self.streams.values():
            stream.on_change(self._wake)
        self._feed = NetworkFeed(
            node.backend.users, lambda: (self.monitor.version, self.monitor.body)
        )

    def _link(self, peer: Peer) -> Link:
        transport = self._transport(peer.config.transport)
        return Link(
            self.node_id,
            self.node.metrics,
            peer,
            transport.connect(endpoint(self.node.dir, peer)),
            self.events,
            list(self.streams.values()),
            self.leases,
            self.monitor.clock,
        )

    def _transport(self, name: str) -> Transport:
        if name not in self.transports:
            self.transports[name] = transport_factory(name)(self.node)
        return self.transports[name]

    def _wake(self) -> None:
        loop = self._loop
        if loop is None:
            return
        for link in list(self.links.values()):  # a snapshot: peers change on the loop
            loop.call_soon_threadsafe(link.wake.set)

    def routes(self) -> list[Router]:
        """Routes for the node's API port: the digest, for operators and tests."""
        return [
            Router(
                path="/",
                route_handlers=[digest_route, network_route],
                dependencies={
                    "federation": Provide(lambda: self, use_cache=True, sync_to_thread=False)
                },
            )
        ]

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        for name in list(self.transports):
            self._serve(name)
        for pid, link in self.links.items():
            self._start_link(pid, link)
        self.node.context.bus.add_feed(self._feed)
        monitor = asyncio.create_task(self.monitor.run())
        monitor.add_done_callback(_report_failure)
        try:
            await self.watch()
        finally:
            await stop_tasks([monitor, *self._serve_tasks.values(), *self._link_tasks.values()])

    def network(self) -> NetworkStatus:
        """The node's network status (``GET /api/v1/network``)."""
        return self.monitor.current()

    def _start_link(self, peer_id: str, link: Link) -> None:
        task = asyncio.create_task(link.run())
        task.add_done_callback(_report_failure)
        self._link_tasks[peer_id] = task

    def _serve(self, name: str) -> None:
        transport = self.transports[name]
        task = asyncio.create_task(transport.serve(self._endpoints(name), self))
        self._serve_tasks[name] = task
        task.add_done_callback(_report_failure)

    def _endpoints(self, transport: str) -> list[PeerEndpoint]:
        return [
            endpoint(self.node.dir, p)
            for p in self.peers.values()
            if p.config.transport == transport
        ]

    # -- peers changing while the node runs -------------------------------------
    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.node.dir.config)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    async def watch(self) -> None:
        """Reload the peers whenever ``node.toml`` changes (or an enrolment says so)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), WATCH_SECONDS)
            self._changed.clear()
            for task in self._serve_tasks.values():  # a listener that failed ends federation
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            stamp = self._stamp()
            if stamp == self._config_stamp:
                continue
            try:
                await self.reload()
            except (OSError, ValueError) as exc:  # half an edit, a missing certificate
                log.warning("peers not reloaded; retrying", error=str(exc)[:200])
                continue
            self._config_stamp = stamp

    async def reload(self) -> None:
        """Apply the peers and the ``[federation]`` settings of ``node.toml`` as it is now."""
        config = self.node.dir.load()
        self.monitor.configure(config.plugins.get("federation"))
        configs = config.peers
        fresh = load_peers(self.node, configs)
        for peer in fresh.values():
            self._transport(peer.config.transport)  # raises for an unknown one
        old = self.peers
        removed = [pid for pid in old if pid not in fresh]
        changed = [
            pid
            for pid in fresh
            if pid in old
            and (
                fresh[pid].config != old[pid].config
                or fresh[pid].fingerprint != old[pid].fingerprint
            )
        ]
        added = [pid for pid in fresh if pid not in old]
        if not (removed or changed or added):
            return
        stopping = [
            self._link_tasks.pop(pid) for pid in removed + changed if pid in self._link_tasks
        ]
        before = {name: self._endpoints(name) for name in self.transports}
        self.peers = fresh
        self.node.config.peers = list(configs)
        # Links go first, then the listeners: nothing is sent to or taken from a removed
        # peer once this returns.
        previous = self.links
        self.links = {
            pid: (self.links[pid] if pid in old and pid not in changed else self._link(peer))
            for pid, peer in fresh.items()
        }
        for pid in changed:  # a changed agreement keeps what its link has seen
            if pid in previous:
                self.links[pid].state = previous[pid].state
        await stop_tasks(stopping)
        for name, transport in self.transports.items():
            reload = getattr(transport, "reload", None)
            if callable(reload):
                reload(self._endpoints(name))
                if name not in self._serve_tasks:
                    self._serve(name)
            elif name not in self._serve_tasks or self._endpoints(name) != before.get(name):
                # A transport that cannot change its peers is restarted with the new set.
                task = self._serve_tasks.pop(name, None)
                if task is not None:
                    await stop_tasks([task])
                self._serve(name)
        for pid in removed:
            dropped = self._drop_outbox(pid)
            self.node.audit.append(
                "federation.peer_removed", "node", "ok", peer=pid, outbox_dropped=dropped
            )
            log.warning("peer removed", peer=pid, outbox_dropped=dropped)
        for pid in changed + added:
            cfg = fresh[pid].config
            self.node.audit.append(
                "federation.peer_changed" if pid in changed else "federation.peer_added",
                "node",
                "ok",
                peer=pid,
                nation=cfg.nation,
                url=cfg.url,
                fingerprint=fresh[pid].fingerprint,
                types=sorted(cfg.types),
                max_classification=cfg.max_classification,
                relay=cfg.relay,
            )
            self._start_link(pid, self.links[pid])
        log.info("peers reloaded", added=added, changed=changed, removed=removed)

    def _drop_outbox(self, peer_id: str) -> int:
        """Drop what waits for a removed peer."""
        outbox = self.events.outbox
        dropped = 0
        while rows := outbox.next_batch(peer_id, DROP_BATCH):
            outbox.ack(peer_id, [pos for pos, _, _ in rows])
            dropped += len(rows)
        return dropped

    def enrol(self, method: str, body: bytes, client: str) -> tuple[int, bytes, str]:
        """``POST /federation/enrol``: a partner node with a one-time invitation."""
        return self.enrolment.handle(method, body, client)

    # -- the node's side of inbound traffic (kernel.streams.Inbound) ------------
    def refused(self, reason: str, **details: object) -> None:
        self.node.refuse(reason, "unknown", **details)

    def shared(self, peer_id: str) -> Digest:
        return peer_digest(self.node, peer_id, self.peers)

    def _peer(self, peer_id: str) -> Peer:
        peer = self.peers.get(peer_id)
        if peer is None:  # removed while its request was on its way
            raise LookupError(f"peer {peer_id!r} is no longer configured")
        return peer

    def digest(self, peer_id: str) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(self.shared(peer_id))
        return out

    def answer(self, peer_id: str, stream: str) -> bytes:
        target = self.streams.get(stream)
        if not isinstance(target, AnsweringStream) or stream not in self._peer(peer_id).types:
            raise LookupError(f"no answering stream {stream!r} for peer {peer_id}")
        item = target.answer(peer_id)
        link = self.links.get(peer_id)
        if link is None:
            raise LookupError(f"peer {peer_id!r} is no longer configured")
        # Through the same release check as the stream's batches (None: nothing to give).
        released = link.releasable(target, [item]) if item is not None else []
        return msgspec.json.encode(released[0] if released else None)

    def receive(self, peer_id: str, stream: str, body: bytes, dedup_id: str) -> Ack:
        """Judge and apply one batch from an authenticated peer."""
        peer = self._peer(peer_id)
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
        link = self.links.get(peer.id)
        if link is not None:
            link.state.refused_in(reason)
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
        link = self.links.get(peer.id)
        if link is not None:
            link.state.received_events(len(events))
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
        link = self.links.get(peer.id)
        for reason, n in counts.items():
            self.node.metrics.federation_violations.labels(peer.id, reason).inc(n)
            if link is not None:
                link.state.refused_in(reason, n)
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


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait until each has ended; errors are not re-raised.

    A cancellation can be lost (Python 3.11's ``wait_for`` returns the inner result when it
    completes as the cancel arrives, as a link's wake-up may), so it is repeated."""
    pending = {t for t in tasks if not t.done()}
    while pending:
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.1)
    for t in tasks:
        if not t.cancelled():
            t.exception()  # retrieved: not reported as never retrieved


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("federation task failed", error=repr(task.exception()))


def _copy(state: RecordState) -> RecordState:
    return msgspec.msgpack.decode(msgspec.msgpack.encode(state), type=RecordState)
