"""The MDA API against a real node process: events from reported AIS tracks, verdicts,
zones and the watchlist, the WebSocket push, every read release-checked, problem+json."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.nodes import NodeProcess

PROBLEM = "application/problem+json"
T0 = dt.datetime(2016, 1, 12, 13, 0, tzinfo=dt.UTC)
A, B = 235000001, 235000002
REL = "S//REL TO USA, JPN"
SOLENT = [[50.70, -1.40], [50.70, -1.20], [50.80, -1.20], [50.80, -1.40]]
EVENT_KEYS = {
    "id",
    "type",
    "status",
    "start",
    "end",
    "vessels",
    "position",
    "evidence",
    "label",
    "label_ja",
    "rel_to",
    "classification",
    "detail",
    "verdicts",
    "covered_by",
}


@pytest.fixture
def usfj(node_factory: Callable[..., NodeProcess]) -> NodeProcess:
    return node_factory("usfj", "USA")


def ais(mmsi: int, minutes: int, lat: float, lon: float) -> dict[str, Any]:
    t = T0 + dt.timedelta(minutes=minutes)
    return {
        "label": REL,
        "source": "ais",
        "source_id": str(mmsi),
        "mmsi": mmsi,
        "lat": lat,
        "lon": lon,
        "speed": 10 * 0.514444,
        "observed_at": t.isoformat().replace("+00:00", "Z"),
        "cot_type": "a-u-S",
    }


def report_silence(client: httpx.Client) -> None:
    """A reports every 10 min for 9 h at 10 kn; B for the first hour, then from 8 h 10 min."""
    for step in range(55):
        minutes = step * 10
        batch = [ais(A, minutes, 50.60 + step * 0.0278, -1.60)]
        if minutes <= 60 or minutes >= 490:
            batch.append(ais(B, minutes, 50.75 + step * 0.0278, -1.30))
        r = client.post("/api/v1/tracks", json=batch)
        assert r.status_code == 200 and r.json()["accepted"] == len(batch), r.text


def wait(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _problem(r: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    wanted = status if isinstance(status, tuple) else (status,)
    assert r.status_code in wanted, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    return dict(r.json())


async def test_a_gap_from_reported_tracks_is_listed_pushed_and_judged(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    jack = usfj.user("jack", "AUS", "TOP SECRET")
    url = f"ws://127.0.0.1:{usfj.port}/api/v1/ws?token="
    token = alice.headers["Authorization"].split()[1]
    async with connect(url + token) as ws:
        await ws.send(json.dumps({"type": "subscribe", "bbox": [-10, 40, 10, 60]}))
        await asyncio.to_thread(report_silence, alice)

        async def pushed() -> dict[str, Any]:
            while True:
                msg = dict(json.loads(await ws.recv()))
                if msg["type"] == "mda_event" and msg["item"]["status"] == "closed":
                    return msg

        push = await asyncio.wait_for(pushed(), 30)
    gaps = wait(
        "the closed gap",
        lambda: alice.get("/api/v1/mda/events", params={"type": "gap", "status": "closed"}).json(),
    )
    [gap] = gaps
    assert push["item"]["id"] == gap["id"] and push["item"]["label"] == gap["label"]
    assert set(gap) >= EVENT_KEYS
    assert gap["type"] == "gap" and gap["vessels"] == [str(B)]
    assert gap["start"] == "2016-01-12T14:00:00.000Z" and gap["end"] == "2016-01-12T21:10:00.000Z"
    assert gap["label"] == "SECRET//REL TO USA, JPN" and gap["label_ja"].startswith("極秘")
    assert set(gap["position"]) == {"lat", "lon"}
    assert {e["source"] for e in gap["evidence"]} == {"api:alice"}
    assert alice.get(f"/api/v1/mda/events/{gap['id']}").json() == gap
    # filters and the release check
    assert alice.get("/api/v1/mda/events", params={"type": "loitering"}).json() == []
    box = {"bbox": "139,35,140,36"}
    assert alice.get("/api/v1/mda/events", params=box).json() == []
    assert alice.get("/api/v1/mda/events", params={"since": "2016-01-13T00:00:00Z"}).json() == []
    assert jack.get("/api/v1/mda/events").json() == []
    assert jack.get(f"/api/v1/mda/events/{gap['id']}").status_code == 404
    # a verdict, then bad ones
    r = alice.post(
        f"/api/v1/mda/events/{gap['id']}/verdict", json={"verdict": "confirmed", "note": "STS?"}
    )
    assert r.status_code == 200, r.text
    [v] = r.json()["verdicts"]
    assert (v["node"], v["verdict"], v["note"], v["by"]) == ("usfj", "confirmed", "STS?", "alice")
    _problem(
        alice.post(f"/api/v1/mda/events/{gap['id']}/verdict", json={"verdict": "maybe"}),
        (400, 422),
    )
    _problem(alice.post("/api/v1/mda/events/nope/verdict", json={"verdict": "confirmed"}), 404)
    for params, name in (
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "0,60,10,50"}, "bbox"),
        ({"type": "piracy"}, "type"),
        ({"status": "done"}, "status"),
        ({"since": "yesterday"}, "since"),
    ):
        body = _problem(alice.get("/api/v1/mda/events", params=params), 400)
        assert body["parameter"] == name, body
    status = alice.get("/api/v1/mda/status").json()
    assert status["fixes"] == 55 + 7 + 6 and status["dropped"] == 0  # every report


def test_zones_and_watchlist_crud(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    viewer = usfj.user("val", "USA", "SECRET", "--role", "viewer")
    jack = usfj.user("jack", "AUS", "TOP SECRET")
    zone = {"label": REL, "name": {"en": "Solent", "ja": "ソレント"}, "polygon": SOLENT}
    r = alice.post("/api/v1/mda/zones", json={**zone, "kind": "territorial_sea"})
    assert r.status_code == 201, r.text
    z = r.json()
    assert z["polygon"] == SOLENT and z["kind"] == "territorial_sea"
    assert z["label"] == "SECRET//REL TO USA, JPN" and z["name"]["ja"] == "ソレント"
    assert alice.get(f"/api/v1/mda/zones/{z['id']}").json() == z
    assert [x["id"] for x in alice.get("/api/v1/mda/zones").json()] == [z["id"]]
    assert jack.get("/api/v1/mda/zones").json() == []
    assert jack.get(f"/api/v1/mda/zones/{z['id']}").status_code == 404
    bowtie = [[50.7, -1.4], [50.8, -1.2], [50.7, -1.2], [50.8, -1.4]]
    body = _problem(alice.post("/api/v1/mda/zones", json={**zone, "polygon": bowtie}), 422)
    assert "cross" in body["detail"]
    _problem(alice.post("/api/v1/mda/zones", json={**zone, "polygon": SOLENT[:2]}), 422)
    _problem(alice.post("/api/v1/mda/zones", json={**zone, "polygon": [[95, 0]] * 3}), (400, 422))
    _problem(alice.post("/api/v1/mda/zones", json={**zone, "kind": "moat"}), (400, 422))
    _problem(viewer.post("/api/v1/mda/zones", json=zone), 403)
    _problem(alice.post("/api/v1/mda/zones", json={**zone, "label": "TS//NOFORN"}), 403)
    moved = [[50.6, -1.4], [50.6, -1.1], [50.9, -1.1]]
    r = alice.patch(f"/api/v1/mda/zones/{z['id']}", json={"polygon": moved})
    assert r.status_code == 200 and r.json()["polygon"] == moved, r.text
    assert alice.delete(f"/api/v1/mda/zones/{z['id']}").status_code == 204
    assert alice.get(f"/api/v1/mda/zones/{z['id']}").status_code == 404

    r = alice.post(
        "/api/v1/mda/watchlist",
        json={"label": REL, "mmsi": B, "imo": 9074729, "name": "SEA STAR", "reason": "STS"},
    )
    assert r.status_code == 201, r.text
    w = r.json()
    assert (w["mmsi"], w["imo"], w["name"], w["reason"]) == (str(B), 9074729, "SEA STAR", "STS")
    assert jack.get("/api/v1/mda/watchlist").json() == []
    r = alice.patch(f"/api/v1/mda/watchlist/{w['id']}", json={"reason": "cleared"})
    assert r.status_code == 200 and r.json()["reason"] == "cleared"
    _problem(alice.post("/api/v1/mda/watchlist", json={"label": REL}), 422)
    _problem(alice.post("/api/v1/mda/watchlist", json={"label": REL, "imo": 12}), (400, 422))
    assert alice.delete(f"/api/v1/mda/watchlist/{w['id']}").status_code == 204
    assert alice.get("/api/v1/mda/watchlist").json() == []
