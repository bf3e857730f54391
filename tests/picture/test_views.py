"""The picture's routes in-process: typed answers with today's JSON, refusals, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from kizuna.api.app import create_app
from kizuna.node.runtime import Node
from tests.picture.support import in_process_node, report, user_token

PROBLEM = "application/problem+json"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    node = in_process_node(tmp_path / "usfj")
    yield node
    node.close()


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(node)) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_report_read_geojson_and_history(node: Node, client: TestClient) -> None:  # type: ignore[type-arg]
    alice = auth(user_token(node, "alice", "USA", "SECRET"))
    kenji = auth(user_token(node, "kenji", "JPN", "SECRET"))
    r = client.post(
        "/api/v1/tracks",
        headers=alice,
        json=[
            report("S//REL TO JPN, USA", 35.1, 139.7, id="ddg-1", cot_type="a-f-S-C", speed=7.5),
            report("S//NOFORN", 35.2, 139.8, id="sub-1"),
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "accepted": 2,
        "unchanged": 0,
        "rejected": 0,
        "problems": [],
        "ids": ["ddg-1", "sub-1"],
    }
    t = client.get("/api/v1/tracks/ddg-1", headers=kenji).json()
    assert set(t) == {
        "id", "source", "source_id", "callsign", "name", "lat", "lon", "course", "speed",
        "hae", "sidc", "cot_type", "affiliation", "observed_at", "stale_at", "stale",
        "ship_type", "mmsi", "remarks", "sources", "label", "label_fgi", "label_ja",
        "classification", "rel_to", "noforn", "exercise", "originator",
    }  # fmt: skip
    assert (t["affiliation"], t["speed"], t["course"], t["stale"]) == ("friend", 7.5, None, False)
    assert t["label"] == "SECRET//REL TO USA, JPN" and t["originator"] == "USA"
    assert t["sources"] == [
        {
            "source": "manual",
            "source_id": "ddg-1",
            "observed_at": t["observed_at"],
            "connection": "api:alice",
        }
    ]
    assert [x["id"] for x in client.get("/api/v1/tracks", headers=kenji).json()] == ["ddg-1"]
    gj = client.get("/api/v1/tracks.geojson", headers=kenji, params={"bbox": "139,35,140,36"})
    assert gj.headers["content-type"].startswith("application/geo+json")
    assert gj.json() == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "ddg-1",
                "geometry": {"type": "Point", "coordinates": [139.7, 35.1]},
                "properties": t,
            }
        ],
    }
    client.post("/api/v1/tracks", headers=alice, json=[report("U", 35.3, 139.9, id="ddg-1")])
    hist = client.get("/api/v1/tracks/ddg-1/history", headers=kenji).json()
    assert [(p["lat"], p["lon"]) for p in hist] == [(35.1, 139.7), (35.3, 139.9)]
    assert set(hist[0]) == {"lat", "lon", "observed_at", "course", "speed"}


def test_hidden_tracks_are_404_and_the_refusal_is_audited(
    node: Node,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    alice = auth(user_token(node, "alice", "USA", "TOP SECRET"))
    kenji = auth(user_token(node, "kenji", "JPN", "SECRET"))
    client.post("/api/v1/tracks", headers=alice, json=[report("S//NOFORN", 1, 1, id="nf")])
    for path in ("/api/v1/tracks/nf", "/api/v1/tracks/nf/history", "/api/v1/tracks/nope"):
        r = client.get(path, headers=kenji)
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    refused = node.metrics.refused.labels("read_label")._value.get()
    assert refused == 2  # the existing hidden track, twice; an absent one is not a refusal
    entries = [json.loads(line) for line in node.dir.audit.read_text().splitlines()]
    refusals = [e for e in entries if e["outcome"] == "refused"]
    assert [(e["actor"], e["details"]["reason"], e["details"]["record_id"]) for e in refusals] == [
        ("kenji", "read_label", "nf")
    ] * 2
    # a JPN writer may not write NOFORN; the write refusal is counted too
    r = client.post("/api/v1/tracks", headers=kenji, json=[report("S//NOFORN", 1, 1)])
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    assert node.metrics.refused.labels("write_label")._value.get() == 1


@pytest.mark.parametrize("bbox", ["1,2,3", "0,10,1,5", "nan,0,1,1"])
def test_bad_bbox_and_reports_are_problem_json(
    node: Node,
    client: TestClient,  # type: ignore[type-arg]
    bbox: str,
) -> None:
    alice = auth(user_token(node, "alice", "USA", "SECRET"))
    for path in ("/api/v1/tracks", "/api/v1/tracks.geojson"):
        r = client.get(path, headers=alice, params={"bbox": bbox})
        assert r.status_code == 400 and r.headers["content-type"].startswith(PROBLEM)
        assert "bbox" in r.json()["detail"]
    r = client.post(
        "/api/v1/tracks", headers=alice, json=[report("U", 0, 0, observed_at="2099-01-01T00:00Z")]
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    too_many = [report("U", 0, 0)] * 10_001  # within the body size limit
    r = client.post("/api/v1/tracks", headers=alice, json=too_many)
    assert r.status_code == 422 and "at most 10000" in r.json()["detail"]
    assert client.get("/api/v1/tracks", headers=alice).json() == []


def test_openapi_describes_every_picture_answer(client: TestClient) -> None:  # type: ignore[type-arg]
    paths = client.get("/api/docs/openapi.json").json()["paths"]
    for path, method in (
        ("/api/v1/tracks", "get"),
        ("/api/v1/tracks", "post"),
        ("/api/v1/tracks/{track_id}", "get"),
        ("/api/v1/tracks/{track_id}/history", "get"),
        ("/api/v1/tracks.geojson", "get"),
    ):
        ok = paths[path][method]["responses"]["200"]
        assert next(iter(ok["content"].values()))["schema"], (path, method)
    assert "/api/v1/facilities" not in paths  # its own plugin now
