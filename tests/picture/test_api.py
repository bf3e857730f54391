"""The picture REST API against a real node process."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest

from kizuna.core.release import may_release
from kizuna.picture.rules import parse_bbox
from tests.nodes import NodeProcess
from tests.picture.support import JPN_S, report

PROBLEM = "application/problem+json"


@pytest.fixture
def usfj(node_factory: Callable[..., NodeProcess]) -> NodeProcess:
    return node_factory("usfj", "USA")


def test_report_get_and_view_shape(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    r = alice.post(
        "/api/v1/tracks",
        json=[
            report(
                "S//REL TO JPN, USA",
                35.1,
                139.7,
                id="ddg-1",
                callsign="MUSTIN",
                cot_type="a-f-S-C",
                course=90.0,
                speed=7.5,
                mmsi=369970000,
                observed_at="2030-01-01T00:00:00Z",
            )
        ],
    )
    # observed in the future: refused as a whole, nothing applied
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    r = alice.post(
        "/api/v1/tracks",
        json=[
            report(
                "S//REL TO JPN, USA",
                35.1,
                139.7,
                id="ddg-1",
                callsign="MUSTIN",
                cot_type="a-f-S-C",
                course=90.0,
                speed=7.5,
                mmsi=369970000,
            )
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1 and r.json()["ids"] == ["ddg-1"]
    t = alice.get("/api/v1/tracks/ddg-1").json()
    assert {
        k: t[k]
        for k in (
            "id",
            "source",
            "source_id",
            "callsign",
            "lat",
            "lon",
            "course",
            "speed",
            "affiliation",
            "cot_type",
            "mmsi",
            "stale",
        )
    } == {
        "id": "ddg-1",
        "source": "manual",
        "source_id": "ddg-1",
        "callsign": "MUSTIN",
        "lat": 35.1,
        "lon": 139.7,
        "course": 90.0,
        "speed": 7.5,
        "affiliation": "friend",
        "cot_type": "a-f-S-C",
        "mmsi": 369970000,
        "stale": False,
    }
    assert t["label"] == "SECRET//REL TO USA, JPN" and t["label_ja"].startswith("極秘")
    assert len(t["sidc"]) == 20 and t["observed_at"].endswith("Z")
    assert t["sources"] == [
        {
            "source": "manual",
            "source_id": "ddg-1",
            "observed_at": t["observed_at"],
            "connection": "api:alice",
        }
    ]
    for key in (
        "name",
        "hae",
        "stale_at",
        "ship_type",
        "rel_to",
        "noforn",
        "exercise",
        "originator",
        "classification",
    ):
        assert key in t


def test_release_filtering_and_404_for_hidden(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "TOP SECRET")
    kenji = usfj.user("kenji", "JPN", "SECRET")
    items = [
        report(m, 30.0 + i, 140.0, id=f"t{i}")
        for i, m in enumerate(
            [
                "U",
                "S//REL TO USA, JPN",
                "SECRET//NOFORN",
                "TS//REL TO USA, JPN",
                "C//REL TO USA, AUS",
            ]
        )
    ]
    assert alice.post("/api/v1/tracks", json=items).json()["accepted"] == 5
    assert {t["id"] for t in kenji.get("/api/v1/tracks").json()} == {"t0", "t1"}
    assert {t["id"] for t in alice.get("/api/v1/tracks").json()} == {f"t{i}" for i in range(5)}
    for hidden in ("t2", "t3", "t4", "nope"):
        for path in (f"/api/v1/tracks/{hidden}", f"/api/v1/tracks/{hidden}/history"):
            r = kenji.get(path)
            assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    features = kenji.get("/api/v1/tracks.geojson").json()["features"]
    assert {f["id"] for f in features} == {"t0", "t1"}
    # a JPN writer may not write NOFORN (it would lock JPN out of its own data)
    r = kenji.post("/api/v1/tracks", json=[report("S//NOFORN", 1, 1)])
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)


def test_bbox_matches_brute_force(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    kenji = usfj.user("kenji", "JPN", "SECRET")
    rnd = random.Random(11)
    labels = ["U", "S//REL TO USA, JPN", "S//NOFORN"]
    items = [
        report(
            rnd.choice(labels),
            round(rnd.uniform(20, 45), 4),
            round(
                rnd.choice([rnd.uniform(120, 150), rnd.uniform(175, 180), rnd.uniform(-180, -175)]),
                4,
            ),
            id=f"b{i}",
        )
        for i in range(1500)
    ]
    assert alice.post("/api/v1/tracks", json=items).json()["accepted"] == 1500
    from kizuna.core.labels import parse_label

    for text in (
        "130,30,135,35",
        "139.5,35.2,139.9,35.9",
        "178,20,-178,45",
        "0,0,1,1",
        "-180,-90,180,90",
        "120,20,150,45",
    ):
        box = parse_bbox(text)
        expected = sorted(
            i["id"]
            for i in items
            if box.contains(i["lat"], i["lon"]) and may_release(parse_label(i["label"]), JPN_S)
        )
        got = [t["id"] for t in kenji.get("/api/v1/tracks", params={"bbox": text}).json()]
        assert got == expected, text
        gj = kenji.get("/api/v1/tracks.geojson", params={"bbox": text})
        assert gj.headers["content-type"].startswith("application/geo+json")
        assert sorted(f["id"] for f in gj.json()["features"]) == expected


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "0,0,200,1", "0,10,1,5", "nan,0,1,1", ""])
def test_bad_bbox_is_problem_json(usfj: NodeProcess, bbox: str) -> None:
    alice = usfj.user(f"u{abs(hash(bbox)) % 10**6}", "USA", "SECRET")
    for path in ("/api/v1/tracks", "/api/v1/tracks.geojson"):
        r = alice.get(path, params={"bbox": bbox})
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert "bbox" in r.json()["detail"]


def test_bad_reports_are_problem_json(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    bad = [
        {"label": "U", "lat": 91, "lon": 0},
        {"label": "U", "lat": 0},
        {"label": "U", "lat": 0, "lon": 0, "colour": "red"},
        {"label": "SECRET//REL TO NARNIA", "lat": 0, "lon": 0},
        {"label": "U", "lat": 0, "lon": 0, "id": "has space"},
        {"label": "U", "lat": 0, "lon": 0, "observed_at": "yesterday"},
        {"label": "U", "lat": 0, "lon": 0, "cot_type": "<xml>"},
    ]
    for body in bad:
        r = alice.post("/api/v1/tracks", json=[body])
        assert 400 <= r.status_code < 500, (body, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    assert alice.post("/api/v1/tracks", json={"label": "U"}).status_code == 400
    assert alice.get("/api/v1/tracks").json() == []
    assert httpx.get(f"{usfj.url}/api/v1/tracks").status_code == 401


def test_history_and_late_reports(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    kenji = usfj.user("kenji", "JPN", "SECRET")
    base = "2025-01-01T00:00:{:02d}Z"
    for s in (10, 20, 30):
        alice.post(
            "/api/v1/tracks",
            json=[
                report(
                    "U",
                    30 + s / 100,
                    140,
                    id="h1",
                    observed_at=base.format(s),
                    course=float(s),
                    stale_at="2099-01-01T00:00:00Z",
                )
            ],
        )
    # a late report does not roll the track back
    r = alice.post(
        "/api/v1/tracks",
        json=[
            report("U", 0, 0, id="h1", observed_at=base.format(15), stale_at="2099-01-01T00:00:00Z")
        ],
    )
    assert r.json()["unchanged"] == 1
    # a SECRET//NOFORN observation of the same object from another source
    alice.post(
        "/api/v1/tracks",
        json=[
            report(
                "S//NOFORN",
                31,
                141,
                id="h1",
                source="cot",
                source_id="X1",
                observed_at=base.format(40),
                stale_at="2099-01-01T00:00:00Z",
            )
        ],
    )
    t = alice.get("/api/v1/tracks/h1").json()
    assert (t["lat"], t["source"]) == (31, "cot") and len(t["sources"]) == 2
    k = kenji.get("/api/v1/tracks/h1").json()
    assert (k["lat"], k["source"], len(k["sources"])) == (30.3, "manual", 1)
    # history is read from the last 24 h only; these points are older
    assert alice.get("/api/v1/tracks/h1/history").json() == []
    alice.post("/api/v1/tracks", json=[report("U", 32, 142, id="h2")])
    alice.post("/api/v1/tracks", json=[report("U", 32.5, 142.5, id="h2", course=45.0)])
    alice.post("/api/v1/tracks", json=[report("S//NOFORN", 33, 143, id="h2", source="cot")])
    hist = alice.get("/api/v1/tracks/h2/history").json()
    assert [(p["lat"], p["lon"]) for p in hist] == [(32, 142), (32.5, 142.5), (33, 143)]
    assert set(hist[0]) == {"lat", "lon", "observed_at", "course", "speed"}
    assert [p["lat"] for p in kenji.get("/api/v1/tracks/h2/history").json()] == [32, 32.5]
    assert alice.get("/api/v1/tracks/h2/history", params={"limit": 0}).status_code == 400
