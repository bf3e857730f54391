"""A relabel that widens release sends the peer the whole report, not a bare patch (real nodes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.cluster import Cluster

CONTENT = ("origin", "title", "body", "position", "original_language", "precedence", "label")


def wait_until(check: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def get(client: httpx.Client, rid: str) -> dict[str, Any] | None:
    r = client.get(f"/api/v1/reports/{rid}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture
def pair(cluster: Cluster) -> Iterator[tuple[httpx.Client, httpx.Client, httpx.Client]]:
    cluster.node("usfj", "USA")
    cluster.node("aus", "AUS")
    cluster.link("usfj", "aus")
    cluster.start()
    us = cluster.nodes["usfj"]
    yield (
        us.user("alice", "USA", "SECRET"),
        us.user("grace", "USA", "SECRET", "--role", "admin"),
        cluster.nodes["aus"].user("bruce", "AUS", "SECRET"),
    )


def test_widening_release_sends_the_whole_report(
    pair: tuple[httpx.Client, httpx.Client, httpx.Client],
) -> None:
    """Issue 17, finding 2: AUS received only the patch and held an empty report."""
    alice, grace, bruce = pair
    body = {
        "label": "SECRET//REL TO USA, JPN",
        "precedence": "IMMEDIATE",
        "title": {"en": "Bridge down at Sasebo", "ja": "佐世保の橋が崩落"},
        "body": {"en": "Route 35 closed both ways.", "ja": "国道35号は両方向通行止め。"},
        "position": {"lat": 33.16, "lon": 129.72},
    }
    r = alice.post("/api/v1/reports", json=body)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    control = alice.post(
        "/api/v1/reports", json={**body, "label": "SECRET//REL TO USA, AUS", "title": {"en": "c"}}
    ).json()["id"]
    wait_until(lambda: get(bruce, control) is not None, what="the control report at AUS")
    assert get(bruce, rid) is None  # not releasable to AUS yet

    # The originator's classifier releases it to AUS, changing nothing but the label.
    r = grace.patch(f"/api/v1/reports/{rid}", json={"label": "SECRET//REL TO USA, AUS, JPN"})
    assert r.status_code == 200, r.text
    at_home = r.json()
    wait_until(lambda: get(bruce, rid) is not None, what="the relabelled report at AUS")
    at_aus = get(bruce, rid)
    assert at_aus is not None
    assert {k: at_aus[k] for k in CONTENT} == {k: at_home[k] for k in CONTENT}
    assert at_aus["title"]["en"] == "Bridge down at Sasebo"
    assert at_aus["body"]["ja"] == "国道35号は両方向通行止め。"

    # Later changes arrive as patches on top of the complete record.
    r = alice.patch(f"/api/v1/reports/{rid}", json={"body": {"en": "Route 35 open.", "ja": ""}})
    assert r.status_code == 200, r.text
    wait_until(
        lambda: (get(bruce, rid) or {}).get("body", {}).get("en") == "Route 35 open.",
        what="the later patch at AUS",
    )
    latest = get(bruce, rid)
    assert latest is not None and latest["title"] == at_home["title"]
