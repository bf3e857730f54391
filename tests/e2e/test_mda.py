"""MDA across three real nodes: an AIS gap raised on USFJ, judged on JJOC, kept from AUS.

USFJ imports two NMEA files with tag-block times (``kizuna ingest ais FILE --label``) before
it starts: in each, one vessel goes silent for 7 h while another keeps reporting. The first
file is labelled SECRET//REL TO USA, JPN, the second UNCLASSIFIED. Both gaps are raised on
USFJ; JJOC receives both under their labels and gives a verdict on the bilateral one, which
reaches USFJ; AUS receives the UNCLASSIFIED gap (the link works) and never the bilateral
event nor its verdict. A bilateral zone travels the same way.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyais
import pytest

from kizuna.sources.ais.nmea import checksum
from tests.cluster import Cluster
from tests.nodes import NodeProcess, free_port, kizuna, make_node_dir

TYPES = "report,track,request,audit_head,mda_event,mda_zone,mda_watch"
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
REL = "S//REL TO USA, JPN"


def wait(what: str, probe: Callable[[], Any], timeout: float = 45.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def sentence(mmsi: int, t: int, lat: float, lon: float) -> str:
    data: dict[str, str | int | float | bytes | bool] = {
        "type": 1,
        "mmsi": mmsi,
        "lat": lat,
        "lon": lon,
        "speed": 10.0,
        "course": 0.0,
    }
    text = pyais.encode_dict(data, talker_id="AI", sentence_type="VDM")[0]
    tag = f"s:sagami,c:{t}".encode()
    return f"\\{tag.decode()}*{checksum(tag):02X}\\{text}"


def silence_file(path: Path, steady: int, silent: int) -> Path:
    """``steady`` reports every 10 min for 9 h at 10 kn; ``silent`` for the first hour and
    again from 8 h 10 min: a 7 h 10 min gap, from T0 + 1 h to T0 + 8 h 10 min."""
    lines = []
    for step in range(55):
        t = T0 + step * 600
        lines.append(sentence(steady, t, 34.60 + step * 0.0278, 141.30))
        if step <= 6 or step >= 49:
            lines.append(sentence(silent, t, 34.70 + step * 0.0278, 141.50))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path)
    cluster.node("jjoc", "JPN")
    cluster.node("usfj", "USA")
    cluster.node("aus", "AUS")
    for a, b in (("jjoc", "usfj"), ("jjoc", "aus"), ("usfj", "aus")):
        cluster.link(a, b, types=TYPES)
    yield cluster
    cluster.stop()


def _events(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    r = client.get("/api/v1/mda/events", params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


def _event(client: httpx.Client, eid: str) -> dict[str, Any] | None:
    r = client.get(f"/api/v1/mda/events/{eid}")
    return r.json() if r.status_code == 200 else None


def test_a_gap_on_usfj_reaches_jjoc_and_its_verdict_comes_back_aus_sees_neither(
    federation: Cluster, tmp_path: Path
) -> None:
    usfj_dir = federation.nodes["usfj"].dir
    bilateral = silence_file(tmp_path / "bilateral.nmea", 431000001, 431000002)
    shared = silence_file(tmp_path / "shared.nmea", 431000003, 431000004)
    for path, label in ((bilateral, REL), (shared, "UNCLASSIFIED")):
        out = kizuna("ingest", "ais", str(path), "--dir", str(usfj_dir), "--label", label)
        assert "offered 68, accepted 68, rejected 0, tracks 68" in out.stdout, out.stdout
    federation.start()
    us = federation.nodes["usfj"].user("us.watch", "USA", "SECRET")
    jp = federation.nodes["jjoc"].user("jp.watch", "JPN", "SECRET", "--role", "watch")
    au = federation.nodes["aus"].user("au.watch", "AUS", "SECRET")

    gaps = {e["vessels"][0]: e for e in _events(us, type="gap")}
    assert set(gaps) == {"431000002", "431000004"}, gaps
    gap, open_gap = gaps["431000002"], gaps["431000004"]
    for g in (gap, open_gap):
        assert g["status"] == "closed" and g["origin"] == "usfj"
        assert g["start"] == "2023-11-14T23:13:20.000Z" and g["end"] == "2023-11-15T06:23:20.000Z"
    assert gap["label"] == "SECRET//REL TO USA, JPN"
    assert open_gap["label"] == "UNCLASSIFIED"
    assert {e["source"] for e in gap["evidence"]} == {"bilateral.nmea"}
    zone = us.post(
        "/api/v1/mda/zones",
        json={
            "label": REL,
            "name": {"en": "Sagami Bay", "ja": "相模湾"},
            "polygon": [[34.9, 139.1], [34.9, 139.7], [35.3, 139.7], [35.3, 139.1]],
        },
    )
    assert zone.status_code == 201, zone.text
    zid = zone.json()["id"]

    # The bilateral event reaches JJOC under its label, the same id, the same detection.
    seen = wait("the gap at JJOC", lambda: _event(jp, gap["id"]))
    for key in ("type", "status", "start", "end", "vessels", "position", "label", "origin"):
        assert seen[key] == gap[key], key
    assert seen["label_fgi"] == "SECRET//REL TO USA, JPN"
    wait("the zone at JJOC", lambda: jp.get(f"/api/v1/mda/zones/{zid}").status_code == 200)

    # JJOC's verdict, owned by JJOC, reaches USFJ with the event.
    r = jp.post(
        f"/api/v1/mda/events/{gap['id']}/verdict",
        json={"verdict": "confirmed", "note": "JMSDF P-1 sighted the vessel"},
    )
    assert r.status_code == 200, r.text
    back = wait("JJOC's verdict at USFJ", lambda: (_event(us, gap["id"]) or {}).get("verdicts"))
    [v] = back
    assert (v["node"], v["verdict"], v["note"], v["by"]) == (
        "jjoc",
        "confirmed",
        "JMSDF P-1 sighted the vessel",
        "jp.watch",
    )
    assert v["originator"] == "JPN" and v["label"] == "SECRET//REL TO USA, JPN"
    # USFJ's own verdict sits beside it; each node keeps its own
    r = us.post(f"/api/v1/mda/events/{gap['id']}/verdict", json={"verdict": "interference"})
    assert [(x["node"], x["verdict"]) for x in r.json()["verdicts"]] == [
        ("jjoc", "confirmed"),
        ("usfj", "interference"),
    ]
    wait(
        "USFJ's verdict at JJOC",
        lambda: len((_event(jp, gap["id"]) or {}).get("verdicts", [])) == 2,
    )

    # AUS gets what it may see (the UNCLASSIFIED gap), never the bilateral event or zone.
    wait("the shared gap at AUS", lambda: _event(au, open_gap["id"]))
    assert [e["id"] for e in _events(au)] == [open_gap["id"]]
    assert _event(au, gap["id"]) is None
    assert au.get(f"/api/v1/mda/zones/{zid}").status_code == 404
    assert au.get("/api/v1/mda/zones").json() == []
    # JJOC may see both; what it holds of USFJ's events is what USFJ raised
    assert {e["id"] for e in _events(jp)} == {gap["id"], open_gap["id"]}


def test_the_same_file_replayed_or_fed_live_over_udp_gives_the_same_events(
    tmp_path: Path, node_factory: Callable[..., NodeProcess]
) -> None:
    """A file replay (`kizuna ingest ais`) and the same sentences arriving live, one
    datagram each, give the same events with the same ids."""
    path = silence_file(tmp_path / "sagami.nmea", 431000005, 431000006)
    replay_dir = make_node_dir(tmp_path / "replay", "replay", "USA")
    kizuna("ingest", "ais", str(path), "--dir", str(replay_dir))
    replay = NodeProcess(replay_dir)
    replay.start()
    try:
        expected = _events(replay.user("r.watch", "USA", "SECRET"))
    finally:
        replay.stop()
    assert [(e["type"], e["vessels"]) for e in expected] == [("gap", ["431000006"])]
    udp = free_port(1)
    live = node_factory("live", "USA", ais_udp_port=udp)
    watch = live.user("l.watch", "USA", "SECRET")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for n, line in enumerate(path.read_text().splitlines()):
            s.sendto((line + "\r\n").encode(), ("127.0.0.1", udp))
            if n % 10 == 9:
                time.sleep(0.05)  # a receiver's pace, not a burst into the socket buffer
    key = ("id", "type", "status", "start", "end", "vessels", "position")
    got = wait(
        "the live gap closed",
        lambda: [e for e in _events(watch) if e["status"] == "closed"],
    )
    assert [{k: e[k] for k in key} for e in got] == [{k: e[k] for k in key} for e in expected]
