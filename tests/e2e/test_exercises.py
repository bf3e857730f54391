"""A multilateral exercise across three real nodes (issue 14's "Done when").

USFJ leads an exercise with JJOC and AUS. Its MSEL is imported from CSV (a bad file is
refused whole, its rows named); the approved injects are delivered on schedule by USFJ's
job, as a coordination request to JJOC and a report to AUS, each marked EXERCISE. A
real-world override declared on AUS pauses the exercise on all three nodes with its reason
and stops the injects still due. At ENDEX every node takes the exercise's tracks out of its
live picture (a real track stays) and out of players' lists, and each node's signed archive
verifies. A participation outside any access instrument is refused with the instrument needed.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

import tests.nodes
from tests.cluster import Cluster

LABEL = "SECRET//REL TO USA, JPN, AUS"
PROBLEM = "application/problem+json"


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


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def _kizuna_in_process(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``kizuna …`` run in this process: setting up three nodes takes some 30 CLI calls, and
    on a loaded machine starting a Python process for each costs most of this module's time.
    The nodes themselves still run as their own processes."""
    from typer.testing import CliRunner

    from kizuna.cli import build

    result = CliRunner().invoke(build(), list(args), catch_exceptions=False)
    if check and result.exit_code != 0:
        raise AssertionError(f"kizuna {' '.join(args)} failed: {result.output}")
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, "")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, httpx.Client]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tests.nodes, "kizuna", _kizuna_in_process)
        yield from _cluster(tmp_path_factory)


def _cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, httpx.Client]]:
    c = Cluster(tmp_path_factory.mktemp("exercise"))
    for node_id, nation in (("jjoc", "JPN"), ("usfj", "USA"), ("aus", "AUS")):
        c.node(node_id, nation)
    for a, b in (("jjoc", "usfj"), ("jjoc", "aus"), ("usfj", "aus")):
        c.link(a, b)
    # The three nodes start (and stop) side by side: each waits on its own health check.
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda n: n.start(), c.nodes.values()))
    try:
        yield {
            "us.excon": c.nodes["usfj"].user("us.excon", "USA", "SECRET", "--role", "admin"),
            "jp.excon": c.nodes["jjoc"].user("jp.excon", "JPN", "SECRET", "--role", "admin"),
            "au.excon": c.nodes["aus"].user("au.excon", "AUS", "SECRET", "--role", "admin"),
            "jp.watch": c.nodes["jjoc"].user("jp.watch", "JPN", "SECRET", "--role", "watch"),
            "au.watch": c.nodes["aus"].user("au.watch", "AUS", "SECRET", "--role", "watch"),
        }
    finally:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda n: n.stop(), c.nodes.values()))
        c.stop()


def _exercise(startex: float, endex: float) -> dict[str, Any]:
    return {
        "name": {"en": "Southern Jackaroo", "ja": "サザン・ジャッカルー"},
        "label": LABEL,
        "participants": [
            {"nation": "JPN", "node": "jjoc", "units": ["1st Airborne Brigade"]},
            {"nation": "AUS", "node": "aus", "units": ["1st Brigade"]},
        ],
        "startex": _iso(startex),
        "endex": _iso(endex),
        "milestones": [
            {
                "stage": "fpc",
                "name": {"en": "FPC", "ja": "最終計画会議"},
                "at": _iso(startex - 86400),
            }
        ],
        "track_prefixes": ["manual-SJ"],
        "retention_days": 30,
    }


MSEL = (
    "seq,time,from_org,to_org,to_node,delivery,description_en,description_ja\n"
    "1,00:00,EXCON,JJOC J3,jjoc,request,Simulated vessel aground off Kure,呉沖で座礁船（想定）\n"
    "2,00:00,EXCON,AUS LO,aus,report,Simulated port closure at Darwin,ダーウィン港閉鎖（想定）\n"
    "3,10:00,EXCON,JJOC J3,jjoc,request,Simulated typhoon landfall,台風上陸（想定）\n"
)


