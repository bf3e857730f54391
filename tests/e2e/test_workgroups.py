"""Working groups and action items across two real nodes (USFJ, JJOC), link cut and healed.

USFJ convenes an Alliance Coordination Group with members on both nodes and holds a
meeting; two action items come out of it, OPR on JJOC and OCR on USFJ. The link is cut:
JJOC (the OPR) moves item A to IN_PROGRESS and DONE, USFJ (the OCR) concurs and comments
and may not move it; item B passes its due date: JJOC had reminded its action officer,
USFJ (the chair's node) escalates it to the chair, each on its own clock. Healed, both
nodes show the same states, concurrence, comment, reminder and escalation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster import Cluster

BOTH = "SECRET//REL TO USA, JPN"
PROBLEM = "application/problem+json"
CHECK = "\n[workgroups]\ncheck_interval = 0.3\nremind_before = 30\n"
US_CHAIR = {"user": "us.chair", "node": "usfj", "nation": "USA"}
OPR = {"office": "J3 Operations", "node": "jjoc", "nation": "JPN", "user": "jp.ao"}
OCR = {"office": "J5 Plans", "node": "usfj", "nation": "USA", "user": "us.ao"}


def wait(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def get(client: httpx.Client, path: str) -> dict[str, Any]:
    r = client.get(path)
    return r.json() if r.status_code == 200 else {}


class Pair:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.us = cluster.nodes["usfj"].user("us.chair", "USA", "SECRET", "--role", "liaison")
        self.jp = cluster.nodes["jjoc"].user("jp.ao", "JPN", "SECRET", "--role", "watch")

    def cut(self, cut: bool) -> None:
        for src, dst in (("usfj", "jjoc"), ("jjoc", "usfj")):
            proxy = self.cluster.proxy(src, dst)
            proxy.cut() if cut else proxy.heal()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    cluster = Cluster(tmp_path_factory.mktemp("workgroups"))
    try:
        for node_id, nation in (("usfj", "USA"), ("jjoc", "JPN")):
            node = cluster.node(node_id, nation)
            toml = Path(node.dir) / "node.toml"
            toml.write_text(toml.read_text() + CHECK)
        cluster.link("usfj", "jjoc", proxied=True)
        cluster.start()
        yield Pair(cluster)
    finally:
        cluster.stop()


def test_action_items_through_their_states_on_both_nodes_across_a_cut(pair: Pair) -> None:
    us, jp = pair.us, pair.jp
    wg = ok(
        us.post(
            "/api/v1/working-groups",
            json={
                "name": {"en": "Alliance Coordination Group", "ja": "同盟調整グループ"},
                "convening_authority": {"en": "USINDOPACOM", "ja": "インド太平洋軍"},
                "level": "acg",
                "cadence": "weekly",
                "co_chairs": [US_CHAIR, {"user": "jp.chair", "node": "jjoc", "nation": "JPN"}],
                "members": [{"user": "jp.ao", "node": "jjoc", "nation": "JPN"},
                            {"user": "us.ao", "node": "usfj", "nation": "USA"}],
                "label": BOTH,
            },
        ),
        201,
    )  # fmt: skip
    meeting = ok(
        us.post(
            "/api/v1/meetings",
            json={"working_group_id": wg["id"], "start": "2026-12-01T01:00:00Z", "label": BOTH,
                  "agenda": {"en": "Exercise schedule", "ja": "演習日程"},
                  "minutes": {"en": "Schedules to be aligned.", "ja": "日程を調整する。"}},
        ),
        201,
    )  # fmt: skip

    def action(title: str, due_in: float) -> str:
        due = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + due_in))
        body = {"title": {"en": title, "ja": title}, "meeting_id": meeting["id"], "opr": OPR,
                "ocr": OCR, "due": due, "priority": "high", "label": BOTH}  # fmt: skip
        return str(ok(us.post("/api/v1/action-items", json=body), 201)["id"])

    a = action("Align schedules", 86_400)
    b = action("Confirm airspace", 8)
    for path in (f"/api/v1/action-items/{a}", f"/api/v1/action-items/{b}"):
        wait("the item at JJOC", partial(get, jp, path))
    assert get(jp, f"/api/v1/meetings/{meeting['id']}")["minutes"]["ja"] == "日程を調整する。"
    assert get(jp, f"/api/v1/working-groups/{wg['id']}")["nations"] == ["JPN", "USA"]

    pair.cut(True)
    try:
        # The OPR's node moves A through its states; the OCR's may not, but concurs.
        for to in ("IN_PROGRESS", "DONE"):
            view = ok(jp.post(f"/api/v1/action-items/{a}/transition", json={"to": to}))
        assert view["status"] == "DONE" and view["closing"]["node"] == "jjoc"
        refused = us.post(f"/api/v1/action-items/{a}/transition", json={"to": "IN_PROGRESS"})
        assert refused.status_code == 403, refused.text
        ok(us.post(f"/api/v1/action-items/{a}/concurrence", json={"concur": True, "note": "J5"}))
        ok(
            us.post(
                f"/api/v1/action-items/{a}/comments", json={"text": {"en": "Noted", "ja": "了解"}}
            ),
            201,
        )
        assert get(us, f"/api/v1/action-items/{a}")["status"] == "OPEN"  # not heard yet
        # B: reminded on JJOC (the OPR), escalated to the chair on USFJ once overdue.
        wait("the reminder on JJOC", lambda: get(jp, f"/api/v1/action-items/{b}").get("reminded"))
        escalated = wait(
            "the escalation on USFJ",
            lambda: (v := get(us, f"/api/v1/action-items/{b}")).get("escalated") and v,
        )
        assert escalated["overdue"] and [
            (x["kind"], x["node"], x["to"]) for x in escalated["alerts"]
        ] == [("escalation", "usfj", "us.chair")]
    finally:
        pair.cut(False)

    def converged(client: httpx.Client) -> bool:
        x, y = get(client, f"/api/v1/action-items/{a}"), get(client, f"/api/v1/action-items/{b}")
        return (
            x.get("status") == "DONE"
            and (x.get("concurrence") or {}).get("node") == "usfj"
            and [c["text"]["ja"] for c in x.get("comments", [])] == ["了解"]
            and y.get("status") == "OPEN"
            and [(z["kind"], z["node"]) for z in y.get("alerts", [])]
            == [("reminder", "jjoc"), ("escalation", "usfj")]
        )

    for client in (us, jp):
        wait("the same items on both nodes", partial(converged, client))
    # JJOC's user sees B overdue and escalated too, and no longer may start A.
    assert get(jp, f"/api/v1/action-items/{a}")["allowed_transitions"] == []
    # The liaison desk on either node: B is open and bilateral, A is done.
    for client in (us, jp):
        desk = [i["id"] for i in get(client, "/api/v1/liaison/today")["action_items"]]
        assert b in desk and a not in desk, desk
    assert get(jp, f"/api/v1/action-items/{b}")["allowed_transitions"] == [
        "IN_PROGRESS",
        "SKIPPED",
        "DONE",
    ]


def test_shapes_and_problems_over_http(pair: Pair) -> None:
    """The routes' answers and problem+json refusals (4xx, nothing half-applied)."""
    op = pair.us
    before = len(op.get("/api/v1/working-groups").json())
    group = {
        "name": {"en": "Alliance Coordination Group", "ja": "同盟調整グループ"},
        "level": "acg",
        "cadence": "weekly",
        "co_chairs": [US_CHAIR, {"user": "jp.chair", "node": "jjoc", "nation": "JPN"}],
        "members": [],
        "label": BOTH,
    }
    for bad in (
        {**group, "level": "board"},
        {**group, "co_chairs": []},
        {**group, "label": "S//NOFORN"},
    ):
        r = op.post("/api/v1/working-groups", json=bad)
        assert (r.status_code in (400, 422), r.headers["content-type"]) == (True, PROBLEM), r.text
    assert len(op.get("/api/v1/working-groups").json()) == before  # nothing half-applied
    r = op.post("/api/v1/working-groups", json=group)
    assert r.status_code == 201, r.text
    wg = r.json()
    assert (wg["level_name"]["ja"], wg["nations"], wg["rel_to"]) == (
        "同盟調整グループ",
        ["JPN", "USA"],
        ["USA", "JPN"],
    )
    r = op.post(
        "/api/v1/meetings",
        json={"working_group_id": wg["id"], "start": "2033-05-10T01:00:00Z", "label": BOTH,
              "minutes": {"en": "Agreed.", "ja": "合意した。"}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    meeting = r.json()
    body = {
        "title": {"en": "Align schedules", "ja": "日程の調整"},
        "meeting_id": meeting["id"],
        "opr": {"office": "J3", "node": "jjoc", "nation": "JPN"},
        "ocr": {"office": "J5", "node": "usfj", "nation": "USA"},
        "due": "2033-05-18T00:00:00Z",
        "label": BOTH,
    }
    for bad in ({**body, "due": "tomorrow"}, {**body, "priority": "urgent"}, {**body, "opr": {}}):
        r = op.post("/api/v1/action-items", json=bad)
        assert (r.status_code in (400, 422), r.headers["content-type"]) == (True, PROBLEM), r.text
    r = op.post("/api/v1/action-items", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["status"], created["chair"], created["working_group_id"]) == (
        "OPEN",
        US_CHAIR,
        wg["id"],
    )
    iid = created["id"]
    # USFJ is not the OPR: 403 with the transitions allowed (none); the OCR concurs.
    r = op.post(f"/api/v1/action-items/{iid}/transition", json={"to": "DONE"})
    assert (r.status_code, r.headers["content-type"], r.json()["allowed_transitions"]) == (
        403,
        PROBLEM,
        [],
    )
    r = op.post(f"/api/v1/action-items/{iid}/concurrence", json={"concur": True})
    assert r.status_code == 200 and r.json()["concurrence"]["node"] == "usfj", r.text
    r = op.post("/api/v1/action-items/reassign", json={"ids": [iid, "nope"], "ocr": body["opr"]})
    assert r.status_code == 422 and "nope" in r.json()["detail"], r.text
    assert op.get(f"/api/v1/action-items/{iid}").json()["ocr"]["office"] == "J5"
    assert [
        i["id"] for i in op.get("/api/v1/action-items", params={"meeting": meeting["id"]}).json()
    ] == [iid]
    assert op.get("/api/v1/action-items/nope").status_code == 404

    # The liaison desk lists the bilateral item; entries are attributed.
    desk = op.get("/api/v1/liaison/today").json()
    assert iid in [i["id"] for i in desk["action_items"]], desk
    r = op.post("/api/v1/liaison/entries", json={"text": {"en": "Met J3"}, "label": "U"})
    assert r.status_code == 201 and (r.json()["author"], r.json()["origin"]) == (
        "us.chair",
        "usfj",
    ), r.text
    r = op.post("/api/v1/liaison/entries", json={"text": {"en": "x"}, "label": "BOGUS"})
    assert (r.status_code, r.headers["content-type"]) == (400, PROBLEM) or r.status_code == 422, (
        r.text
    )
    assert [e["text"]["en"] for e in op.get("/api/v1/liaison/entries").json()] == ["Met J3"]
