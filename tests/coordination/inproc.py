"""In-process helpers: the coordination service on a memory context, bus sessions, callers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from kizuna.coordination import plugin
from kizuna.coordination.models import RequestIn
from kizuna.coordination.service import RequestService
from kizuna.core.labels import Label
from kizuna.core.records import Text
from kizuna.kernel.bus import PushBus
from kizuna.kernel.context import Caller, NodeContext
from kizuna.node.users import make_user, principal_of


def start(ctx: NodeContext) -> RequestService:
    """Start the plugin on ``ctx`` the way a node does: record types first."""
    for rt in plugin.record_types():
        ctx.events.register_merge(rt.name, rt.merge)
    service: RequestService = plugin.start(ctx)
    return service


def caller(
    ctx: NodeContext, name: str, nation: str = "USA", clearance: str = "SECRET", *roles: str
) -> Caller:
    user, _ = make_user(name, nation, clearance, [], list(roles), ctx.groups)
    return Caller(user, principal_of(user, ctx.groups))


def ask(
    due: str | None = None, title: str = "Fuel", label: str = "S//REL TO USA, JPN"
) -> RequestIn:
    return RequestIn(
        addressees=["usfj"],
        kind="support",
        precedence="FLASH",
        label=label,
        title=Text(en=title),
        due=due,
    )


class RecordingBus(PushBus):
    """The node's bus, remembering every publish (topic, item, label)."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, dict[str, Any], Label]] = []

    def publish(self, topic: str, item: Any, label: Label) -> None:
        self.published.append((topic, dict(item), label))
        super().publish(topic, item, label)

    def items(self, topic: str) -> list[dict[str, Any]]:
        return [item for t, item, _ in self.published if t == topic]


class FakeSocket:
    """A WebSocket as the bus sees it: never sends, records every frame it is sent."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def receive_data(self, mode: Any) -> Any:
        await asyncio.Event().wait()

    async def send_text(self, data: str) -> None:
        self.frames.append(json.loads(data))
        self.arrived.set()

    async def close(self) -> None:
        pass

    async def until(
        self, want: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        """The first frame ``want`` accepts (a hang guard, not a timing assertion)."""

        async def wait() -> dict[str, Any]:
            seen = 0
            while True:
                for frame in self.frames[seen:]:
                    if want(frame):
                        return frame
                seen = len(self.frames)
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(wait(), timeout)


async def session(bus: PushBus, who: Caller) -> tuple[FakeSocket, asyncio.Task[None]]:
    """Open a bus session for ``who``; cancel the task to close it."""
    sock = FakeSocket()
    before = bus.subscribers
    task = asyncio.create_task(bus.serve(sock, who.principal, who.name))
    while bus.subscribers == before:
        if task.done():
            task.result()
        await asyncio.sleep(0)
    return sock, task
