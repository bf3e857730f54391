"""The node's push bus: labelled items on topics, each push release-checked per session.

Any plugin publishes ``bus.publish(topic, item, label)`` from any thread; every
WebSocket session that may see ``label`` (:func:`may_release` with the session's
principal) gets ``{"type": topic, "item": item}``, coalesced by (topic, item id)
and bounded (the oldest dropped beyond ``max_messages``).

A domain with a richer live stream (the picture's bounding-box subscriptions,
snapshots and per-track coalescing) adds a :class:`Feed`: it handles the client
messages it names and sends its own frames from the session's single sender.

Protocol (JSON text frames) on ``/api/v1/ws?token=TOKEN``: client messages are
``{"type": ..., ...}`` objects routed to the feed that names the type, or
``{"type": "stats"}``; the server answers bad messages with
``{"type": "error", "detail": ...}`` and closes after ``MAX_BAD_MESSAGES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import msgspec
import structlog

from kizuna.core.labels import Label
from kizuna.core.release import Principal, may_release

log = structlog.get_logger("kizuna.bus")

MAX_BAD_MESSAGES = 10
_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(dict[str, Any])

Send = Callable[[Mapping[str, Any]], Awaitable[None]]


class Socket(Protocol):
    """What the bus needs of a WebSocket (Litestar's satisfies it)."""

    async def receive_data(self, mode: Any) -> Any: ...

    async def send_text(self, data: str) -> None: ...

    async def close(self) -> None: ...


class Session:
    """One WebSocket connection. Fields marked (lock) are guarded by the bus lock."""

    def __init__(self, principal: Principal, name: str) -> None:
        self.principal = principal
        self.name = name
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (lock)
        self.messages_dropped = 0
        self.wake = asyncio.Event()
        self.errors: list[str] = []
        self.want_stats = False
        self.feed_state: dict[str, Any] = {}  # each feed's per-session state, by feed name


class Feed(Protocol):
    """A plugin's live stream inside every session."""

    name: str
    message_types: frozenset[str]  # client message types this feed handles

    def open(self, session: Session) -> None: ...

    def receive(self, session: Session, message: Mapping[str, Any]) -> None:
        """Handle a client message; raise ValueError for a bad one (nothing changes)."""
        ...

    async def on_wake(self, session: Session, send: Send) -> None:
        """Called by the session's sender whenever it wakes (e.g. to send a snapshot)."""
        ...

    async def flush(self, session: Session, send: Send) -> None:
        """Called every ``interval`` seconds: send what changed for this session."""
        ...

    def stats(self, session: Session) -> dict[str, Any]: ...

    def close(self, session: Session) -> None: ...


class PushBus:
    def __init__(self, *, interval: float = 0.1, max_messages: int = 1000) -> None:
        self.interval = interval
        self.max_messages = max_messages
        self.lock = threading.Lock()
        self._sessions: set[Session] = set()
        self._feeds: list[Feed] = []
        self._seq = itertools.count()

    @property
    def subscribers(self) -> int:
        return len(self._sessions)

    def sessions(self) -> list[Session]:
        """A snapshot of open sessions; take ``lock`` to change their state."""
        return list(self._sessions)

    def add_feed(self, feed: Feed) -> None:
        self._feeds.append(feed)

    # -- producers (any thread) ---------------------------------------------
    def publish(self, topic: str, item: Mapping[str, Any], label: Label) -> None:
        """Push ``{"type": topic, "item": item}`` to every session that may see ``label``."""
        if not self._sessions:
            return
        key_id = item.get("id")
        with self.lock:
            for session in self._sessions:
                if not may_release(label, session.principal):
                    continue
                key = (topic, str(key_id) if key_id is not None else f"#{next(self._seq)}")
                session.messages.pop(key, None)
                session.messages[key] = {"type": topic, "item": dict(item)}
                while len(session.messages) > self.max_messages:
                    session.messages.pop(next(iter(session.messages)))
                    session.messages_dropped += 1

    # -- a connection --------------------------------------------------------
    async def serve(self, socket: Socket, principal: Principal, name: str) -> None:
        """Run an accepted connection until either side closes it; always frees it."""
        session = Session(principal, name)
        for feed in self._feeds:
            feed.open(session)
        with self.lock:
            self._sessions.add(session)
        sender = asyncio.create_task(self._send_loop(socket, session))
        receiver = asyncio.create_task(self._receive_loop(socket, session))
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            with self.lock:
                self._sessions.discard(session)
            for feed in self._feeds:
                feed.close(session)
            for task in (sender, receiver):
                task.cancel()
            for task in (sender, receiver):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await socket.close()

    def _route(self, session: Session, raw: Any) -> None:
        message = _dec.decode(raw)
        kind = message.get("type")
        if kind == "stats" and len(message) == 1:
            session.want_stats = True
            return
        for feed in self._feeds:
            if kind in feed.message_types:
                feed.receive(session, message)
                return
        raise ValueError(f"unknown message type {kind!r}")

    async def _receive_loop(self, socket: Socket, session: Session) -> None:
        from litestar.exceptions import WebSocketDisconnect

        bad = 0
        while True:
            try:
                raw = await socket.receive_data(mode="text")
            except WebSocketDisconnect:
                return
            try:
                self._route(session, raw)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
                bad += 1
                session.errors.append(f"bad message: {exc}")
                session.wake.set()
                if bad >= MAX_BAD_MESSAGES:
                    return
                continue
            session.wake.set()

    async def _send_loop(self, socket: Socket, session: Session) -> None:
        loop = asyncio.get_running_loop()
        last_flush = 0.0

        async def send(message: Mapping[str, Any]) -> None:
            await socket.send_text(_enc.encode(message).decode())

        while True:
            timeout = max(0.0, self.interval - (loop.time() - last_flush))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.wake.wait(), timeout)
            session.wake.clear()
            while session.errors:
                await send({"type": "error", "detail": session.errors.pop(0)})
            for feed in self._feeds:
                await feed.on_wake(session, send)
            if loop.time() - last_flush >= self.interval:
                last_flush = loop.time()
                for feed in self._feeds:
                    await feed.flush(session, send)
                with self.lock:
                    messages, session.messages = session.messages, {}
                for message in messages.values():
                    await send(message)
            if session.want_stats:
                session.want_stats = False
                with self.lock:
                    stats: dict[str, Any] = {
                        "type": "stats",
                        "messages_pending": len(session.messages),
                        "messages_dropped": session.messages_dropped,
                    }
                    for feed in self._feeds:
                        stats.update(feed.stats(session))
                await send(stats)
