"""Federation of a running node: the mTLS listener and one outbound link per peer."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence

import msgspec
import structlog

from kizuna.core.errors import NotFound
from kizuna.core.records import Event
from kizuna.federation.agreements import Peer, inbound_refusal
from kizuna.federation.digest import digest
from kizuna.federation.link import Link
from kizuna.federation.peers import load_peers, peer_file, self_principal
from kizuna.federation.server import FederationServer, problem
from kizuna.federation.tls import server_context
from kizuna.federation.wire import Ack, WireError, decode_batch
from kizuna.node.runtime import Node
from kizuna.store.outbox import Outbox

log = structlog.get_logger("kizuna.federation")


class Federation:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.peers: dict[str, Peer] = load_peers(node)
        self.by_fingerprint = {p.fingerprint: p for p in self.peers.values()}
        self.me = self_principal(node)
        self.outbox = Outbox(node.store)
        self.links = {
            pid: Link(node, peer, self.outbox, peer_file(node, pid))
            for pid, peer in self.peers.items()
        }
        self.server = FederationServer(
            node.config.host,
            node.config.fed_port,
            server_context(node.dir, [peer_file(node, pid) for pid in self.peers]),
            self.handle,
            self._refused_tls,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        node.store.on_commit(self._on_commit)

    def _on_commit(self, events: Sequence[Event]) -> None:
        loop = self._loop
        if loop is None:
            return
        for link in self.links.values():
            loop.call_soon_threadsafe(link.wake.set)

    def _refused_tls(self, reason: str) -> None:
        self.node.refuse("federation_tls", "unknown", reason=reason)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.server.start()
        log.info(
            "federation listening", url=self.node.config.federation_url, peers=sorted(self.peers)
        )
        tasks = [asyncio.create_task(link.run()) for link in self.links.values()]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            await self.server.stop()

    async def handle(
        self, method: str, path: str, query: dict[str, str], body: bytes, fingerprint: str
    ) -> tuple[int, bytes, str]:
        peer = self.by_fingerprint.get(fingerprint)
        if peer is None:
            self.node.refuse("federation_unknown_peer", "unknown", fingerprint=fingerprint[:16])
            return problem(403, "certificate does not belong to a configured peer")
        if method == "POST" and path == "/federation/v1/events":
            return self._receive(peer, body)
        if method == "GET" and path == "/federation/v1/digest":
            wanted = query.get("peer", peer.id)
            if wanted != peer.id:
                return problem(403, "a peer may ask only for its own digest")
            try:
                return 200, json.dumps(digest(self.node, wanted)).encode(), "application/json"
            except NotFound as exc:
                return problem(404, exc.detail)
        return problem(404, f"no route {method} {path}")

    def _receive(self, peer: Peer, body: bytes) -> tuple[int, bytes, str]:
        try:
            events = decode_batch(body)
        except WireError as exc:
            self.node.metrics.bad_input.labels("federation", "malformed_batch").inc()
            log.warning("bad batch", peer=peer.id, error=str(exc)[:200])
            return problem(400, str(exc))
        accepted = []
        for event in events:
            reason = inbound_refusal(self.node.node_id, self.me, peer, event)
            if reason is None:
                accepted.append(event)
                continue
            # The sender should never have sent this: refuse it and record a violation.
            self.node.metrics.federation_violations.labels(peer.id, reason).inc()
            self.node.audit.append(
                "federation.receive",
                f"node:{peer.id}",
                "refused",
                reason=reason,
                origin=event.origin,
                seq=event.seq,
                label=event.label.render(),
            )
            log.warning(
                "federation violation",
                peer=peer.id,
                reason=reason,
                origin=event.origin,
                seq=event.seq,
            )
        applied = self.node.store.apply(accepted)
        self.node.metrics.federation_received.labels(peer.id).inc(len(applied))
        ack = Ack(accepted=len(events), applied=len(applied), refused=len(events) - len(accepted))
        return 200, msgspec.json.encode(ack), "application/json"
