"""Run a node: the HTTP API and whatever services its config enables."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
import uvicorn

from kizuna.api.app import create_app
from kizuna.node.runtime import Node

log = structlog.get_logger("kizuna.serve")


async def serve(node: Node) -> None:
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
    federation = Federation(node)
    tasks = [asyncio.create_task(federation.run())]
    log.info("node serving", node_id=node.node_id, api_url=node.config.api_url)
    try:
        await server.serve()
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        node.close()
