"""Serve a node: the HTTP API, federation, and every started plugin's background jobs.

Stopping is bounded: SIGINT or SIGTERM ends the process within :data:`STOP_DEADLINE`
seconds, whatever its clients do. The first signal stops gracefully (live sessions get a
close frame, open requests get :data:`GRACE` seconds, background jobs are cancelled, the
node is closed, exit status 0); a second signal ends it within half a second, the deadline at
once (exit status 1).

A WebSocket connection the application is done with is released within
:data:`RELEASE_AFTER` seconds even when the client never reads (uvicorn's own close
waits for the send buffer to drain, which a client that stopped reading never lets
happen).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import structlog
import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

from kizuna.api.app import create_app
from kizuna.federation.service import Federation
from kizuna.node.runtime import Node

log = structlog.get_logger("kizuna.serve")

STOP_DEADLINE = 4.5  # seconds from the first signal to the end of the process, at most
GRACE = 1.5  # seconds open requests and sessions get once the node is stopping
RELEASE_AFTER = 3.0  # seconds a finished WebSocket connection may linger before it is cut
COLLECT_EVERY = 256  # finished WebSocket connections between full garbage collections
WS_MAX_MESSAGE = 64 * 1024  # bytes in one client message (subscriptions are small)
WS_DEFLATE_LEVEL = 2  # zlib level of permessage-deflate (speed over the last 30 % of size)
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ReleasingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, except that no connection outlives its use.

    Once the application's handler has returned, or the server is shutting down, the
    transport is aborted if it is still open ``release_after`` seconds later: a client
    that neither reads nor answers the close handshake cannot keep a socket, its send
    buffer and a file descriptor.
    """

    release_after = RELEASE_AFTER
    finished = 0  # connections done with, in this process

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.ws_per_message_deflate:
            # uvicorn's permessage-deflate, at zlib level 2 rather than 6: a 10,000-track
            # snapshot (6.7 MB of JSON) deflates in ~30 ms instead of ~95 ms, to 570 kB
            # instead of 380 kB (ADR 0022).
            self.conn = ServerProtocol(
                extensions=[
                    ServerPerMessageDeflateFactory(
                        server_max_window_bits=12,
                        client_max_window_bits=12,
                        compress_settings={"memLevel": 5, "level": WS_DEFLATE_LEVEL},
                    )
                ],
                max_size=self.config.ws_max_size,
                logger=logging.getLogger("uvicorn.error"),
            )
        self.close_timeout = self.release_after
        self._release: asyncio.TimerHandle | None = None
        self._app_done = False

    def on_task_complete(self, task: asyncio.Task[None]) -> None:
        super().on_task_complete(task)
        self._app_done = True
        self._release_later(self.release_after)
        self._forget_if_done()

    def shutdown(self) -> None:
        super().shutdown()
        self._release_later(min(self.release_after, GRACE / 2))

    def connection_lost(self, exc: Exception | None) -> None:
        if self._release is not None:
            self._release.cancel()
            self._release = None
        super().connection_lost(exc)
        self._forget_if_done()

    def _forget_if_done(self) -> None:
        """Application and connection both done: drop the connection's state now.

        Litestar's WebSocket (its receive/send wrappers close over it) and asyncio's
        transport are reference cycles that hold this protocol until the next full garbage
        collection, and with it the WebSocket state: buffers and each connection's
        compressor. A thousand sessions grew the node by tens of megabytes before one ran.
        """
        if not (self._app_done and self.disconnected):
            return
        self.conn = None  # type: ignore[assignment]
        # asyncio's selector transport keeps a bound method of itself (a cycle): clear it
        # once the transport is closed, as nothing reads from it any more.
        if getattr(self.transport, "_read_ready_cb", None) is not None:
            self.transport._read_ready_cb = None  # type: ignore[attr-defined]
        self.scope = None  # type: ignore[assignment]
        self.frames = []
        self.queue = asyncio.Queue()
        for name in ("request", "response"):
            self.__dict__.pop(name, None)
        # What is left (free lists, the odd cycle in a library) is returned by a full
        # collection, once every COLLECT_EVERY finished connections.
        cls = type(self)
        cls.finished += 1
        if cls.finished % COLLECT_EVERY == 0:
            self.loop.call_soon(gc.collect)

    def _release_later(self, delay: float) -> None:
        if self._release is not None:
            if self._release.when() <= self.loop.time() + delay:
                return
            self._release.cancel()
        self._release = self.loop.call_later(delay, self._abort)

    def _abort(self) -> None:
        self._release = None
        if not self.disconnected and self.transport is not None:
            self.transport.abort()


class NodeServer(uvicorn.Server):
    """uvicorn's server with the node's signal handling (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, node: Node) -> None:
        super().__init__(config)
        self.node = node
        self.stopping = threading.Event()
        self._watchdog: threading.Timer | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Installed by `serve` for the node's whole life, and not re-raised afterwards
        # (uvicorn re-raises a caught SIGTERM, which killed the process before the node
        # was closed).
        yield

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.stopping.is_set():
            self.force_exit = True
            self._arm(0.5)
            return
        self.stopping.set()
        self.should_exit = True
        self._arm(STOP_DEADLINE)

    def _arm(self, delay: float) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watchdog = threading.Timer(delay, _exit_now)
        self._watchdog.daemon = True
        self._watchdog.start()

    async def shutdown(self, sockets: Any = None) -> None:
        # Close the node's live sessions first (a close frame each, in bounded time).
        await self.node.bus.close_all(timeout=GRACE / 2)
        await super().shutdown(sockets=sockets)


def _exit_now() -> None:
    """The deadline passed: end the process (the store's transactions are already durable)."""
    sys.stderr.write("kizuna: stop deadline passed; exiting now\n")
    sys.stderr.flush()
    os._exit(1)


async def _cancel_bounded(tasks: list[asyncio.Task[None]], timeout: float) -> None:
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.warning("background job failed at stop", error=repr(task.exception()))


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
        ws=ReleasingWebSocketProtocol,
        ws_max_size=WS_MAX_MESSAGE,
        timeout_graceful_shutdown=max(1, int(GRACE)),
    )
    server = NodeServer(config, node)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = (
        {sig: signal.signal(sig, server.handle_exit) for sig in SIGNALS} if main_thread else {}
    )
    tasks = [asyncio.create_task(job) for job in [federation.run(), *node.jobs()]]
    log.info("node serving", node_id=node.node_id, api_url=node.config.api_url)
    try:
        await server.serve()
    finally:
        await _cancel_bounded(tasks, GRACE / 2)
        node.close()
        log.info("node stopped", node_id=node.node_id)
        # The watchdog stays armed until the process ends: asyncio.run's own teardown
        # (leftover tasks, worker threads) is bounded by it too.
        for sig, handler in previous.items():
            signal.signal(sig, handler)
