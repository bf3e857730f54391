"""Serve a node: the HTTP API, federation, and every started plugin's background jobs."""

from __future__ import annotations

import asyncio

import structlog
import uvicorn

from kizuna.api.app import create_app
from kizuna.federation.service import Federation
from kizuna.kernel.tasks import cancel_all
from kizuna.node.runtime import Node

log = structlog.get_logger("kizuna.serve")


async def serve(node: Node) -> None:
    federation = Federation(node)
    app = create_app(node, federation.routes())
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
    tasks = [asyncio.create_task(job) for job in [federation.run(), *node.jobs()]]
    log.info("node serving", node_id=node.node_id, api_url=node.config.api_url)
    try:
        await server.serve()
    finally:
        await cancel_all(tasks)
        node.close()
