"""Groups across nodes (issue 17, finding 6): a group in a label means its originator's
definition on every node (ADR 0007: node-defined groups leave a node as their nations).

usfj defines ACM as USA and JPN (the `kizuna init` default); jjoc as USA, JPN and KOR."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.cluster import Cluster


def wait_until(check: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def titles(client: httpx.Client) -> dict[str, str]:
    """Title -> label of every report the user may see."""
    return {r["title"]["en"]: r["label"] for r in client.get("/api/v1/reports").json()}


def write(client: httpx.Client, marking: str, title: str) -> str:
    r = client.post("/api/v1/reports", json={"label": marking, "title": {"en": title}})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_a_group_means_its_originators_definition_everywhere(cluster: Cluster) -> None:
    cluster.node("usfj", "USA")  # ACM = USA, JPN
    cluster.node("jjoc", "JPN", group="ACM=USA,JPN,KOR")
    cluster.link("usfj", "jjoc")
    cluster.start()
    us, jp = cluster.nodes["usfj"], cluster.nodes["jjoc"]
    alice = us.user("alice", "USA", "SECRET")
    kenji = jp.user("kenji", "JPN", "SECRET")
    kim_at_jjoc = jp.user("kim", "KOR", "SECRET")
    kim_at_usfj = us.user("kim", "KOR", "SECRET")

    us_report = write(alice, "SECRET//REL TO ACM", "from usfj to its ACM")
    r = alice.post(
        "/api/v1/tracks",
        json=[{"label": "SECRET//REL TO ACM", "lat": 35.3, "lon": 139.6, "id": "acm-1"}],
    )
    assert r.status_code == 200, r.text
    write(kenji, "SECRET//REL TO ACM", "from jjoc to its ACM")

    wait_until(lambda: "from usfj to its ACM" in titles(kenji), what="usfj's report at jjoc")
    wait_until(lambda: kenji.get("/api/v1/tracks/acm-1").status_code == 200, what="the track")
    wait_until(lambda: "from jjoc to its ACM" in titles(alice), what="jjoc's report at usfj")

    # usfj's ACM has no KOR in it: jjoc's KOR user sees neither its report nor its track.
    assert "from usfj to its ACM" not in titles(kim_at_jjoc)
    assert kim_at_jjoc.get(f"/api/v1/reports/{us_report}").status_code == 404
    assert kim_at_jjoc.get("/api/v1/tracks/acm-1").status_code == 404
    # jjoc holds it under the nations usfj meant.
    assert titles(kenji)["from usfj to its ACM"] == "SECRET//REL TO USA, JPN"
    # And the other way: jjoc's ACM includes KOR, so usfj's KOR user may read jjoc's report.
    assert titles(kim_at_usfj) == {"from jjoc to its ACM": "SECRET//REL TO USA, JPN, KOR"}
    # At home a node's own labels keep the group.
    assert titles(alice)["from usfj to its ACM"] == "SECRET//REL TO USA, ACM"
