"""Run a node: the HTTP API and whatever services its config enables."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
import uvicorn

from kizuna.api.app import create_app
from kizuna.node.runtime import Node

log = structlog.get_logger("kizuna.serve")

# Services started beside the API (CoT server, federation links, …) register here.
Service = Callable[[Node, Any], Awaitable[None]]
SERVICES: list[Service] = []


async def serve(node: Node) -> None:
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
    tasks = [asyncio.create_task(svc(node, app)) for svc in SERVICES]
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
