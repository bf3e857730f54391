"""Long-lived clients of real nodes on a background event loop: WebSocket sessions and TAK
TLS clients that collect everything they are sent, while the test thread writes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import ssl
import threading
import xml.etree.ElementTree as ET
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from websockets.asyncio.client import connect

T = TypeVar("T")

SUBSCRIBE = json.dumps({"type": "subscribe"})


class Loop:
    """An asyncio loop on its own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def spawn(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        """Cancel every task on the loop (sessions close their sockets), then stop it."""

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_all(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def ws_url(port: int, token: str) -> str:
    return f"ws://127.0.0.1:{port}/api/v1/ws?token={token}"


class LiveSession:
    """A WebSocket session subscribed to the whole picture; keeps every message."""

    def __init__(self, port: int, token: str) -> None:
        self.url = ws_url(port, token)
        self.messages: list[dict[str, Any]] = []
        self.error: BaseException | None = None

    async def run(self, ready: asyncio.Event) -> None:
        try:
            async with connect(self.url, max_size=None, open_timeout=20) as ws:
                await ws.send(SUBSCRIBE)
                self.messages.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
                ready.set()
                async for raw in ws:
                    self.messages.append(json.loads(raw))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.error = exc
            ready.set()


async def snapshot(
    port: int, token: str, bbox: tuple[float, ...] | None = None, quiet: float = 0.5
) -> list[dict[str, Any]]:
    """Subscribe afresh (to ``bbox`` if given) and return the messages of the snapshot
    (until ``quiet`` s pass without one)."""
    out = []
    async with connect(ws_url(port, token), max_size=None, open_timeout=20) as ws:
        await ws.send(json.dumps({"type": "subscribe", "bbox": list(bbox) if bbox else None}))
        out.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
        while True:
            try:
                out.append(json.loads(await asyncio.wait_for(ws.recv(), quiet)))
            except TimeoutError:
                return out


def tak_context(certs: dict[str, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(certs["ca"]))
    ctx.load_cert_chain(str(certs["cert"]), str(certs["key"]))
    ctx.check_hostname = False  # the node's certificate names the node, not 127.0.0.1
    return ctx


def parse_events(buffer: bytes) -> tuple[list[ET.Element], bytes]:
    """Complete ``<event>`` elements in ``buffer`` and the rest."""
    out = []
    while True:
        end = buffer.find(b"</event>")
        if end < 0:
            return out, buffer
        chunk, buffer = buffer[: end + 8], buffer[end + 8 :]
        start = chunk.find(b"<event")
        out.append(ET.fromstring(chunk[start:]))


class TakClient:
    """A TAK client over mutual TLS speaking CoT XML; keeps every event it receives."""

    def __init__(self, port: int, certs: dict[str, Path]) -> None:
        self.port = port
        self.certs = certs
        self.events: list[dict[str, Any]] = []
        self.closed_by_server = False
        self.error: BaseException | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def run(self, ready: asyncio.Event) -> None:
        try:
            reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port, ssl=tak_context(self.certs)), 20
            )
            buffer = b""
            while True:
                data = await reader.read(65536)
                if not data:
                    self.closed_by_server = True
                    return
                events, buffer = parse_events(buffer + data)
                for ev in events:
                    if ev.get("type", "").startswith("t-x-"):
                        ready.set()  # the protocol announcement: connected
                        continue
                    point = ev.find("point")
                    assert point is not None
                    self.events.append(
                        {
                            "uid": ev.get("uid"),
                            "lat": float(point.get("lat", "nan")),
                            "lon": float(point.get("lon", "nan")),
                            "attrs": {
                                k: v
                                for k, v in ev.attrib.items()
                                if k in ("access", "caveat", "releaseableTo")
                            },
                        }
                    )
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.error = exc
            ready.set()
        finally:
            if self.writer is not None:
                self.writer.close()

    async def send(self, data: bytes) -> None:
        assert self.writer is not None, "not connected"
        self.writer.write(data)
        await self.writer.drain()


async def start_all(sessions: list[Any], timeout: float = 30) -> list[asyncio.Task[None]]:
    """Start every session's ``run`` and wait until each is connected (or failed)."""
    readies = [asyncio.Event() for _ in sessions]
    tasks = [asyncio.create_task(s.run(r)) for s, r in zip(sessions, readies, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout)
    return tasks
