"""Facility reservations across three real nodes, checked against access arrangements.

USFJ defines the North Fuji range (a JGSDF area U.S. forces use for limited periods,
SOFA II-4(b)); it reaches JJOC and AUS. AUS reserves it for live fire under the
Japan–Australia RAA: accepted, and seen on JJOC and USFJ as its label allows (a second,
labelled for Australia and Japan only, never reaches USFJ). A U.S. live fire on the same
range, altitude and time is refused on USFJ naming AUS's reservation; the same AUS request
dated before the RAA entered into force is refused naming the RAA; a nation without an
instrument is refused naming the instrument it would need.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster import Cluster

pytestmark = pytest.mark.e2e

FUJI = [[35.40, 138.80], [35.40, 138.90], [35.46, 138.90], [35.46, 138.80]]


def wait(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _has(client: httpx.Client, path: str) -> Callable[[], bool]:
    return lambda: client.get(path).status_code == 200


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[dict[str, Any]]:
    saved = os.environ.get("KIZUNA_FACILITIES")
    os.environ["KIZUNA_FACILITIES"] = str(shared_data / "reference" / "facilities.csv")
    cluster = Cluster(tmp_path_factory.mktemp("reservations"))
    try:
        for node_id, nation in (("jjoc", "JPN"), ("usfj", "USA"), ("aus", "AUS")):
            cluster.node(node_id, nation)
        for a, b in (("jjoc", "usfj"), ("jjoc", "aus"), ("usfj", "aus")):
            cluster.link(a, b)
        cluster.start()
        n = cluster.nodes
        yield {
            "jp": n["jjoc"].user("jp.planner", "JPN", "SECRET", "--role", "watch"),
            "us": n["usfj"].user("us.planner", "USA", "SECRET", "--role", "watch"),
            "au": n["aus"].user("au.planner", "AUS", "SECRET", "--role", "watch"),
        }
    finally:
        cluster.stop()
        if saved is None:
            os.environ.pop("KIZUNA_FACILITIES", None)
        else:
            os.environ["KIZUNA_FACILITIES"] = saved


def test_aus_reserves_a_range_at_a_sofa_facility_under_the_raa(nodes: dict[str, Any]) -> None:
    jp, us, au = nodes["jp"], nodes["us"], nodes["au"]
    area = _ok(
        us.post(
            "/api/v1/training-areas",
            json={
                "label": "UNCLASSIFIED",
                "name": {"en": "North Fuji range", "ja": "北富士演習場"},
                "kind": "range",
                "polygon": FUJI,
                "altitude": {"floor": 0, "ceiling": 200, "unit": "FL"},
                "basis": "sofa_ii_4b",
                "facility_id": "fuji",
                "authority": {"en": "JGSDF", "ja": "陸上自衛隊"},
            },
        ),
        201,
    )
    for client in (jp, au):
        wait("the range on a partner", _has(client, f"/api/v1/training-areas/{area['id']}"))

    def booking(label: str, start: str, end: str, **kw: Any) -> dict[str, Any]:
        return {
            "label": label,
            "place_id": area["id"],
            "start": start,
            "end": end,
            "activity": "live_fire",
            "unit": "2nd Cavalry Regiment",
            "altitude": {"floor": 0, "ceiling": 3000},
            **kw,
        }

    # Before the Japan–Australia RAA entered into force: refused, naming it.
    early = au.post(
        "/api/v1/reservations",
        json=booking("SECRET//REL TO AUS, JPN, USA", "2023-08-01T00:00Z", "2023-08-01T06:00Z"),
    )
    assert early.status_code == 403, early.text
    assert early.headers["content-type"] == "application/problem+json"
    assert (early.json()["needed"], early.json()["reason"]) == (
        "Japan–Australia RAA",
        "not_in_force",
    )

    # After it: accepted under the RAA, on AUS's node.
    shared = _ok(
        au.post(
            "/api/v1/reservations",
            json=booking("SECRET//REL TO AUS, JPN, USA", "2030-02-04T00:00Z", "2030-02-04T06:00Z"),
        ),
        201,
    )
    assert (shared["instrument"], shared["nation"], shared["origin"]) == (
        "japan-australia-raa",
        "AUS",
        "aus",
    )
    bilateral = _ok(
        au.post(
            "/api/v1/reservations",
            json=booking("SECRET//REL TO AUS, JPN", "2030-02-05T00:00Z", "2030-02-05T06:00Z"),
        ),
        201,
    )
    # Seen on JJOC and USFJ as the labels allow.
    for client in (jp, us):
        got = wait(
            "AUS's reservation",
            lambda c=client: c.get(f"/api/v1/reservations/{shared['id']}").json(),
        )
        assert (got.get("instrument"), got.get("place", {}).get("name", {}).get("ja")) == (
            "japan-australia-raa",
            "北富士演習場",
        ), got
    wait("the bilateral one at JJOC", _has(jp, f"/api/v1/reservations/{bilateral['id']}"))
    week = _ok(jp.get("/api/v1/reservations/schedule", params={"week": "2030-W06"}))
    assert {r["id"] for r in week["reservations"]} == {shared["id"], bilateral["id"]}
    us_week = _ok(us.get("/api/v1/reservations/schedule", params={"week": "2030-W06"}))
    assert [r["id"] for r in us_week["reservations"]] == [shared["id"]]  # never the bilateral one
    assert us.get(f"/api/v1/reservations/{bilateral['id']}").status_code == 404

    # A U.S. live fire on the same range, altitude and time: refused on USFJ, naming AUS's.
    clash = us.post(
        "/api/v1/reservations",
        json=booking(
            "SECRET//REL TO AUS, JPN, USA",
            "2030-02-04T04:00Z",
            "2030-02-04T08:00Z",
            unit="3rd Marines",
        ),
    )
    assert clash.status_code == 409, clash.text
    assert clash.json()["conflicts"] == [shared["id"]] and shared["id"] in clash.json()["detail"]
    # Above AUS's band it does not conflict: accepted.
    above = booking("UNCLASSIFIED", "2030-02-04T04:00Z", "2030-02-04T08:00Z", unit="3rd Marines")
    above["altitude"] = {"floor": 3000, "ceiling": 6000}
    assert _ok(us.post("/api/v1/reservations", json=above), 201)["instrument"] == "us-japan-sofa"

    # A nation without an instrument (a JJOC planner asking for a Korean unit): refused,
    # naming the instrument it would need.
    none = jp.post(
        "/api/v1/reservations",
        json=booking(
            "UNCLASSIFIED",
            "2030-03-01T00:00Z",
            "2030-03-01T06:00Z",
            activity="training",
            nation="KOR",
        ),
    )
    assert none.status_code == 403, none.text
    assert none.json()["needed"] == "an access arrangement between Japan and KOR"
    assert "KOR" in none.json()["detail_ja"]