def test_participation_outside_any_instrument_is_refused(cluster: dict[str, httpx.Client]) -> None:
    before = dt.datetime(2023, 3, 1, tzinfo=dt.UTC).timestamp()
    r = cluster["us.excon"].post("/api/v1/exercises", json=_exercise(before, before + 86400))
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    body = r.json()
    assert body["nation"] == "AUS" and "Australia" in body["needed"], body
    assert cluster["us.excon"].get("/api/v1/exercises").json() == []
    now = time.time()
    r = cluster["jp.watch"].post("/api/v1/exercises", json=_exercise(now, now + 86400))
    assert (r.status_code, r.headers["content-type"]) == (403, PROBLEM), r.text  # a player


def test_exercise_on_three_nodes(cluster: dict[str, httpx.Client]) -> None:
    us, jp, au = cluster["us.excon"], cluster["jp.watch"], cluster["au.watch"]
    now = time.time()
    ex = _ok(us.post("/api/v1/exercises", json=_exercise(now - 5, now + 86400)), 201)
    eid = ex["id"]
    assert ex["exercise"] and ex["label"].endswith("//EXERCISE") and ex["state"] == "planned"
    assert {p["nation"]: p["instrument"] for p in ex["participants"]}[
        "AUS"
    ] == "japan-australia-raa"

    # A bad MSEL lands nothing, and names its rows.
    bad = MSEL.replace("2,00:00", "2,99:99").replace("3,10:00", "x,10:00")
    r = us.post(f"/api/v1/exercises/{eid}/msel", json={"csv": bad})
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert [e.split(":")[0] for e in r.json()["errors"]] == ["row 3", "row 4"]
    assert _ok(us.get(f"/api/v1/exercises/{eid}/injects")) == []
    injects = _ok(us.post(f"/api/v1/exercises/{eid}/msel", json={"csv": MSEL}), 201)["injects"]
    for inj in injects:
        _ok(us.post(f"/api/v1/injects/{inj['id']}/transition", json={"to": "APPROVED"}))
    r = jp.post(f"/api/v1/injects/{injects[0]['id']}/transition", json={"to": "DELIVERED"})
    assert r.status_code in (403, 404), r.text  # a player on another node moves nothing

    # Tracks: one of the exercise (marked), one real that happens to share the prefix.
    track = {"label": f"{LABEL}//EXERCISE", "lat": 34.2, "lon": 132.5, "source": "manual"}
    _ok(us.post("/api/v1/tracks", json=[{**track, "id": "manual-SJ-1", "source_id": "SJ-1"}]))
    real = {**track, "label": LABEL, "id": "manual-SJ-real", "source_id": "SJ-real"}
    _ok(us.post("/api/v1/tracks", json=[real]))

    _ok(us.post(f"/api/v1/exercises/{eid}/state", json={"action": "start"}))
    seq = {i["seq"]: i["id"] for i in injects}
    wait(
        "injects 1 and 2 delivered on schedule",
        lambda: (
            {i["seq"]: i["state"] for i in us.get(f"/api/v1/exercises/{eid}/injects").json()}
            == {1: "DELIVERED", 2: "DELIVERED", 3: "APPROVED"}
        ),
    )
    made = {i["seq"]: i["delivered_as"] for i in us.get(f"/api/v1/exercises/{eid}/injects").json()}
    request = wait(
        "the request on JJOC",
        lambda: (r := jp.get(f"/api/v1/requests/{made[1]['id']}")).status_code == 200 and r.json(),
    )
    assert request["exercise"] and request["addressees"] == ["jjoc"]
    assert request["status"] == "SUBMITTED" and request["title"]["en"].startswith("EXERCISE")
    report = wait(
        "the report on AUS",
        lambda: (r := au.get(f"/api/v1/reports/{made[2]['id']}")).status_code == 200 and r.json(),
    )
    assert report["exercise"] and report["body"]["ja"] == "ダーウィン港閉鎖（想定）"
    for client in (jp, au):
        tracks = wait(
            "the exercise track on a partner",
            lambda c=client: (
                {t["id"]: t for t in c.get("/api/v1/tracks").json()}.get("manual-SJ-1")
                and {t["id"]: t for t in c.get("/api/v1/tracks").json()}
            ),
        )
        assert tracks["manual-SJ-1"]["exercise"] and tracks["manual-SJ-1"]["sidc"][2] == "1"

    # A real-world emergency declared on AUS pauses the exercise on all three nodes.
    reason = {
        "en": "Real-world SAR: aircraft down off Darwin",
        "ja": "実任務：航空機墜落の捜索救難",
    }
    ov = _ok(au.post(f"/api/v1/exercises/{eid}/overrides", json={"reason": reason}), 201)
    assert ov["exercise"] and ov["node"] == "aus"
    for client in (us, jp, au):
        ex = wait(
            "the exercise paused",
            lambda c=client: (
                (e := c.get(f"/api/v1/exercises/{eid}").json())["state"] == "paused" and e
            ),
        )
        assert ex["paused_reason"] == reason["en"] and ex["overrides"][0]["reason"] == reason
    held = _ok(us.get(f"/api/v1/injects/{seq[3]}"))
    assert held["held"] and held["state"] == "APPROVED"
    r = us.post(f"/api/v1/injects/{seq[3]}/transition", json={"to": "DELIVERED"})
    assert r.status_code == 409, r.text
    _ok(au.post(f"/api/v1/overrides/{ov['id']}/lift"))
    wait("running again", lambda: us.get(f"/api/v1/exercises/{eid}").json()["state"] == "running")

    # ENDEX: out of every node's live picture and players' lists; each archive verifies.
    _ok(us.post(f"/api/v1/exercises/{eid}/state", json={"action": "endex"}))
    for name, client in (("us.excon", us), ("jp.watch", jp), ("au.watch", au)):
        wait(
            f"the exercise track gone on {name}",
            lambda c=client: (
                {t["id"] for t in c.get("/api/v1/tracks").json()} == {"manual-SJ-real"}
            ),
        )
    for client in (jp, au):
        wait(
            "the exercise gone from players' lists",
            lambda c=client: c.get("/api/v1/exercises").json() == [],
        )
        assert client.get("/api/v1/injects").json() == []
    # the request and the report the injects became leave the lists too (held, not deleted)
    wait(
        "the delivered request gone from JJOC's requests",
        lambda: made[1]["id"] not in {q["id"] for q in jp.get("/api/v1/requests").json()},
    )
    assert jp.get(f"/api/v1/requests/{made[1]['id']}").status_code == 404
    wait(
        "the delivered report gone from AUS's reports",
        lambda: made[2]["id"] not in {q["id"] for q in au.get("/api/v1/reports").json()},
    )
    for name in ("us.excon", "jp.excon", "au.excon"):
        control = cluster[name]
        wait(
            f"ENDEX on {name}",
            lambda c=control: c.get(f"/api/v1/exercises/{eid}").json()["quarantined"],
        )
        kept = _ok(control.get(f"/api/v1/exercises/{eid}/tracks"))
        assert [t["id"] for t in kept] == ["manual-SJ-1"]
        check = wait(
            f"the archive on {name}",
            lambda c=control: (
                (r := c.get(f"/api/v1/exercises/{eid}/archive/verify")).status_code == 200
                and r.json()
            ),
        )
        assert check["valid"] and check["signed"] and check["entries"] >= 5, check
        archive = _ok(control.get(f"/api/v1/exercises/{eid}/archive"))
        kinds = [e["item"]["record_type"] for e in archive["entries"]]
        assert (
            kinds[0] == "exercise" and kinds.count("inject") == 3 and "exercise_override" in kinds
        )
        assert all("EXERCISE" in e["item"]["label"] for e in archive["entries"])
    injects_after = {
        i["seq"]: i["state"] for i in us.get(f"/api/v1/exercises/{eid}/injects").json()
    }
    assert injects_after == {1: "DELIVERED", 2: "DELIVERED", 3: "EXPIRED"}


def test_demo_seed(cluster: dict[str, httpx.Client]) -> None:
    from kizuna.scenario import exercises

    us = cluster["us.excon"]
    for _ in range(2):  # idempotent
        exercises.seed(cluster["jp.watch"], us, cluster["au.watch"])
    seeded = [e for e in us.get("/api/v1/exercises").json() if e["name"] == exercises.NAME]
    assert len(seeded) == 1 and seeded[0]["state"] == "running"
    states = [i["state"] for i in _ok(us.get(f"/api/v1/exercises/{seeded[0]['id']}/injects"))]
    assert states.count("DELIVERED") == 1 and len(states) == 4
