"""The push bus ends every session it serves: in bounded time, with a close, its state freed.

In-process, with a fake socket that behaves as the clients an attacker writes: one that
sends nothing but bad messages, one that stops reading (every send blocks), one whose close
never completes. Each session must end, free its state and leave nothing running. (That the
connection itself is then released, with a real server, is tests/e2e/test_abuse.py.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect

from kizuna.core.labels import Classification, parse_label
from kizuna.core.release import Principal
from kizuna.kernel.bus import MAX_BAD_MESSAGES, PushBus, Send, Session
from kizuna.kernel.bus import json_too_deep as bus_json_too_deep

ALICE = Principal(nation="USA", clearance=Classification.SECRET)


class FakeSocket:
    """A client: ``incoming`` are the frames it sends (None: it disconnects)."""

    def __init__(
        self,
        incoming: list[str | None] | None = None,
        *,
        reads: bool = True,
        closes: bool = True,
    ) -> None:
        self.incoming: asyncio.Queue[str | None] = asyncio.Queue()
        for frame in incoming or []:
            self.incoming.put_nowait(frame)
        self.reads = reads  # False: a client that never reads, so every send blocks
        self.closes = closes  # False: the close frame cannot be written either
        self.sent: list[str] = []
        self.closed = 0
        self.code = 0

    async def receive_data(self, mode: Any) -> Any:
        frame = await self.incoming.get()
        if frame is None:
            raise WebSocketDisconnect(detail="gone")
        return frame

    async def send_text(self, data: str) -> None:
        if not self.reads:
            await asyncio.Event().wait()  # blocks for ever, as a full socket buffer does
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        if not self.closes:
            await asyncio.Event().wait()
        self.closed += 1
        self.code = code


class CountingFeed:
    """A feed that does nothing but count (no KeyError hides a sender that keeps running)."""

    name = "counting"
    message_types = frozenset({"count"})

    def __init__(self) -> None:
        self.opened = 0
        self.closed = 0
        self.flushes = 0

    def open(self, session: Session) -> None:
        self.opened += 1

    def receive(self, session: Session, message: Mapping[str, Any]) -> None:
        pass

    async def on_wake(self, session: Session, send: Send) -> None:
        pass

    async def flush(self, session: Session, send: Send) -> None:
        self.flushes += 1

    def stats(self, session: Session) -> dict[str, Any]:
        return {}

    def close(self, session: Session) -> None:
        self.closed += 1


def bad(n: int) -> list[str | None]:
    return ["not json"] * n


async def serve_bounded(bus: PushBus, socket: FakeSocket, timeout: float = 5.0) -> float:
    start = time.monotonic()
    await asyncio.wait_for(bus.serve(socket, ALICE, "alice"), timeout)
    return time.monotonic() - start


@pytest.mark.parametrize("feeds", [0, 1])
async def test_bad_messages_end_the_session_with_a_close(feeds: int) -> None:
    """Many sessions in a row, each closed by the server after MAX_BAD_MESSAGES."""
    bus = PushBus(interval=0.01)
    feed = CountingFeed()
    if feeds:
        bus.add_feed(feed)
    for _ in range(200):
        socket = FakeSocket(bad(MAX_BAD_MESSAGES))  # and then nothing: the client waits
        await serve_bounded(bus, socket)
        assert socket.closed == 1, "the client got no close frame"
        assert sum('"error"' in m for m in socket.sent) == MAX_BAD_MESSAGES
    assert bus.subscribers == 0
    assert feed.opened == feed.closed == (200 if feeds else 0)
    # Nothing of those sessions runs on: the feeds are not flushed any more.
    flushes = feed.flushes
    await asyncio.sleep(0.1)
    assert feed.flushes == flushes
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_a_client_that_never_reads_is_dropped() -> None:
    """Sends that cannot complete end the session after the send timeout; the close too."""
    bus = PushBus(interval=0.01)
    bus.send_timeout = 0.2
    bus.close_timeout = 0.2
    socket = FakeSocket(bad(MAX_BAD_MESSAGES), reads=False, closes=False)
    took = await serve_bounded(bus, socket, timeout=3)
    assert took < 1.5, "the session was not dropped"
    assert bus.subscribers == 0
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_a_silent_client_that_stops_reading_is_dropped() -> None:
    """No bad message at all: a reader that stops taking pushes is dropped, not kept."""
    bus = PushBus(interval=0.01)
    bus.send_timeout = 0.2
    bus.close_timeout = 0.2
    socket = FakeSocket([], reads=False)
    task = asyncio.create_task(bus.serve(socket, ALICE, "alice"))
    await asyncio.sleep(0.05)
    assert bus.subscribers == 1
    bus.publish("note", {"id": "n1"}, parse_label("U"))
    await asyncio.wait_for(task, 3)
    assert bus.subscribers == 0


async def test_a_client_that_disconnects_frees_its_session() -> None:
    bus = PushBus(interval=0.01)
    feed = CountingFeed()
    bus.add_feed(feed)
    socket = FakeSocket([*bad(3), None])
    await serve_bounded(bus, socket)
    assert bus.subscribers == 0 and feed.closed == 1


async def test_cancelling_a_session_ends_it_and_propagates() -> None:
    """A server shutting down cancels its sessions: each ends, and the cancellation is kept."""
    bus = PushBus(interval=0.01)
    bus.add_feed(CountingFeed())
    sockets = [FakeSocket([]) for _ in range(50)]
    tasks = [asyncio.create_task(bus.serve(s, ALICE, "alice")) for s in sockets]
    await asyncio.sleep(0.05)
    assert bus.subscribers == 50
    for t in tasks:
        t.cancel()
    done, pending = await asyncio.wait(tasks, timeout=3)
    assert not pending
    assert all(t.cancelled() for t in done), "a session swallowed its cancellation"
    assert bus.subscribers == 0


async def test_close_all_ends_every_session_quickly() -> None:
    bus = PushBus(interval=0.01)
    bus.close_timeout = 0.2
    sockets = [FakeSocket([], closes=i % 2 == 0) for i in range(20)]
    tasks = [asyncio.create_task(bus.serve(s, ALICE, "alice")) for s in sockets]
    await asyncio.sleep(0.05)
    start = time.monotonic()
    await asyncio.wait_for(bus.close_all(), 3)
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 3)
    assert time.monotonic() - start < 1.5
    assert bus.subscribers == 0
    # Each session ended (not cancelled: the server's tasks finish normally), going away.
    assert not any(t.cancelled() for t in tasks)
    assert all(s.closed == 1 and s.code == 1001 for i, s in enumerate(sockets) if i % 2 == 0)
    assert bus.ended["shutdown"] == 20


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("{}", False),
        ("[1, 2, 3]", False),
        ('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', False),  # inside a string
        ('["\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]', False),  # an escaped quote
        ("[" * 32 + "]" * 32, False),
        ("[" * 33 + "]" * 33, True),
        ('{"a":' * 33 + "1" + "}" * 33, True),
        ("[" * 100_000, True),  # unterminated: still too deep
        ("]" * 100_000, False),  # not JSON: left to the decoder
        ("[]" * 100_000, False),
        ('"' + "\\" * 1001, False),  # an unterminated string
    ],
)
def test_json_depth(text: str, deep: bool) -> None:
    assert bus_json_too_deep(text) is deep
    assert bus_json_too_deep(text.encode()) is deep


def test_json_depth_agrees_with_a_direct_count() -> None:
    import json
    import random

    rng = random.Random(17)
    for _ in range(2000):
        stack: list[str] = []
        deepest = 0
        parts: list[str] = []
        for _ in range(rng.randrange(1, 80)):
            move = rng.random()
            if move < 0.45 or not stack:
                opener = rng.choice(["[", "{"])
                parts.append(opener if opener == "[" else '{"k":')
                stack.append("]" if opener == "[" else "}")
            elif move < 0.85:
                parts.append(stack.pop())
            else:
                parts.append(json.dumps(rng.choice(["[[", "]]", '\\"[', "x"])) + ",")
            deepest = max(deepest, len(stack))
        text = "".join(parts)
        assert bus_json_too_deep(text, 10) is (deepest > 10), text


def test_json_depth_is_linear_up_to_a_megabyte() -> None:
    """Four times the text costs about four times the time (a quadratic scan would cost 16):
    this thread's CPU time (time spent descheduled on a busy machine does not count), the best
    of five runs of each size."""

    def cost(text: str) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.thread_time()
            bus_json_too_deep(text)
            best = min(best, time.thread_time() - start)
        return best

    for unit, n in (("[", 2**18), ("[]", 2**17), ('"\\"', 2**16), ("\\", 2**18), ("[1,", 2**16)):
        prefix = '["' if unit == "\\" else ""
        small, large = cost(prefix + unit * n), cost(prefix + unit * 4 * n)
        assert large < 8 * small + 0.005, (unit, small, large)


async def test_deep_json_on_the_socket_is_a_bad_message() -> None:
    bus = PushBus(interval=0.01)
    socket = FakeSocket(["[" * 5000 + "]" * 5000] * MAX_BAD_MESSAGES)
    await serve_bounded(bus, socket)
    assert socket.closed == 1
    assert "nested deeper than" in socket.sent[0]
