"""Ownership at receipt (issue 17, finding 5): a peer may not rewrite records it does not own.

A real node (usfj, USA) is peered with jjoc (JPN). jjoc never runs: the test holds its
certificate and posts hand-built batches over mutual TLS, as a hostile or broken peer would.
What the test checks is what usfj's users see through the API, and what usfj counts and audits.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from kizuna.core.hlc import pack
from kizuna.core.labels import parse_label
from kizuna.core.records import Event, Precedence
from kizuna.picture.models import Provenance, Track
from tests.nodes import (
    NodeProcess,
    make_node_dir,
    metric,
    peer_client,
    peer_one_way,
    post_batch,
)

VIOLATIONS = "kizuna_federation_violations_total"
_seq = itertools.count(1)


@dataclass
class Victim:
    node: NodeProcess
    alice: httpx.Client  # USA, SECRET, requester
    kim: httpx.Client  # KOR, SECRET: must never read what is not released to KOR
    peer: httpx.Client  # jjoc's end of the federation link

    def violations(self, reason: str) -> float:
        with httpx.Client(base_url=self.node.url, timeout=30) as c:
            return metric(c, VIOLATIONS, peer="jjoc", reason=reason)


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Victim]:
    root = tmp_path_factory.mktemp("ownership")
    us = make_node_dir(root / "usfj", "usfj", "USA")
    jp = make_node_dir(root / "jjoc", "jjoc", "JPN")
    peer_one_way(us, jp)
    peer_one_way(jp, us)
    node = NodeProcess(us)
    node.start()
    try:
        yield Victim(
            node,
            alice=node.user("alice", "USA", "SECRET", "--role", "requester"),
            kim=node.user("kim", "KOR", "SECRET"),
            peer=peer_client(jp, us),
        )
    finally:
        node.stop()


def later() -> int:
    """An HLC a minute ahead: a forged write that would win every last-writer-wins merge."""
    return pack(int((time.time() + 60) * 1000), 0)


def forged(
    record_type: str,
    record_id: str,
    op: str,
    marking: str,
    payload: dict[str, Any] | None = None,
    *,
    origin: str = "jjoc",
    nation: str = "JPN",
) -> Event:
    return Event(
        origin=origin,
        seq=next(_seq),
        hlc=later(),
        record_type=record_type,
        record_id=record_id,
        op=op,  # type: ignore[arg-type]
        label=parse_label(marking, originator=nation),
        precedence=Precedence.ROUTINE,
        payload=payload or {},
        author="mallory",
    )


def refusals(node: NodeProcess, record_id: str) -> list[str]:
    """Reasons the node's audit trail gives for refusing jjoc's events about ``record_id``."""
    out = []
    for line in (node.dir / "audit.log").read_text().splitlines():
        entry = json.loads(line)
        details = entry["details"]
        if entry["action"] == "federation.receive" and details.get("record_id") == record_id:
            assert entry["actor"] == "node:jjoc" and entry["outcome"] == "refused"
            out.append(details["reason"])
    return out


def report(client: httpx.Client, marking: str, title: str) -> str:
    r = client.post("/api/v1/reports", json={"label": marking, "title": {"en": title}})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_a_peer_cannot_relabel_or_retitle_another_nodes_report(victim: Victim) -> None:
    rid = report(victim.alice, "SECRET//NOFORN", "SSN-1 patrol area")
    before = victim.violations("not_owner")

    # A patch with jjoc's own origin that declassifies usfj's report: KOR must not read it.
    ack = post_batch(victim.peer, "events", [forged("report", rid, "patch", "UNCLASSIFIED")])
    assert victim.kim.get(f"/api/v1/reports/{rid}").status_code == 404
    assert victim.alice.get(f"/api/v1/reports/{rid}").json()["label"] == "SECRET//NOFORN"
    assert ack == {"accepted": 1, "applied": 0, "refused": 1}
    # One that keeps the label (so every label check passes) but replaces the title.
    retitle = forged(
        "report", rid, "patch", "SECRET//NOFORN", {"title": {"en": "forged"}}, nation="USA"
    )
    ack = post_batch(victim.peer, "events", [retitle])
    assert victim.alice.get(f"/api/v1/reports/{rid}").json()["title"]["en"] == "SSN-1 patrol area"
    assert ack == {"accepted": 1, "applied": 0, "refused": 1}
    # A create claiming the record, a tombstone: the same.
    claim = forged("report", rid, "create", "UNCLASSIFIED", {"title": {"en": "mine"}})
    gone = forged("report", rid, "tombstone", "UNCLASSIFIED")
    ack = post_batch(victim.peer, "events", [claim, gone])
    assert ack == {"accepted": 2, "applied": 0, "refused": 2}

    held = victim.alice.get(f"/api/v1/reports/{rid}").json()
    assert (held["label"], held["origin"], held["updated_by"]) == (
        "SECRET//NOFORN",
        "usfj",
        "alice",
    )
    assert victim.kim.get(f"/api/v1/reports/{rid}").status_code == 404
    assert victim.violations("not_owner") - before == 4
    assert refusals(victim.node, rid) == ["not_owner"] * 4


def test_a_peer_still_writes_its_own_reports(victim: Victim) -> None:
    mine = forged("report", "jjoc-own-1", "create", "S//REL TO USA, JPN", {"title": {"en": "a"}})
    edit = forged("report", "jjoc-own-1", "patch", "S//REL TO USA, JPN", {"title": {"en": "b"}})
    # The create and its patch in one batch, and the patch alone afterwards.
    assert post_batch(victim.peer, "events", [mine]) == {"accepted": 1, "applied": 1, "refused": 0}
    assert post_batch(victim.peer, "events", [edit]) == {"accepted": 1, "applied": 1, "refused": 0}
    held = victim.alice.get("/api/v1/reports/jjoc-own-1").json()
    assert held["origin"] == "jjoc" and held["title"]["en"] == "b"


def request(client: httpx.Client, addressees: list[str], marking: str) -> str:
    r = client.post(
        "/api/v1/requests",
        json={
            "addressees": addressees,
            "kind": "support",
            "label": marking,
            "title": {"en": "Fuel at Sasebo"},
        },
    )
    assert r.status_code == 201, r.text
    rid = str(r.json()["id"])
    r = client.post(f"/api/v1/requests/{rid}/transitions", json={"to": "SUBMITTED"})
    assert r.status_code == 200, r.text
    return rid


def transition(rid: str, frm: str, to: str, marking: str, **sets: Any) -> Event:
    payload = {"action": "transition", "from": frm, "to": to, "reason": "", "set": sets}
    return forged("request", rid, "patch", marking, payload, nation="USA")


def test_a_non_party_cannot_move_or_answer_a_request(victim: Victim) -> None:
    marking = "SECRET//REL TO USA, JPN"  # jjoc may read it, but it is addressed to aus
    rid = request(victim.alice, ["aus"], marking)
    done = transition(rid, "IN_PROGRESS", "COMPLETED", marking)
    answer = forged(
        "request",
        rid,
        "patch",
        marking,
        {"set": {"response": {"en": "done", "ja": ""}}},
        nation="USA",
    )
    edit = forged(
        "request",
        rid,
        "patch",
        marking,
        {"action": "edit", "set": {"title": {"en": "forged", "ja": ""}}},
        nation="USA",
    )
    note = forged(
        "request",
        rid,
        "patch",
        marking,
        {"action": "comment", "id": "c-mallory", "text": {"en": "ignore this", "ja": ""}},
        nation="USA",
    )
    ack = post_batch(victim.peer, "events", [done, answer, edit, note])
    held = victim.alice.get(f"/api/v1/requests/{rid}").json()
    assert held["status"] == "SUBMITTED"
    assert held["response"] is None and held["title"]["en"] == "Fuel at Sasebo"
    assert held["comments"] == []
    assert ack == {"accepted": 4, "applied": 0, "refused": 4}
    assert refusals(victim.node, rid) == ["not_entitled", "not_addressee", "not_owner", "not_party"]


def test_an_addressee_moves_only_its_own_side(victim: Victim) -> None:
    marking = "SECRET//REL TO USA, JPN"
    rid = request(victim.alice, ["jjoc"], marking)
    ack = transition(rid, "SUBMITTED", "ACKNOWLEDGED", marking)
    assert post_batch(victim.peer, "events", [ack])["applied"] == 1
    assert victim.alice.get(f"/api/v1/requests/{rid}").json()["status"] == "ACKNOWLEDGED"
    # Cancelling is the requester's; the addressee may not.
    cancel = transition(rid, "ACKNOWLEDGED", "CANCELLED", marking)
    assert post_batch(victim.peer, "events", [cancel])["refused"] == 1
    assert victim.alice.get(f"/api/v1/requests/{rid}").json()["status"] == "ACKNOWLEDGED"
    assert refusals(victim.node, rid) == ["not_entitled"]


def track(
    track_id: str, marking: str, lat: float, *, connection: str = "api:mallory", nation: str = "JPN"
) -> Track:
    now = time.time() + 5
    return Track(
        id=track_id,
        source="manual",
        source_id=track_id,
        lat=lat,
        lon=lat,
        observed_at=now,
        stale_at=now + 600,
        label=parse_label(marking, originator=nation),
        sidc="10033000001201000000",
        sources=[
            Provenance(source="manual", source_id=track_id, observed_at=now, connection=connection)
        ],
    )


def test_a_peer_cannot_replace_this_nodes_own_observation(victim: Victim) -> None:
    r = victim.alice.post(
        "/api/v1/tracks", json=[{"label": "S//NOFORN", "lat": 35.2, "lon": 139.8, "id": "ssn-1"}]
    )
    assert r.status_code == 200, r.text
    before = victim.violations("own_source")
    ack = post_batch(victim.peer, "track", [track("ssn-1", "UNCLASSIFIED", 0.5)])
    # Claiming to relay this node's own observation back: refused too.
    echo = track("ssn-1", "UNCLASSIFIED", 0.5, connection="federation:usfj")
    echoed = post_batch(victim.peer, "track", [echo])
    held = victim.alice.get("/api/v1/tracks/ssn-1").json()
    assert (held["lat"], held["lon"], held["label"]) == (35.2, 139.8, "SECRET//NOFORN")
    assert [s["connection"] for s in held["sources"]] == ["api:alice"]
    assert victim.kim.get("/api/v1/tracks/ssn-1").status_code == 404
    assert ack == {"accepted": 1, "applied": 0, "refused": 1}
    assert echoed == {"accepted": 1, "applied": 0, "refused": 1}
    assert victim.violations("own_source") - before == 1
    # jjoc's own observations still join the picture.
    assert post_batch(victim.peer, "track", [track("jp-1", "UNCLASSIFIED", 1.0)])["applied"] == 1
    mine = victim.alice.get("/api/v1/tracks/jp-1").json()
    assert [s["connection"] for s in mine["sources"]] == ["federation:jjoc"]
