"""Request changes and overdue flags reach browsers over the WebSocket, release-checked."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.nodes import NodeProcess


async def first(ws: ClientConnection, want: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:
        msg = dict(json.loads(await ws.recv()))
        if want(msg):
            return msg


async def test_overdue_request_is_pushed_to_those_who_may_see_it(
    node_factory: Callable[..., NodeProcess],
) -> None:
    node = node_factory("usfj", "USA")
    alice = node.user("alice", "USA", "SECRET")
    jack = node.user("jack", "AUS", "SECRET")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    body = {
        "addressees": ["usfj"],
        "kind": "support",
        "precedence": "FLASH",
        "title": {"en": "Water trucks", "ja": "給水車"},
        "body": {"en": "", "ja": ""},
        "due": past,
    }
    url = f"ws://127.0.0.1:{node.port}/api/v1/ws?token="
    token_a = alice.headers["Authorization"].split()[1]
    token_j = jack.headers["Authorization"].split()[1]
    async with connect(url + token_a) as ws_a, connect(url + token_j) as ws_j:
        for ws in (ws_a, ws_j):
            await ws.send(json.dumps({"type": "subscribe", "bbox": [120, 20, 150, 46]}))
        secret = alice.post("/api/v1/requests", json={**body, "label": "S//REL TO USA, JPN"})
        shared = alice.post("/api/v1/requests", json={**body, "label": "S//REL TO USA, AUS"})
        assert secret.status_code == 201 and shared.status_code == 201, secret.text
        sid, aid = secret.json()["id"], shared.json()["id"]
        got = await asyncio.wait_for(
            first(ws_a, lambda m: m["type"] == "overdue" and m["item"]["id"] == sid), 60
        )
        assert got["item"]["overdue"] is True
        # The AUS user gets the request it may see, and never the one it may not.
        seen: list[dict[str, Any]] = []
        await asyncio.wait_for(
            first(
                ws_j,
                lambda m: seen.append(m) or (m["type"] == "overdue" and m["item"]["id"] == aid),
            ),
            60,
        )
        assert all(m.get("item", {}).get("id") != sid for m in seen)
