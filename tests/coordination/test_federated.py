"""Coordination requests between real node processes: cut links, conflicts, release by label."""

from __future__ import annotations

import base64
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from kizuna.coordination.models import Status
from kizuna.coordination.rules import RANK
from tests.cluster import Cluster

PROBLEM = "application/problem+json"
BOTH_WAYS = (("usfj", "jjoc"), ("jjoc", "usfj"))
NATIONS = {"usfj": "USA", "jjoc": "JPN", "aus": "AUS"}


def wait_until(check: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def create(client: httpx.Client, addressees: list[str], label: str, title: str) -> str:
    r = client.post(
        "/api/v1/requests",
        json={
            "addressees": addressees,
            "kind": "support",
            "precedence": "IMMEDIATE",
            "label": label,
            "title": {"en": title, "ja": f"{title}（和訳）"},
            "body": {"en": "Details follow.", "ja": ""},
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "DRAFT"
    return str(r.json()["id"])


def move(client: httpx.Client, rid: str, to: str, **extra: object) -> httpx.Response:
    return client.post(f"/api/v1/requests/{rid}/transitions", json={"to": to, **extra})


def moved(client: httpx.Client, rid: str, to: str, **extra: object) -> dict[str, Any]:
    r = move(client, rid, to, **extra)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == to
    return dict(r.json())


def comment(client: httpx.Client, rid: str, label: str, en: str) -> None:
    r = client.post(
        f"/api/v1/requests/{rid}/comments", json={"label": label, "text": {"en": en, "ja": ""}}
    )
    assert r.status_code == 201, r.text


def view(client: httpx.Client, rid: str) -> dict[str, Any] | None:
    """The request as this user sees it, minus what depends on who asks (None: not there)."""
    r = client.get(f"/api/v1/requests/{rid}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    body = dict(r.json())
    body.pop("allowed_transitions")
    return body


def status(client: httpx.Client, rid: str) -> str | None:
    v = view(client, rid)
    return None if v is None else str(v["status"])


def texts(v: dict[str, Any] | None) -> list[str]:
    return [] if v is None else [c["text"]["en"] for c in v["comments"]]


def same_everywhere(a: httpx.Client, b: httpx.Client, rid: str) -> bool:
    va, vb = view(a, rid), view(b, rid)
    return va is not None and va == vb


def digests_equal(a: httpx.Client, b: httpx.Client, a_id: str, b_id: str) -> bool:
    da = a.get("/federation/v1/digest", params={"peer": b_id}).json()
    db = b.get("/federation/v1/digest", params={"peer": a_id}).json()
    return bool(da["digest"] == db["digest"])


@dataclass
class Mesh:
    """usfj (USA), jjoc (JPN) and aus (AUS), each peered with both others.

    usfj and jjoc talk through fault proxies; aus talks to both directly. One
    user per node: alice (requester) at usfj, kenji (responder) at jjoc and
    bruce, a TOP SECRET admin, at aus.
    """

    cluster: Cluster
    us: httpx.Client
    jp: httpx.Client
    au: httpx.Client

    def cut(self) -> None:
        for pair in BOTH_WAYS:
            self.cluster.proxy(*pair).cut()

    def heal(self) -> None:
        for pair in BOTH_WAYS:
            self.cluster.proxy(*pair).heal()


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    # One set of processes for the whole module: starting nodes and proxies is the
    # slow part, and no test leaves a link cut (see ``cut_off``).
    cluster = Cluster(tmp_path_factory.mktemp("mesh"))
    try:
        for node_id, nation in NATIONS.items():
            cluster.node(node_id, nation)
        cluster.link("usfj", "jjoc", proxied=True)
        cluster.link("usfj", "aus")
        cluster.link("jjoc", "aus")
        cluster.start()
        nodes = cluster.nodes
        yield Mesh(
            cluster,
            us=nodes["usfj"].user("alice", "USA", "SECRET", "--role", "requester"),
            jp=nodes["jjoc"].user("kenji", "JPN", "SECRET", "--role", "responder"),
            au=nodes["aus"].user("bruce", "AUS", "TOP SECRET", "--role", "admin"),
        )
    finally:
        cluster.stop()


@pytest.fixture
def cut_off(mesh: Mesh) -> Iterator[Mesh]:
    """The mesh, healed again after the test whatever happens in it."""
    try:
        yield mesh
    finally:
        mesh.heal()


def test_comments_while_cut_converge_in_the_same_order(cut_off: Mesh) -> None:
    us, jp = cut_off.us, cut_off.jp
    rid = create(us, ["jjoc"], "SECRET//REL TO USA, JPN", "Port access at Yokosuka")
    moved(us, rid, "SUBMITTED")
    wait_until(lambda: status(jp, rid) == "SUBMITTED", what="request at JJOC")
    assert view(jp, rid) is not None
    arrived = jp.get(f"/api/v1/requests/{rid}").json()
    assert arrived["requester"] == "usfj" and arrived["addressees"] == ["jjoc"]
    assert arrived["label"] == "SECRET//REL TO USA, JPN"
    assert arrived["allowed_transitions"] == ["ACKNOWLEDGED"]
    moved(jp, rid, "ACKNOWLEDGED")
    moved(jp, rid, "ACCEPTED", response={"en": "Berth 3 from 0600", "ja": "0600から3番岸壁"})
    wait_until(lambda: status(us, rid) == "ACCEPTED", what="acceptance at USFJ")

    cut_off.cut()
    plan = [
        (us, "us-1 tugs requested"),
        (jp, "jp-1 pilot assigned"),
        (us, "us-2 arrival 0550"),
        (jp, "jp-2 berth confirmed"),
    ]
    for client, text in plan:
        comment(client, rid, "SECRET//REL TO USA, JPN", text)
    # Each side kept working on its own while cut off, and saw only its own comments.
    assert texts(view(us, rid)) == ["us-1 tugs requested", "us-2 arrival 0550"]
    assert texts(view(jp, rid)) == ["jp-1 pilot assigned", "jp-2 berth confirmed"]

    cut_off.heal()
    wait_until(lambda: same_everywhere(us, jp, rid), 60, "both nodes show the same request")
    a, b = view(us, rid), view(jp, rid)
    assert a is not None and b is not None
    assert a["status"] == b["status"] == "ACCEPTED"
    assert a["response"] == {"en": "Berth 3 from 0600", "ja": "0600から3番岸壁"}
    assert texts(a) == [text for _, text in plan]
    assert a["comments"] == b["comments"]
    assert [(c["author"], c["node"]) for c in a["comments"]] == [
        ("alice", "usfj"),
        ("kenji", "jjoc"),
        ("alice", "usfj"),
        ("kenji", "jjoc"),
    ]
    assert a["timeline"] == b["timeline"]
    steps = [(t["action"], t["from"], t["to"], t["node"]) for t in a["timeline"]]
    assert steps == [
        ("create", None, "DRAFT", "usfj"),
        ("transition", "DRAFT", "SUBMITTED", "usfj"),
        ("transition", "SUBMITTED", "ACKNOWLEDGED", "jjoc"),
        ("transition", "ACKNOWLEDGED", "ACCEPTED", "jjoc"),
        ("comment", None, None, "usfj"),
        ("comment", None, None, "jjoc"),
        ("comment", None, None, "usfj"),
        ("comment", None, None, "jjoc"),
    ]
    assert digests_equal(us, jp, "usfj", "jjoc")


def test_conflicting_transitions_on_cut_nodes_resolve_alike(cut_off: Mesh) -> None:
    us, jp = cut_off.us, cut_off.jp
    label = "SECRET//REL TO USA, JPN"
    # a: cancelled at USFJ while JJOC accepts; b: cancelled at USFJ while JJOC completes.
    rid_a = create(us, ["jjoc"], label, "Airspace deconfliction over Iwakuni")
    rid_b = create(us, ["jjoc"], label, "Fuel at Misawa")
    moved(us, rid_a, "SUBMITTED")
    moved(us, rid_b, "SUBMITTED")
    wait_until(
        lambda: status(jp, rid_a) == status(jp, rid_b) == "SUBMITTED", what="requests at JJOC"
    )
    moved(jp, rid_a, "ACKNOWLEDGED")
    for to in ("ACKNOWLEDGED", "ACCEPTED", "IN_PROGRESS"):
        moved(jp, rid_b, to)
    wait_until(
        lambda: (status(us, rid_a), status(us, rid_b)) == ("ACKNOWLEDGED", "IN_PROGRESS"),
        what="JJOC's moves at USFJ",
    )

    cut_off.cut()
    moved(us, rid_a, "CANCELLED", reason="overtaken by events")
    moved(us, rid_b, "CANCELLED", reason="fuel found locally")
    moved(jp, rid_a, "ACCEPTED")
    moved(jp, rid_b, "COMPLETED", reason="delivered")
    assert (status(us, rid_a), status(jp, rid_a)) == ("CANCELLED", "ACCEPTED")
    assert (status(us, rid_b), status(jp, rid_b)) == ("CANCELLED", "COMPLETED")

    cut_off.heal()
    for rid in (rid_a, rid_b):
        wait_until(partial(same_everywhere, us, jp, rid), 60, f"{rid} the same on both")
    # The status lattice decides: the higher rank wins, whichever arrived first.
    expected = {
        rid_a: max(Status.CANCELLED, Status.ACCEPTED, key=RANK.__getitem__),
        rid_b: max(Status.CANCELLED, Status.COMPLETED, key=RANK.__getitem__),
    }
    assert expected == {rid_a: Status.CANCELLED, rid_b: Status.COMPLETED}
    for rid, want in expected.items():
        for client in (us, jp):
            got = client.get(f"/api/v1/requests/{rid}").json()
            assert got["status"] == want.value
            assert got["allowed_transitions"] == []  # terminal everywhere
        # Both concurrent moves stay in the history on both nodes.
        a, b = view(us, rid), view(jp, rid)
        assert a is not None and b is not None and a["timeline"] == b["timeline"]
        rival = Status.ACCEPTED if rid == rid_a else Status.COMPLETED
        concurrent = sorted(str(t["to"]) for t in a["timeline"][-2:])
        assert concurrent == sorted([Status.CANCELLED.value, rival.value])
    # Losing side cannot move a settled request any further.
    r = move(us, rid_b, "CANCELLED", reason="again")
    assert r.status_code == 409 and r.json()["allowed_transitions"] == []


def event_count(db: Path, sql: str, *args: object) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute(sql, args).fetchone()[0])
    finally:
        conn.close()


def test_request_never_reaches_a_node_its_label_excludes(mesh: Mesh) -> None:
    cluster, us, jp, au = mesh.cluster, mesh.us, mesh.jp, mesh.au
    before = {x["id"] for x in au.get("/api/v1/requests").json()}  # other tests' requests

    # Bilateral: USA and JPN only, with an UNCLASSIFIED comment that must stay as close.
    bilateral = create(us, ["jjoc"], "SECRET//REL TO USA, JPN", "Bilateral berth plan")
    moved(us, bilateral, "SUBMITTED")
    wait_until(lambda: status(jp, bilateral) == "SUBMITTED", what="bilateral request at JJOC")
    r = jp.post(
        f"/api/v1/requests/{bilateral}/comments",
        json={"label": "UNCLASSIFIED", "text": {"en": "unclassified aside", "ja": "未分類の補足"}},
    )
    assert r.status_code == 201, r.text
    # The comment carries its request's restriction, not its own looser label.
    restricted = r.json()["comments"][0]
    assert (restricted["classification"], restricted["rel_to"]) == ("SECRET", ["USA", "JPN"])
    assert restricted["label"].endswith("SECRET//REL TO USA, JPN")
    comment(us, bilateral, "SECRET//REL TO USA, JPN", "secret bilateral note")
    wait_until(lambda: len(texts(view(us, bilateral))) == 2, what="JJOC comment at USFJ")
    wait_until(lambda: len(texts(view(jp, bilateral))) == 2, what="USFJ comment at JJOC")

    # Trilateral (positive control) and a confidential request with a secret comment.
    trilateral = create(us, ["jjoc", "aus"], "SECRET//REL TO USA, AUS, JPN", "Trilateral HADR")
    moved(us, trilateral, "SUBMITTED")
    mixed = create(us, ["jjoc", "aus"], "C//REL TO USA, AUS, JPN", "Exercise logistics")
    comment(us, mixed, "SECRET//REL TO USA, JPN", "bilateral detail on a shared request")
    comment(us, mixed, "C//REL TO USA, AUS, JPN", "shared detail")
    # A comment from JJOC that AUS may see: everything JJOC sent AUS earlier has drained.
    wait_until(lambda: status(jp, trilateral) == "SUBMITTED", what="trilateral request at JJOC")
    comment(jp, trilateral, "SECRET//REL TO USA, AUS, JPN", "JJOC standing by")

    wait_until(
        lambda: (
            texts(view(au, trilateral)) == ["JJOC standing by"]
            and texts(view(au, mixed)) == ["shared detail"]
        ),
        60,
        "shared requests at AUS",
    )
    # Every pair of nodes holds the same shared events: nothing more is on its way.
    clients = {"usfj": us, "jjoc": jp, "aus": au}
    for a, b in (("usfj", "jjoc"), ("usfj", "aus"), ("jjoc", "aus")):
        check = partial(digests_equal, clients[a], clients[b], a, b)
        wait_until(check, 60, f"{a}-{b} digests")

    # AUS, even a TOP SECRET admin on its own node, sees nothing of the bilateral request.
    assert au.get(f"/api/v1/requests/{bilateral}").status_code == 404
    listed = au.get("/api/v1/requests").json()
    assert {x["id"] for x in listed} - before == {trilateral, mixed}
    assert "Bilateral berth plan" not in au.get("/api/v1/requests").text
    trilateral_at_aus = au.get(f"/api/v1/requests/{trilateral}").json()
    assert trilateral_at_aus["status"] == "SUBMITTED"
    assert trilateral_at_aus["label"] == "SECRET//REL TO USA, AUS, JPN"

    # Stronger: nothing of it is in the AUS node's event log at all.
    aus_db = cluster.nodes["aus"].dir / "kizuna.db"
    count = "SELECT count(*) FROM events WHERE record_id = ?"
    assert event_count(aus_db, count, bilateral) == 0
    assert event_count(aus_db, "SELECT count(*) FROM records WHERE record_id = ?", bilateral) == 0
    for secret in (
        "Bilateral berth plan",
        "unclassified aside",
        "secret bilateral note",
        "bilateral detail on a shared request",
    ):
        hits = event_count(
            aus_db, "SELECT count(*) FROM events WHERE instr(body, ?) > 0", secret.encode()
        )
        assert hits == 0, f"{secret!r} reached the AUS node"
    assert event_count(aus_db, count, trilateral) == 3  # create, submit, JJOC's comment
    assert event_count(aus_db, count, mixed) == 2  # create and the shared comment
    # ... while JJOC holds all of it (control for the queries above).
    jjoc_db = cluster.nodes["jjoc"].dir / "kizuna.db"
    assert event_count(jjoc_db, count, bilateral) == 4  # create, submit, two comments
    assert event_count(jjoc_db, count, mixed) == 3

    # On one node: a comment more restrictive than its request is hidden from an AUS user
    # who may see the request, and shown to a JPN SECRET user.
    jack = cluster.nodes["usfj"].user("jack", "AUS", "SECRET")
    hana = cluster.nodes["usfj"].user("hana", "JPN", "SECRET")
    seen_by_jack = jack.get(f"/api/v1/requests/{mixed}")
    assert seen_by_jack.status_code == 200
    assert texts(seen_by_jack.json()) == ["shared detail"]
    assert "bilateral detail" not in seen_by_jack.text
    assert [t["action"] for t in seen_by_jack.json()["timeline"]] == ["create", "comment"]
    assert texts(view(hana, mixed)) == ["bilateral detail on a shared request", "shared detail"]
    assert jack.get(f"/api/v1/requests/{bilateral}").status_code == 404


def test_wrong_moves_get_problem_json_listing_allowed_transitions(mesh: Mesh) -> None:
    us, jp = mesh.us, mesh.jp
    rid = create(us, ["jjoc"], "SECRET//REL TO USA, JPN", "Medical evacuation support")
    moved(us, rid, "SUBMITTED")
    wait_until(lambda: status(jp, rid) == "SUBMITTED", what="request at JJOC")

    def refused(client: httpx.Client, body: dict[str, Any], code: int, allowed: list[str]) -> None:
        r = client.post(f"/api/v1/requests/{rid}/transitions", json=body)
        assert r.status_code == code, (body, r.text)
        assert r.headers["content-type"].startswith(PROBLEM), body
        problem = r.json()
        assert problem["status"] == code and problem["detail"], body
        assert problem["allowed_transitions"] == allowed, body

    # The addressee node may not cancel; the requester node may not acknowledge.
    refused(jp, {"to": "CANCELLED", "reason": "not ours"}, 403, ["ACKNOWLEDGED"])
    refused(us, {"to": "ACKNOWLEDGED"}, 403, ["CANCELLED"])
    # Skipping a step, and a status that does not exist.
    refused(jp, {"to": "COMPLETED"}, 409, ["ACKNOWLEDGED"])
    refused(jp, {"to": "LAUNCHED"}, 422, ["ACKNOWLEDGED"])
    moved(jp, rid, "ACKNOWLEDGED")
    # Declining needs a reason; the requester may not write the response.
    refused(jp, {"to": "DECLINED", "reason": "  "}, 422, ["ACCEPTED", "DECLINED"])
    wait_until(lambda: status(us, rid) == "ACKNOWLEDGED", what="acknowledgement at USFJ")
    refused(us, {"to": "CANCELLED", "response": {"en": "x", "ja": ""}}, 403, ["CANCELLED"])
    moved(jp, rid, "DECLINED", reason="no aircraft available")
    wait_until(lambda: status(us, rid) == "DECLINED", what="decline at USFJ")
    refused(us, {"to": "CANCELLED"}, 409, [])
    # Nothing refused was written, on either node.
    for client in (us, jp):
        got = client.get(f"/api/v1/requests/{rid}").json()
        assert got["status"] == "DECLINED" and got["decline_reason"] == "no aircraft available"
        assert [t["to"] for t in got["timeline"]] == [
            "DRAFT",
            "SUBMITTED",
            "ACKNOWLEDGED",
            "DECLINED",
        ]


def test_an_attachment_never_travels_further_than_its_request(mesh: Mesh) -> None:
    """Issue 17, finding 3: a SECRET//NOFORN request with an UNCLASSIFIED attachment sent the
    attachment (content included) to AUS."""
    cluster, us, jp, au = mesh.cluster, mesh.us, mesh.jp, mesh.au

    def with_annex(label: str, title: str, secret: bytes) -> str:
        r = us.post(
            "/api/v1/requests",
            json={
                "addressees": ["jjoc"],
                "kind": "support",
                "label": label,
                "title": {"en": title, "ja": ""},
                "attachments": [
                    {
                        "name": "annex.txt",
                        "media_type": "text/plain",
                        "label": "UNCLASSIFIED",
                        "content": base64.b64encode(secret).decode(),
                    }
                ],
            },
        )
        assert r.status_code == 201, r.text
        annex = r.json()["attachments"]
        assert [a["label"] for a in annex] == [label], "the annex carries its request's bound"
        return str(r.json()["id"])

    noforn = with_annex("SECRET//NOFORN", "US only plan", b"annex-noforn-0001")
    bilateral = with_annex("SECRET//REL TO USA, JPN", "Bilateral plan", b"annex-bilateral-0002")
    moved(us, bilateral, "SUBMITTED")
    wait_until(lambda: status(jp, bilateral) == "SUBMITTED", what="bilateral request at JJOC")
    # A positive control that AUS does receive, then every pair has drained.
    shared = create(us, ["jjoc", "aus"], "SECRET//REL TO USA, AUS, JPN", "Shared plan")
    wait_until(lambda: view(au, shared) is not None, what="the shared request at AUS")
    clients = {"usfj": us, "jjoc": jp, "aus": au}
    for a, b in (("usfj", "jjoc"), ("usfj", "aus"), ("jjoc", "aus")):
        wait_until(partial(digests_equal, clients[a], clients[b], a, b), 60, f"{a}-{b} digests")

    # JJOC holds the bilateral request with its annex, nothing of the NOFORN one.
    jjoc_db = cluster.nodes["jjoc"].dir / "kizuna.db"
    aus_db = cluster.nodes["aus"].dir / "kizuna.db"
    count = "SELECT count(*) FROM events WHERE record_id = ?"
    assert event_count(jjoc_db, count, bilateral) == 3  # create, attach, submit
    assert event_count(jjoc_db, count, noforn) == 0
    got = view(jp, bilateral)
    assert got is not None and [a["label"] for a in got["attachments"]] == [
        "SECRET//REL TO USA, JPN"
    ]
    # AUS holds nothing of either, content included.
    for rid in (noforn, bilateral):
        assert event_count(aus_db, count, rid) == 0
        assert event_count(aus_db, "SELECT count(*) FROM records WHERE record_id = ?", rid) == 0
        assert au.get(f"/api/v1/requests/{rid}").status_code == 404
    for secret in (b"annex-noforn-0001", b"annex-bilateral-0002"):
        for db in (aus_db, *([jjoc_db] if secret.endswith(b"1") else [])):
            hits = event_count(db, "SELECT count(*) FROM events WHERE instr(body, ?) > 0", secret)
            assert hits == 0, f"{secret!r} reached {db.parent.name}"

    # On USFJ itself, a reader who may see UNCLASSIFIED but not the request sees no annex.
    jack = cluster.nodes["usfj"].user("jack2", "AUS", "SECRET")
    for rid in (noforn, bilateral):
        annex = us.get(f"/api/v1/requests/{rid}").json()["attachments"][0]["id"]
        assert jack.get(f"/api/v1/requests/{rid}").status_code == 404
        assert jack.get(f"/api/v1/requests/{rid}/attachments/{annex}").status_code == 404


def test_a_widened_request_is_whole_on_a_node_that_never_had_it(mesh: Mesh) -> None:
    """Issue 17: a request released further reaches a node that held none of it."""
    us, jp, au = mesh.us, mesh.jp, mesh.au
    classifier = mesh.cluster.nodes["usfj"].user(
        "grace", "USA", "SECRET", "--role", "requester", "--role", "classifier"
    )
    rid = create(us, ["jjoc"], "SECRET//REL TO USA, JPN", "Berthing at Yokosuka")
    moved(us, rid, "SUBMITTED")
    wait_until(lambda: status(jp, rid) == "SUBMITTED", what="the request at JJOC")
    moved(jp, rid, "ACKNOWLEDGED")
    wait_until(lambda: status(us, rid) == "ACKNOWLEDGED", what="the acknowledgement at USFJ")
    control = create(us, ["aus"], "SECRET//REL TO USA, AUS", "control")
    wait_until(lambda: view(au, control) is not None, what="the control request at AUS")
    assert view(au, rid) is None  # not releasable to AUS yet

    r = classifier.patch(f"/api/v1/requests/{rid}", json={"label": "SECRET//REL TO USA, AUS, JPN"})
    assert r.status_code == 200, r.text
    wait_until(lambda: view(au, rid) is not None, what="the widened request at AUS")
    at_aus, at_home = view(au, rid), view(us, rid)
    assert at_aus is not None and at_home is not None
    for key in ("title", "body", "status", "requester", "addressees", "label", "created_at"):
        assert at_aus[key] == at_home[key], key
    assert at_aus["status"] == "ACKNOWLEDGED"
