"""Run a node: the HTTP API, federation, the CoT server and background watchers."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog
import uvicorn

from kizuna.api.app import create_app
from kizuna.core.labels import Classification
from kizuna.core.records import RecordState
from kizuna.core.release import make_principal
from kizuna.node.runtime import Node
from kizuna.node.tasks import cancel_all

log = structlog.get_logger("kizuna.serve")


def _push_requests(node: Node) -> None:
    """Request changes and overdue flags go to WebSocket subscribers, release-checked."""
    from kizuna.coordination.service import on_request_change, request_summary

    loop = asyncio.get_running_loop()

    def changed(state: RecordState) -> None:
        loop.call_soon_threadsafe(
            node.picture.hub.publish, "request", request_summary(state), state.label
        )

    on_request_change(node, changed)


def _overdue_push(node: Node) -> Any:
    def push(summary: dict[str, Any]) -> None:
        state = node.store.get("request", summary["id"])
        if state is not None:
            node.picture.hub.publish("overdue", summary, state.label)

    return push


async def _cot(node: Node) -> None:
    """The TAK/CoT server; tracks from other sources are published to TAK clients."""
    from kizuna.sources.cot import CotServer, server_ssl_context

    cfg = node.config
    ctx = None
    if cfg.cot_tls_port:
        ctx = server_ssl_context(node.dir.node_cert, node.dir.node_key, node.dir.ca_cert)
    server = CotServer(
        on_tracks=node.picture.ingest,
        default_principal=make_principal(
            node.nation, Classification.UNCLASSIFIED, registry=node.groups
        ),
        ssl_context=ctx,
        host=cfg.host,
        tcp_port=cfg.cot_port or None,
        tls_port=cfg.cot_tls_port or None,
    )
    await server.start()
    node.cot = server
    loop = asyncio.get_running_loop()

    def publish_all(tracks: list[Any]) -> None:
        for track in tracks:
            server.publish(track)  # each client gets only what may_release allows

    def to_tak(tracks: list[Any]) -> None:
        # The CoT server relays its own clients itself; everything else is published,
        # one loop callback per ingested batch.
        out = [
            t
            for t in tracks
            if t.source != "cot"
            or (t.sources and t.sources[0].connection.startswith("federation:"))
        ]
        if out:
            loop.call_soon_threadsafe(publish_all, out)

    node.picture.on_tracks(to_tak)
    log.info("cot listening", tcp=server.tcp_address, tls=server.tls_address)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


async def _ais(node: Node) -> None:
    """AIS feeds: UDP datagrams and/or TCP pushers; batches flushed at least twice a second."""
    from kizuna.sources.ais import AisIngestor, serve_tcp, serve_udp

    cfg = node.config
    ingestor = AisIngestor(node.picture.ingest, node.parse_label("UNCLASSIFIED"), connection="ais")
    servers = []
    if cfg.ais_udp_port:
        servers.append(await serve_udp(cfg.host, cfg.ais_udp_port, ingestor, name="ais-udp"))
    if cfg.ais_tcp_port:
        servers.append(await serve_tcp(cfg.host, cfg.ais_tcp_port, ingestor, name="ais-tcp"))
    try:
        while True:
            await asyncio.sleep(0.5)
            ingestor.flush()
    finally:
        for server in servers:
            server.close()
        ingestor.close()


async def serve(node: Node) -> None:
    from kizuna.coordination.service import watch_overdue
    from kizuna.federation.service import Federation

    app = create_app(node)
    config = uvicorn.Config(
        app,
        host=node.config.host,
        port=node.config.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    _push_requests(node)
    jobs: list[Coroutine[Any, Any, None]] = [
        Federation(node).run(),
        node.picture.run(),
        watch_overdue(node, _overdue_push(node)),
    ]
    if node.config.cot_port or node.config.cot_tls_port:
        jobs.append(_cot(node))
    if node.config.ais_udp_port or node.config.ais_tcp_port:
        jobs.append(_ais(node))
    tasks = [asyncio.create_task(job) for job in jobs]
    log.info("node serving", node_id=node.node_id, api_url=node.config.api_url)
    try:
        await server.serve()
    finally:
        await cancel_all(tasks)
        node.close()
