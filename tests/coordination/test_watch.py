"""The change feed and the overdue watch on the node's bus, and `kizuna request list`,
in-process on a memory context (no node directory, no server)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
import typer.testing

from kizuna.coordination import plugin
from kizuna.coordination.models import TransitionIn
from kizuna.coordination.service import RequestService
from kizuna.kernel.testing import memory_context
from tests.coordination.inproc import RecordingBus, ask, caller, session, start


async def test_overdue_pushed_once_and_changes_published() -> None:
    ctx = memory_context()
    bus = ctx.bus = RecordingBus()
    service = start(ctx)
    op = caller(ctx, "op")
    sock, served = await session(bus, op)
    watcher = asyncio.create_task(service.watch_overdue(interval=3600))
    on_time = service.create(op, ask(title="on time"))
    late = service.create(op, ask(due="2020-01-01T00:00:00Z", title="late"))
    pushed = await sock.until(lambda m: m["type"] == "overdue")
    service.transition(op, late.record_id, TransitionIn(to="SUBMITTED"))
    service.transition(op, on_time.record_id, TransitionIn(to="SUBMITTED"))
    # Let the watch run its wake-ups for those changes; the late one must not repeat.
    for _ in range(5):
        await asyncio.sleep(0)
    watcher.cancel()
    served.cancel()
    await asyncio.gather(watcher, served, return_exceptions=True)
    ctx.backend.close()

    overdue = bus.items("overdue")
    assert [(p["id"], p["overdue"], p["title"]["en"]) for p in overdue] == [
        (late.record_id, True, "late")
    ]
    assert "comments" not in overdue[0] and overdue[0]["label"] == "SECRET//REL TO USA, JPN"
    assert pushed["item"] == overdue[0]
    assert [label.render() for t, _, label in bus.published if t == "overdue"] == [
        late.label.render()
    ]
    assert [p["id"] for p in bus.items("request")] == [
        on_time.record_id,
        late.record_id,
        late.record_id,
        on_time.record_id,
    ]
    assert [p["status"] for p in bus.items("request")] == [
        "DRAFT",
        "DRAFT",
        "SUBMITTED",
        "SUBMITTED",
    ]


async def test_pushes_reach_only_sessions_that_may_see_the_request() -> None:
    ctx = memory_context()
    service = start(ctx)
    alice = caller(ctx, "alice", "USA", "SECRET")
    jack = caller(ctx, "jack", "AUS", "SECRET")
    ws_a, served_a = await session(ctx.bus, alice)
    ws_j, served_j = await session(ctx.bus, jack)
    watcher = asyncio.create_task(service.watch_overdue(interval=3600))
    past = "2020-01-01T00:00:00Z"
    secret = service.create(alice, ask(due=past, label="S//REL TO USA, JPN")).record_id
    shared = service.create(alice, ask(due=past, label="S//REL TO USA, AUS")).record_id
    try:
        got = await ws_a.until(lambda m: m["type"] == "overdue" and m["item"]["id"] == secret)
        assert got["item"]["overdue"] is True
        await ws_a.until(lambda m: m["type"] == "request" and m["item"]["id"] == secret)
        await ws_j.until(lambda m: m["type"] == "overdue" and m["item"]["id"] == shared)
        await ws_j.until(lambda m: m["type"] == "request" and m["item"]["id"] == shared)
        await asyncio.sleep(3 * ctx.bus.interval)  # any later flush would show here
    finally:
        for task in (watcher, served_a, served_j):
            task.cancel()
        await asyncio.gather(watcher, served_a, served_j, return_exceptions=True)
        ctx.backend.close()
    assert all(m.get("item", {}).get("id") != secret for m in ws_j.frames)
    assert {m["item"]["id"] for m in ws_a.frames if m["type"] == "overdue"} == {secret, shared}


def test_no_summaries_built_while_nobody_listens() -> None:
    ctx = memory_context()
    bus = ctx.bus = RecordingBus()
    service = start(ctx)
    service.create(caller(ctx, "op"), ask())
    ctx.backend.close()
    assert bus.published == []


class Handle:
    """What the CLI root's open_node gives a plugin: started services, then close()."""

    def __init__(self, root: Path) -> None:
        self.ctx = memory_context(root=root)
        self.services = {"coordination": start(self.ctx)}

    def service(self, name: str) -> RequestService:
        return self.services[name]

    def close(self) -> None:
        self.ctx.backend.close()


def test_cli_lists_requests(tmp_path: Path) -> None:
    node = Handle(tmp_path)
    service = node.service("coordination")
    op = caller(node.ctx, "op")
    service.create(op, ask(title="late", due="2020-01-01T00:00:00Z"))
    service.create(op, ask(title="fresh"))
    node.close()
    opened: list[Handle] = []

    def open_node(root: Path) -> Handle:
        opened.append(Handle(root))
        return opened[-1]

    app = typer.Typer()  # mounted the way the CLI root mounts a plugin's groups
    for group, sub in plugin.cli(open_node).items():
        app.add_typer(sub, name=group)
    runner = typer.testing.CliRunner()
    out = runner.invoke(app, ["request", "list", "--dir", str(tmp_path), "--json", "--overdue"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [(r["title"]["en"], r["status"], r["overdue"]) for r in rows] == [
        ("late", "DRAFT", True)
    ]
    table = runner.invoke(app, ["request", "list", "--dir", str(tmp_path)])
    assert table.exit_code == 0 and "fresh" in table.output and "OVERDUE" in table.output
    status = runner.invoke(
        app, ["request", "list", "--dir", str(tmp_path), "--status", "submitted"]
    )
    assert status.exit_code == 0 and "late" not in status.output
    assert [h.ctx.root for h in opened] == [tmp_path] * 3


def test_cli_without_the_plugin_started(tmp_path: Path) -> None:
    class Bare(Handle):
        def service(self, name: str) -> RequestService:
            raise KeyError(name)

    app = typer.Typer()
    app.add_typer(plugin.cli(Bare)["request"], name="request")
    out = typer.testing.CliRunner().invoke(app, ["request", "list", "--dir", str(tmp_path)])
    assert out.exit_code == 2 and "not enabled" in out.output
