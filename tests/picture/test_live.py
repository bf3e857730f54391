"""Live picture over the node's WebSocket against a real node process, and in-process."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import websockets
from litestar.testing import TestClient
from websockets.asyncio.client import ClientConnection, connect

from kizuna.api.app import create_app
from kizuna.core.labels import parse_label
from kizuna.picture.service import PictureService
from kizuna.picture.shown import COMPACT_DEFAULTS
from tests.nodes import NodeProcess
from tests.picture.support import in_process_node, report, track, user_token


@pytest.fixture
def usfj(node_factory: Callable[..., NodeProcess]) -> NodeProcess:
    return node_factory("usfj", "USA")


def ws_url(node: NodeProcess, token: str) -> str:
    return f"ws://127.0.0.1:{node.port}/api/v1/ws?token={token}"


def token_of(client: httpx.Client) -> str:
    return str(client.headers["Authorization"]).split()[1]


async def post(node: NodeProcess, token: str, items: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(
        base_url=node.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        r = await c.post("/api/v1/tracks", json=items)
        assert r.status_code == 200, r.text


async def recv(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await ws.recv()))


async def until(
    ws: ClientConnection, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Messages up to and including the first for which ``done`` holds."""
    seen = []
    while True:
        msg = await recv(ws)
        seen.append(msg)
        if done(msg):
            return seen


def ids_in(msgs: list[dict[str, Any]]) -> set[str]:
    return {i["id"] for m in msgs if m["type"] == "tracks" for i in m["items"]}


