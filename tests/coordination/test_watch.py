"""The change feed and the overdue watcher, on a real node directory (no server)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
import typer.testing

from kizuna.cli_request import request_app
from kizuna.coordination.models import RequestIn, TransitionIn
from kizuna.coordination.service import RequestService, on_request_change, watch_overdue
from kizuna.core.records import RecordState, Text
from kizuna.node.runtime import Caller, Node
from kizuna.node.users import make_user, principal_of
from tests.nodes import make_node_dir


def operator(node: Node) -> Caller:
    user, _ = make_user("op", "USA", "SECRET", [], [], node.groups)
    return Caller(user, principal_of(user, node.groups))


def ask(due: str | None = None, title: str = "Fuel") -> RequestIn:
    return RequestIn(
        addressees=["usfj"],
        kind="support",
        precedence="FLASH",
        label="S//REL TO USA, JPN",
        title=Text(en=title),
        due=due,
    )


async def test_overdue_pushed_once_and_changes_published(tmp_path: Path) -> None:
    node = Node(make_node_dir(tmp_path / "usfj", "usfj", "USA"))
    op = operator(node)
    service = RequestService(node)
    changes: list[RecordState] = []
    unsubscribe = on_request_change(node, changes.append)

    pushed: list[dict[str, Any]] = []
    got = asyncio.Event()

    async def push(view: dict[str, Any]) -> None:
        pushed.append(view)
        got.set()

    watcher = asyncio.create_task(watch_overdue(node, push, interval=3600))
    on_time = service.create(op, ask(title="on time"))
    late = service.create(op, ask(due="2020-01-01T00:00:00Z", title="late"))
    await asyncio.wait_for(got.wait(), 30)  # a hang guard, not a timing assertion
    service.transition(op, late.record_id, TransitionIn(to="SUBMITTED"))
    service.transition(op, on_time.record_id, TransitionIn(to="SUBMITTED"))
    # Let the watcher run its wake-ups for those changes; the late one must not repeat.
    for _ in range(5):
        await asyncio.sleep(0)
    watcher.cancel()
    node.close()

    assert [(p["id"], p["overdue"], p["title"]["en"]) for p in pushed] == [
        (late.record_id, True, "late")
    ]
    assert "comments" not in pushed[0] and pushed[0]["label"] == "SECRET//REL TO USA, JPN"
    assert [s.record_id for s in changes] == [
        on_time.record_id,
        late.record_id,
        late.record_id,
        on_time.record_id,
    ]
    unsubscribe()


def test_cli_lists_requests(tmp_path: Path) -> None:
    directory = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    node = Node(directory)
    service = RequestService(node)
    service.create(operator(node), ask(title="late", due="2020-01-01T00:00:00Z"))
    service.create(operator(node), ask(title="fresh"))
    node.close()
    app = typer.Typer()  # mounted the way cli.py mounts it
    app.add_typer(request_app, name="request")
    runner = typer.testing.CliRunner()
    out = runner.invoke(app, ["request", "list", "--dir", str(directory), "--json", "--overdue"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [(r["title"]["en"], r["status"], r["overdue"]) for r in rows] == [
        ("late", "DRAFT", True)
    ]
    table = runner.invoke(app, ["request", "list", "--dir", str(directory)])
    assert table.exit_code == 0 and "fresh" in table.output and "OVERDUE" in table.output
