"""The HTTPS federation transport (``kizuna.transports`` entry point ``https``).

HTTP/1.1 over mutual TLS. The listener is our own h11 server (see :mod:`server`),
because uvicorn cannot hand the application the client certificate, and the peer
is whoever holds the pinned certificate whose fingerprint it presents.

Endpoints on the federation port:

- ``POST /federation/v1/<stream>`` (``events``, ``track``, … ; ``tracks`` is the
  older name of ``track``): one batch of the stream's wire format, with its
  de-duplication id in the ``x-kizuna-dedup-id`` header; answers an
  :class:`~kizuna.kernel.streams.Ack`.
- ``GET /federation/v1/digest``: the digest of what the two nodes should share.
- ``GET /federation/v1/<stream>``: a stream's answer for the asking peer
  (:class:`~kizuna.kernel.streams.AnsweringStream`; ``audit_head``: the receipt).
- ``POST /federation/enrol``: a partner node enrolling with a one-time invitation
  (:mod:`enrol`); the only route a client without a pinned certificate reaches.

The peers served change while the transport runs (:meth:`HttpsTransport.reload`): a new
connection is verified against the peers pinned then, and every request is matched to a
peer by the certificate's fingerprint when it arrives, so a revoked peer's kept-alive
connection is refused at its next request.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx
import msgspec
import structlog

from kizuna.core.errors import NotFound
from kizuna.federation.enrol import PATH as ENROL_PATH
from kizuna.federation.linkstate import AnsweredError
from kizuna.federation.peers import FederatedNode
from kizuna.federation.server import CLIENT, FederationServer, problem
from kizuna.federation.tls import client_context, server_context
from kizuna.kernel.config import NodeDir
from kizuna.kernel.streams import Ack, Inbound, PeerEndpoint, TransportError

log = structlog.get_logger("kizuna.federation")

PREFIX = "/federation/v1/"
DEDUP_HEADER = "x-kizuna-dedup-id"
BATCH_TYPE = "application/x-kizuna-batch"
ALIASES = {"tracks": "track"}  # paths of earlier releases


@runtime_checkable
class Enrols(Protocol):
    """The node's side of enrolment (:class:`kizuna.federation.enrol.Enrolment`)."""

    def enrol(self, method: str, body: bytes, client: str) -> tuple[int, bytes, str]: ...


class HttpsConnection:
    """Batches to one peer over a kept-alive mutual-TLS connection."""

    def __init__(self, node_dir: NodeDir, peer: PeerEndpoint) -> None:
        self.peer = peer
        self._client = httpx.AsyncClient(
            verify=client_context(node_dir, Path(peer.cert_path)),
            timeout=httpx.Timeout(30.0, connect=5.0),
        )
        self._base = peer.url.rstrip("/") + PREFIX

    async def send(self, stream: str, body: bytes, dedup_id: str) -> Ack:
        try:
            response = await self._client.post(
                self._base + stream,
                content=body,
                headers={"content-type": BATCH_TYPE, DEDUP_HEADER: dedup_id},
            )
        except (httpx.HTTPError, OSError) as exc:
            raise TransportError(str(exc) or type(exc).__name__) from exc
        if response.status_code != 200:
            raise AnsweredError(
                response.status_code, f"peer answered {response.status_code}: {response.text[:200]}"
            )
        try:
            return msgspec.json.decode(response.content, type=Ack)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise TransportError(f"bad acknowledgement: {exc}") from exc

    async def digest(self) -> dict[str, Any]:
        try:
            response = await self._client.get(self._base + "digest")
        except (httpx.HTTPError, OSError) as exc:
            raise TransportError(str(exc) or type(exc).__name__) from exc
        if response.status_code != 200:
            raise AnsweredError(
                response.status_code, f"peer answered {response.status_code}: {response.text[:200]}"
            )
        return dict(response.json())

    async def close(self) -> None:
        await self._client.aclose()


class HttpsTransport:
    name = "https"

    def __init__(self, node_dir: NodeDir, host: str, port: int, url: str) -> None:
        self.node_dir = node_dir
        self.host, self.port, self.url = host, port, url
        self._by_fingerprint: dict[str, PeerEndpoint] = {}
        self._server: FederationServer | None = None

    def _context(self, peers: Sequence[PeerEndpoint]) -> ssl.SSLContext:
        return server_context(self.node_dir, [Path(p.cert_path) for p in peers])

    def reload(self, peers: Sequence[PeerEndpoint]) -> None:
        """Serve ``peers`` from now on: new handshakes trust only their certificates, and
        each request is matched against them."""
        ctx = self._context(peers)
        self._by_fingerprint = {p.fingerprint: p for p in peers}
        if self._server is not None:
            self._server.ctx = ctx
        log.info("federation peers reloaded", peers=sorted(p.peer_id for p in peers))

    async def serve(self, peers: Sequence[PeerEndpoint], inbound: Inbound) -> None:
        self._by_fingerprint = {p.fingerprint: p for p in peers}

        async def handle(
            method: str,
            path: str,
            query: dict[str, str],
            headers: dict[str, str],
            body: bytes,
            fingerprint: str,
        ) -> tuple[int, bytes, str]:
            if path == ENROL_PATH:
                if isinstance(inbound, Enrols):
                    return inbound.enrol(method, body, CLIENT.get())
                return problem(404, "this node takes no enrolments")
            peer = self._by_fingerprint.get(fingerprint) if fingerprint else None
            if peer is None:
                inbound.refused("federation_unknown_peer", fingerprint=fingerprint[:16])
                return problem(403, "certificate does not belong to a configured peer")
            return route(inbound, peer, method, path, query, headers, body)

        server = FederationServer(
            self.host,
            self.port,
            self._context(peers),
            handle,
            lambda reason: inbound.refused("federation_tls", detail=reason),
        )
        self._server = server
        await server.start()
        log.info("federation listening", url=self.url, peers=sorted(p.peer_id for p in peers))
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            self._server = None
            await server.stop()

    def connect(self, peer: PeerEndpoint) -> HttpsConnection:
        return HttpsConnection(self.node_dir, peer)


def route(
    inbound: Inbound,
    peer: PeerEndpoint,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
) -> tuple[int, bytes, str]:
    """One request of an authenticated peer."""
    name = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
    if method == "GET" and name == "digest":
        if query.get("peer", peer.peer_id) != peer.peer_id:
            return problem(403, "a peer may ask only for its own digest")
        try:
            return 200, json.dumps(inbound.digest(peer.peer_id)).encode(), "application/json"
        except NotFound as exc:
            return problem(404, exc.detail)
    if method == "GET" and name and "/" not in name:
        try:
            return 200, inbound.answer(peer.peer_id, ALIASES.get(name, name)), "application/json"
        except LookupError as exc:
            return problem(404, str(exc))
    if method == "POST" and name and "/" not in name:
        stream = ALIASES.get(name, name)
        try:
            ack = inbound.receive(peer.peer_id, stream, body, headers.get(DEDUP_HEADER, ""))
        except LookupError as exc:
            return problem(404, str(exc) or f"no stream {stream!r}")
        except ValueError as exc:
            return problem(400, str(exc))
        return 200, msgspec.json.encode(ack), "application/json"
    return problem(404, f"no route {method} {path}")


def transport(node: FederatedNode) -> HttpsTransport:
    """The ``https`` transport of ``node``: it listens on the node's federation port."""
    config = node.config
    return HttpsTransport(node.dir, config.host, config.fed_port, config.federation_url)