def has(tid: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "tracks" and any(i["id"] == tid for i in m["items"])


async def test_refused_without_valid_token(usfj: NodeProcess) -> None:
    for url in (f"ws://127.0.0.1:{usfj.port}/api/v1/ws", ws_url(usfj, "kz_wrong")):
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with connect(url):
                pass


async def test_snapshot_live_push_bbox_and_release(usfj: NodeProcess) -> None:
    alice = token_of(usfj.user("alice", "USA", "TOP SECRET"))
    kenji = token_of(usfj.user("kenji", "JPN", "SECRET"))
    await post(
        usfj,
        alice,
        [
            report("U", 35.0, 139.0, id="in-u"),
            report("S//REL TO USA, JPN", 35.5, 139.5, id="in-rel"),
            report("S//NOFORN", 35.2, 139.2, id="in-noforn"),
            report("U", 10.0, 120.0, id="out-u"),
        ],
    )
    async with connect(ws_url(usfj, kenji), max_size=None) as ws:
        await ws.send(json.dumps({"type": "subscribe", "bbox": [138, 34, 141, 37]}))
        snap = await recv(ws)
        assert snap["type"] == "tracks" and snap["snapshot"] is True
        assert {i["id"] for i in snap["items"]} == {"in-u", "in-rel"}
        assert all("label" in i and i["stale"] is False for i in snap["items"])

        # hidden or outside updates are never pushed; a later visible one is
        await post(
            usfj,
            alice,
            [
                report("S//NOFORN", 35.3, 139.3, id="in-noforn"),
                report("TS//REL TO USA, JPN", 35.3, 139.3, id="in-ts"),
                report("U", 10.1, 120.1, id="out-u"),
            ],
        )
        await post(usfj, alice, [report("U", 36.0, 140.0, id="sentinel", callsign="S1")])
        msgs = await until(ws, has("sentinel"))
        assert ids_in(msgs) <= {"sentinel", "in-u", "in-rel"}
        assert not ids_in(msgs) & {"in-noforn", "in-ts", "out-u"}

        # a track moving out of the bbox is removed; moving in is pushed
        await post(
            usfj, alice, [report("U", 10.0, 100.0, id="in-u"), report("U", 35.9, 139.9, id="out-u")]
        )
        msgs = await until(ws, lambda m: m == {"type": "track_removed", "id": "in-u"})
        msgs += [] if "out-u" in ids_in(msgs) else await until(ws, has("out-u"))
        assert "out-u" in ids_in(msgs)

        # a visible track relabelled NOFORN by the same source disappears for JPN
        await post(usfj, alice, [report("S//NOFORN", 35.5, 139.5, id="in-rel")])
        await until(ws, lambda m: m == {"type": "track_removed", "id": "in-rel"})

        # re-subscribe with filters: the new snapshot replaces the picture
        await post(usfj, alice, [report("U", 35.1, 139.1, id="friend", cot_type="a-f-S")])
        await ws.send(
            json.dumps({"type": "subscribe", "bbox": None, "filters": {"affiliation": ["friend"]}})
        )
        snap = await until(ws, lambda m: m.get("snapshot") is True)
        assert {i["id"] for i in snap[-1]["items"]} == {"friend"}

        await ws.send(json.dumps({"type": "subscribe", "bbox": [1, 2, 3]}))
        err = await until(ws, lambda m: m["type"] == "error")
        assert "bbox" in err[-1]["detail"]


async def test_slow_client_gets_coalesced_latest_state(usfj: NodeProcess) -> None:
    alice = token_of(usfj.user("alice", "USA", "SECRET"))
    n_tracks, rounds = 3000, 15
    # A small fixed receive buffer (no autotuning up to tens of MB) so that a client
    # that stops reading soon stops the server's sends: ~30 MB of updates will flow.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.connect(("127.0.0.1", usfj.port))
    sock.setblocking(False)
    async with connect(
        ws_url(usfj, alice), sock=sock, max_size=None, max_queue=1, compression=None
    ) as ws:
        await ws.send(json.dumps({"type": "subscribe", "bbox": [100, 0, 160, 60]}))
        assert (await recv(ws))["snapshot"] is True
        # The client stops reading while 45,000 updates flow.
        for r in range(rounds):
            await post(
                usfj,
                alice,
                [
                    report(
                        "U",
                        10 + (i % 40) + r / 100,
                        120 + i / 200,
                        id=f"v{i}",
                        callsign=f"r{r}",
                        remarks="x" * 200,
                    )
                    for i in range(n_tracks)
                ],
            )
        latest: dict[str, str] = {}
        while len(latest) < n_tracks or any(c != f"r{rounds - 1}" for c in latest.values()):
            msg = await recv(ws)
            assert msg["type"] == "tracks"
            latest.update((i["id"], i["callsign"]) for i in msg["items"])
        await ws.send(json.dumps({"type": "stats"}))
        stats = (await until(ws, lambda m: m["type"] == "stats"))[-1]
    assert stats["pending_max"] <= n_tracks
    assert stats["items_sent"] < n_tracks * rounds  # updates were coalesced, not queued
    assert stats["pending"] == 0 and stats["shown"] == n_tracks


async def test_subscription_carried_by_the_handshake(usfj: NodeProcess) -> None:
    """``&msg=`` subscribes as the socket opens: the snapshot comes unasked, release-checked,
    in one frame; a bad one is answered with an error and the session goes on."""
    alice = token_of(usfj.user("alice", "USA", "TOP SECRET"))
    kenji = token_of(usfj.user("kenji", "JPN", "SECRET"))
    await post(
        usfj,
        alice,
        [report("U", 35 + i % 100 / 100, 139 + i // 100 / 10, id=f"u-{i}") for i in range(1500)]
        + [report("S//NOFORN", 35.2, 139.2, id="noforn"), report("U", 10.0, 120.0, id="out")],
    )
    first = quote(json.dumps({"type": "subscribe", "bbox": [138, 34, 141, 37]}))
    async with connect(f"{ws_url(usfj, kenji)}&msg={first}", max_size=None) as ws:
        snap = await recv(ws)  # nothing sent by the client
        assert snap["type"] == "tracks" and snap["snapshot"] is True
        assert {i["id"] for i in snap["items"]} == {f"u-{i}" for i in range(1500)}
        # live updates follow as before
        await post(usfj, alice, [report("U", 36.0, 140.0, id="sentinel")])
        await until(ws, has("sentinel"))

    bad = quote(json.dumps({"type": "subscribe", "bbox": [1, 2, 3]}))
    async with connect(f"{ws_url(usfj, kenji)}&msg={bad}", max_size=None) as ws:
        err = await recv(ws)
        assert err["type"] == "error" and "bbox" in err["detail"]
        await ws.send(json.dumps({"type": "subscribe", "bbox": [138, 34, 141, 37]}))
        snap = await until(ws, lambda m: m.get("snapshot") is True)
        assert "noforn" not in ids_in(snap) and "u-0" in ids_in(snap)


def expanded(frame: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A compact frame's items made whole as a client does: label fields, usual values."""
    out = {}
    for item in frame["items"]:
        whole = {**COMPACT_DEFAULTS, **frame["labels"][str(item["l"])], **item}
        del whole["l"]
        out[item["id"]] = whole
    return out


async def test_compact_frames_are_the_full_ones_with_labels_given_once(usfj: NodeProcess) -> None:
    """``"compact": true``: the same tracks as a full subscription once made whole; the labels
    table gives only the labels of the tracks in the frame, so nothing withheld shows there."""
    alice = token_of(usfj.user("alice", "USA", "TOP SECRET"))
    kenji = token_of(usfj.user("kenji", "JPN", "SECRET"))
    await post(
        usfj,
        alice,
        [report("U", 35 + i / 1000, 139.0, id=f"u-{i}", callsign=f"U{i}") for i in range(300)]
        + [report("S//REL TO USA, JPN", 35.5, 139 + i / 100, id=f"s-{i}") for i in range(40)]
        + [report("S//NOFORN", 35.2, 139.2, id=f"nf-{i}") for i in range(10)],
    )
    subscribe = {"type": "subscribe", "bbox": [138, 34, 141, 37]}
    async with (
        connect(ws_url(usfj, kenji), max_size=None) as full_ws,
        connect(ws_url(usfj, kenji), max_size=None) as compact_ws,
    ):
        await full_ws.send(json.dumps(subscribe))
        await compact_ws.send(json.dumps({**subscribe, "compact": True}))
        full = (await until(full_ws, lambda m: m.get("snapshot") is True))[-1]
        compact = (await until(compact_ws, lambda m: m.get("snapshot") is True))[-1]
        assert "labels" not in full
        whole = expanded(compact)
        assert whole == {item["id"]: item for item in full["items"]}
        assert len(whole) == 340  # no NOFORN track
        shown = {t["label"] for t in compact["labels"].values()}
        assert shown == {"UNCLASSIFIED", "SECRET//REL TO USA, JPN"}
        assert len(json.dumps(compact)) < 0.7 * len(json.dumps(full))
        # Live changes come compact too, each frame with the labels of its own items.
        await post(usfj, alice, [report("S//REL TO USA, JPN", 36.0, 140.0, id="late")])
        frame = (await until(compact_ws, has("late")))[-1]
        late = expanded(frame)["late"]
        assert late["label"] == "SECRET//REL TO USA, JPN" and late["rel_to"] == ["USA", "JPN"]


def test_generic_publish_and_stale_sweep_in_process(tmp_path: Path) -> None:
    node = in_process_node(tmp_path / "usfj", picture={"grace": 60, "sweep_interval": 1e9})
    kenji = user_token(node, "kenji", "JPN", "SECRET")
    picture: PictureService = node.service("picture")
    assert picture.grace == 60  # the [picture] table reached the service
    now = [1_000_000.0]
    picture.clock = lambda: now[0]
    picture.ingest([track("s", t=now[0], stale=10, lat=35, lon=139)])
    try:
        with (
            TestClient(create_app(node)) as client,
            client.websocket_connect(f"/api/v1/ws?token={kenji}") as ws,
        ):
            ws.send_json({"type": "subscribe", "bbox": [138, 34, 140, 36]})
            snap = ws.receive_json()
            assert snap["snapshot"] is True
            assert [(i["id"], i["stale"]) for i in snap["items"]] == [("s", False)]
            # the node's bus carries any plugin's pushes beside the picture's frames
            bus = node.bus
            bus.publish("request", {"id": "r1", "title": "secret"}, parse_label("S//NOFORN"))
            bus.publish("request", {"id": "r2", "title": "v1"}, parse_label("S//REL TO USA, JPN"))
            bus.publish("request", {"id": "r2", "title": "v2"}, parse_label("S//REL TO USA, JPN"))
            bus.publish("overdue", {"id": "r3"}, parse_label("U"))
            got = [ws.receive_json(), ws.receive_json()]
            assert got == [
                {"type": "request", "item": {"id": "r2", "title": "v2"}},
                {"type": "overdue", "item": {"id": "r3"}},
            ]
            now[0] += 11
            picture.sweep()
            msg = ws.receive_json()
            assert [(i["id"], i["stale"]) for i in msg["items"]] == [("s", True)]
            now[0] += 60
            picture.sweep()
            assert ws.receive_json() == {"type": "track_removed", "id": "s"}
            ws.send_json({"type": "stats"})
            stats = ws.receive_json()
            assert stats["type"] == "stats" and stats["removed_sent"] == 1
            assert (stats["shown"], stats["pending"], stats["messages_dropped"]) == (0, 0, 0)
            assert stats["batches"] == 2 and stats["items_sent"] == 2
            # a bad subscription is answered with an error and changes nothing
            ws.send_json({"type": "subscribe", "bbox": [1, 2, 3]})
            assert "bbox" in ws.receive_json()["detail"]
            ws.send_json({"type": "subscribe", "colour": "red"})
            assert ws.receive_json()["type"] == "error"
    finally:
        node.close()


def test_sweep_runs_from_the_feed_and_sessions_free_their_state(tmp_path: Path) -> None:
    """With no other caller, the live feed's flush sweeps stale tracks when one is due."""
    node = in_process_node(tmp_path / "usfj", picture={"grace": 0, "sweep_interval": 0.05})
    kenji = user_token(node, "kenji", "JPN", "SECRET")
    picture: PictureService = node.service("picture")
    now = [1_000_000.0]
    picture.clock = lambda: now[0]
    picture.ingest([track("gone", t=now[0], stale=1), track("kept", t=now[0], stale=1e6)])
    try:
        with (
            TestClient(create_app(node)) as client,
            client.websocket_connect(f"/api/v1/ws?token={kenji}") as ws,
        ):
            ws.send_json({"type": "subscribe", "bbox": None})
            assert {i["id"] for i in ws.receive_json()["items"]} == {"gone", "kept"}
            assert node.bus.subscribers == 1
            [session] = node.bus.sessions()
            assert "picture" in session.feed_state
            now[0] += 2  # past stale + grace: the next flush sweeps
            assert ws.receive_json() == {"type": "track_removed", "id": "gone"}
            assert picture.entry("gone") is None and picture.entry("kept") is not None
        deadline = time.monotonic() + 5
        while node.bus.subscribers and time.monotonic() < deadline:
            time.sleep(0.01)
        assert node.bus.subscribers == 0 and "picture" not in session.feed_state
    finally:
        node.close()
