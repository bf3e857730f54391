"""Federation of a running node: the mTLS listener and one outbound link per peer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import msgspec
import structlog

from kizuna.core.errors import NotFound
from kizuna.federation.agreements import FEDERATED, Peer, inbound_refusal, inbound_track_refusal
from kizuna.federation.digest import digest
from kizuna.federation.link import Link
from kizuna.federation.peers import load_peers, peer_file, self_principal
from kizuna.federation.server import FederationServer, problem
from kizuna.federation.tls import server_context
from kizuna.federation.wire import Ack, WireError, decode_batch, decode_tracks
from kizuna.node.runtime import Node
from kizuna.kernel.tasks import cancel_all
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
        node.picture.on_tracks(self._on_commit)

    def _on_commit(self, _changes: Sequence[object]) -> None:
        loop = self._loop
        if loop is None:
            return
        for link in self.links.values():
            loop.call_soon_threadsafe(link.wake.set)

    def _refused_tls(self, reason: str) -> None:
        self.node.refuse("federation_tls", "unknown", detail=reason)

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
            await cancel_all(tasks)
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
        if method == "POST" and path == "/federation/v1/tracks":
            return self._receive_tracks(peer, body)
        if method == "GET" and path == "/federation/v1/digest":
            wanted = query.get("peer", peer.id)
            if wanted != peer.id:
                return problem(403, "a peer may ask only for its own digest")
            try:
                return 200, json.dumps(digest(self.node, wanted)).encode(), "application/json"
            except NotFound as exc:
                return problem(404, exc.detail)
        return problem(404, f"no route {method} {path}")

    def _malformed(self, peer: Peer, exc: WireError) -> tuple[int, bytes, str]:
        self.node.metrics.bad_input.labels("federation", "malformed_batch").inc()
        log.warning("bad batch", peer=peer.id, error=str(exc)[:200])
        return problem(400, str(exc))

    def _receive_tracks(self, peer: Peer, body: bytes) -> tuple[int, bytes, str]:
        try:
            tracks = decode_tracks(body)
        except WireError as exc:
            return self._malformed(peer, exc)
        accepted = []
        for track in tracks:
            reason = inbound_track_refusal(self.me, peer, track)
            if reason is not None:
                self._violation(peer, reason, track.id, 0, track.label.render())
                continue
            # Provenance says which peer delivered it; that also stops it bouncing back.
            for prov in track.sources:
                if not prov.connection.startswith(FEDERATED):
                    prov.connection = f"{FEDERATED}{peer.id}"
            if not track.sources:
                continue
            accepted.append(track)
        if accepted:
            self.node.picture.ingest(accepted)
        ack = Ack(accepted=len(tracks), applied=len(accepted), refused=len(tracks) - len(accepted))
        return 200, msgspec.json.encode(ack), "application/json"

    def _violation(self, peer: Peer, reason: str, origin: str, seq: int, label: str) -> None:
        """The sender should never have sent this: refuse it and record a violation."""
        self.node.metrics.federation_violations.labels(peer.id, reason).inc()
        self.node.audit.append(
            "federation.receive",
            f"node:{peer.id}",
            "refused",
            reason=reason,
            origin=origin,
            seq=seq,
            label=label,
        )
        log.warning("federation violation", peer=peer.id, reason=reason, origin=origin, seq=seq)

    def _receive(self, peer: Peer, body: bytes) -> tuple[int, bytes, str]:
        try:
            events = decode_batch(body)
        except WireError as exc:
            return self._malformed(peer, exc)
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
