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
``{"type": "error", "detail": ...}`` and closes after ``MAX_BAD_MESSAGES``. The first
client message may ride the handshake instead, as ``&msg=<JSON>``: the server then
answers it (a picture's snapshot) without waiting for the client to see the socket open,
which a busy page does late.

Every session ends in bounded time, whoever ends it: each send must complete within
``send_timeout`` (a client that stops reading is dropped, not kept), the close within
``close_timeout``; the session's state is freed before anything is awaited, and a
cancelled session (a server shutting down) ends and re-raises its cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import msgspec
import structlog

from kizuna.core.labels import Label
from kizuna.core.release import Principal, may_release

log = structlog.get_logger("kizuna.bus")

MAX_BAD_MESSAGES = 10
SEND_TIMEOUT = 30.0  # seconds a client may take to accept one frame before it is dropped
CLOSE_TIMEOUT = 2.0  # seconds the close (and the session's last frames) may take
MAX_JSON_DEPTH = 32  # nesting of arrays and objects in any JSON the node decodes

# Close codes (RFC 6455 §7.4.1) and the reasons counted in ``PushBus.ended``.
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # too many bad messages
CLOSE_GOING_AWAY = 1001  # the node is shutting down
CLOSE_SLOW = 1013  # "try again later": the client did not take its frames in time

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(dict[str, Any])

Send = Callable[[Mapping[str, Any]], Awaitable[None]]

# A JSON string (possibly unterminated: the decoder rejects it) or a run of bytes that are
# neither a quote nor a bracket. Possessive, so one linear pass over any input.
_NOT_A_BRACKET = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[^"\[\]{}]++', re.DOTALL)
_SQUARE = bytes.maketrans(b"{}", b"[]")


def json_too_deep(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in ``data`` nest deeper than ``limit`` (JSON, or anything).

    Checked before decoding, since decoders recurse: msgspec raises RecursionError on a
    few thousand levels. Linear in the input; brackets inside strings do not count.
    """
    raw = data.encode() if isinstance(data, str) else data
    if b"[" not in raw and b"{" not in raw:
        return False
    brackets = _NOT_A_BRACKET.sub(b"", raw).translate(_SQUARE)
    # Each pass removes the innermost pairs, so the depth drops by one per pass.
    rest = brackets
    for _ in range(limit):
        if not rest:
            return False
        rest = rest.replace(b"[]", b"")
    if not rest:
        return False
    depth = 0
    for byte in brackets:  # unbalanced input or deeper than limit: tell which
        depth += 1 if byte == 0x5B else -1
        if depth < 0:
            return False  # a stray closer: not JSON, the decoder says so
        if depth > limit:
            return True
    return False


class SessionEnded(Exception):
    """Raised by a session's ``send`` once the session has ended (feeds let it propagate)."""


class Socket(Protocol):
    """What the bus needs of a WebSocket (Litestar's satisfies it)."""

    async def receive_data(self, mode: Any) -> Any: ...

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = ..., reason: str | None = ...) -> None: ...


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
        self.ending = False  # set once: the sender stops at its next step
        self.tasks: tuple[asyncio.Task[None], ...] = ()  # its sender and receiver
        self.close_code = CLOSE_NORMAL
        self.close_reason = ""

    def end(self, code: int, reason: str) -> None:
        """The server ends this session (the first reason given is kept)."""
        if not self.ending:
            self.ending = True
            self.close_code = code
            self.close_reason = reason
        self.wake.set()


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
    def __init__(
        self,
        *,
        interval: float = 0.1,
        max_messages: int = 1000,
        send_timeout: float = SEND_TIMEOUT,
        close_timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        self.interval = interval
        self.max_messages = max_messages
        self.send_timeout = send_timeout
        self.close_timeout = close_timeout
        self.lock = threading.Lock()
        self._sessions: set[Session] = set()
        self._feeds: list[Feed] = []
        self._seq = itertools.count()
        self._serving: set[asyncio.Task[Any]] = set()  # the tasks running serve()
        self.opened = 0  # sessions served so far
        self.ended: Counter[str] = Counter()  # sessions ended, by reason

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
    async def serve(
        self, socket: Socket, principal: Principal, name: str, first: str | None = None
    ) -> None:
        """Run an accepted connection until either side ends it; ``first`` is a client
        message that came with the handshake, handled before any other.

        A client that stops reading ends it after ``send_timeout``; once ended, this
        returns within ``2 * close_timeout`` whatever the client does, the session out of
        the bus and its feeds' state freed before anything is awaited. Cancelled (a server
        shutting down), it ends the same way and re-raises the cancellation.
        """
        session = Session(principal, name)
        for feed in self._feeds:
            feed.open(session)
        if first is not None:
            self._accept(session, first.encode())
        current = asyncio.current_task()
        if current is not None:
            self._serving.add(current)
        sender = asyncio.create_task(self._send_loop(socket, session))
        receiver = asyncio.create_task(self._receive_loop(socket, session))
        session.tasks = (sender, receiver)
        with self.lock:
            self._sessions.add(session)
        self.opened += 1
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            session.end(CLOSE_GOING_AWAY, "the node is shutting down")
            raise
        finally:
            session.end(CLOSE_NORMAL, "")
            with self.lock:
                self._sessions.discard(session)
            for feed in self._feeds:
                try:
                    feed.close(session)
                except Exception:
                    log.exception("feed close failed", feed=feed.name)
            for task in (sender, receiver):
                task.cancel()
            reason = _outcome(session, sender, receiver)
            self.ended[reason] += 1
            if current is not None:
                self._serving.discard(current)
            # Bounded: a task that swallows its cancellation is left behind, not awaited.
            interrupted = await self._settle(sender, receiver)
            interrupted |= await self._goodbye(socket, session)
            if interrupted:
                raise asyncio.CancelledError  # cancelled while ending: keep the cancellation

    async def close_all(self, timeout: float | None = None) -> None:
        """End every session (a shutdown: close code 1001), waiting at most ``timeout``
        (default ``2 * close_timeout``, the most a session takes to end).

        Each ``serve`` returns normally (the session ended), rather than being cancelled."""
        for session in self.sessions():
            session.end(CLOSE_GOING_AWAY, "the node is shutting down")
            for task in session.tasks:
                task.cancel()
        tasks = list(self._serving)
        if tasks:
            await asyncio.wait(
                tasks, timeout=2 * self.close_timeout if timeout is None else timeout
            )

    async def _settle(self, *tasks: asyncio.Task[None]) -> bool:
        """Wait (bounded) for cancelled tasks to finish; True if cancelled meanwhile."""
        for task in tasks:
            task.add_done_callback(_retrieve)
        try:
            await asyncio.wait(tasks, timeout=self.close_timeout)
        except asyncio.CancelledError:
            return True  # still try to say goodbye
        return False

    async def _goodbye(self, socket: Socket, session: Session) -> bool:
        """The session's last error frames, then the close frame; all within close_timeout.

        True if cancelled meanwhile."""
        try:
            async with asyncio.timeout(self.close_timeout):
                if session.close_code != CLOSE_SLOW:
                    while session.errors:
                        detail = session.errors.pop(0)
                        await socket.send_text(
                            _enc.encode({"type": "error", "detail": detail}).decode()
                        )
                await socket.close(code=session.close_code, reason=session.close_reason)
        except TimeoutError:
            log.info("websocket close timed out", user=session.name, code=session.close_code)
        except asyncio.CancelledError:
            return True
        except Exception:  # already gone: nothing to close
            pass
        return False

    def _route(self, session: Session, raw: Any) -> None:
        if json_too_deep(raw):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
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

    def _accept(self, session: Session, raw: Any) -> bool:
        """Route one client message and wake the sender; False (an error frame queued)
        if the message was bad."""
        try:
            self._route(session, raw)
            return True
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            session.errors.append(f"bad message: {exc}")
            return False
        finally:
            session.wake.set()

    async def _receive_loop(self, socket: Socket, session: Session) -> None:
        from litestar.exceptions import WebSocketDisconnect

        bad = 0
        while not session.ending:
            try:
                raw = await socket.receive_data(mode="text")
            except WebSocketDisconnect:
                session.end(CLOSE_NORMAL, "")
                return
            if not self._accept(session, raw):
                bad += 1
                if bad >= MAX_BAD_MESSAGES:
                    session.end(CLOSE_POLICY, "too many bad messages")
                    return

    async def _send_loop(self, socket: Socket, session: Session) -> None:
        loop = asyncio.get_running_loop()
        last_flush = 0.0

        async def send(message: Mapping[str, Any]) -> None:
            if session.ending:
                raise SessionEnded  # ended while a feed was sending: stop there
            text = _enc.encode(message).decode()
            try:
                async with asyncio.timeout(self.send_timeout):
                    await socket.send_text(text)
            except TimeoutError:
                session.end(CLOSE_SLOW, "the client did not read its frames")
                raise

        # `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` swallows a
        # cancellation that arrives as its awaitable completes, and the loop ran on.
        while not session.ending:
            timeout = max(0.0, self.interval - (loop.time() - last_flush))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await session.wake.wait()
            if session.ending:
                return
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


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a finished task's exception as seen (it was logged where it mattered)."""
    if not task.cancelled():
        task.exception()


def _outcome(session: Session, sender: asyncio.Task[None], receiver: asyncio.Task[None]) -> str:
    """Why a session ended, for ``PushBus.ended`` (and the metrics)."""
    for task in (sender, receiver):
        if task.done() and not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if not isinstance(exc, TimeoutError | SessionEnded):
                log.error("websocket session failed", user=session.name, error=repr(exc))
                return "error"
    return {
        CLOSE_POLICY: "bad_messages",
        CLOSE_SLOW: "slow_client",
        CLOSE_GOING_AWAY: "shutdown",
    }.get(session.close_code, "closed")
