"""The coordination request API, checked from outside against a real node process."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable

import httpx
import pytest

from tests.nodes import NodeProcess

PROBLEM = "application/problem+json"


def request_body(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "addressees": ["usfj"],
        "kind": "support",
        "precedence": "IMMEDIATE",
        "label": "SECRET//REL TO USA, JPN",
        "title": {"en": "Fuel support at Misawa", "ja": "三沢での燃料支援"},
        "body": {"en": "Two tankers needed.", "ja": ""},
    }
    body.update(over)
    return body


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def usfj(node_factory: Callable[..., NodeProcess]) -> NodeProcess:
    return node_factory("usfj", "USA")


def move(client: httpx.Client, rid: str, to: str, **extra: object) -> httpx.Response:
    return client.post(f"/api/v1/requests/{rid}/transitions", json={"to": to, **extra})


def test_full_lifecycle_by_the_right_sides(usfj: NodeProcess) -> None:
    asker = usfj.user("asker", "USA", "SECRET", "--role", "requester")
    helper = usfj.user("helper", "JPN", "SECRET", "--role", "responder")
    r = asker.post("/api/v1/requests", json=request_body())
    assert r.status_code == 201, r.text
    req = r.json()
    rid = req["id"]
    assert req["status"] == "DRAFT" and req["requester"] == "usfj"
    assert req["label"] == "SECRET//REL TO USA, JPN" and req["label_ja"].startswith("極秘")
    assert req["original_language"] == "en"
    assert req["allowed_transitions"] == ["SUBMITTED", "CANCELLED"]
    assert helper.get(f"/api/v1/requests/{rid}").json()["allowed_transitions"] == []

    # The responder may not submit; the answer says what it may do.
    r = move(helper, rid, "SUBMITTED")
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["allowed_transitions"] == []
    assert move(asker, rid, "SUBMITTED").status_code == 200
    r = move(asker, rid, "ACKNOWLEDGED")
    assert r.status_code == 403
    assert r.json()["allowed_transitions"] == ["CANCELLED"]
    assert move(helper, rid, "ACKNOWLEDGED").json()["status"] == "ACKNOWLEDGED"
    assert (
        move(
            helper, rid, "ACCEPTED", response={"en": "Two tankers by 1800", "ja": "1800までに2台"}
        ).status_code
        == 200
    )
    assert move(helper, rid, "IN_PROGRESS").status_code == 200
    done = move(helper, rid, "COMPLETED", reason="delivered").json()
    assert done["status"] == "COMPLETED"
    assert done["response"] == {"en": "Two tankers by 1800", "ja": "1800までに2台"}
    assert done["allowed_transitions"] == [] and done["overdue"] is False

    steps = [(t["action"], t["from"], t["to"], t["actor"], t["node"]) for t in done["timeline"]]
    assert steps == [
        ("create", None, "DRAFT", "asker", "usfj"),
        ("transition", "DRAFT", "SUBMITTED", "asker", "usfj"),
        ("transition", "SUBMITTED", "ACKNOWLEDGED", "helper", "usfj"),
        ("transition", "ACKNOWLEDGED", "ACCEPTED", "helper", "usfj"),
        ("transition", "ACCEPTED", "IN_PROGRESS", "helper", "usfj"),
        ("transition", "IN_PROGRESS", "COMPLETED", "helper", "usfj"),
    ]
    assert done["timeline"][-1]["reason"] == "delivered"
    times = [at(t["at"]) for t in done["timeline"]]
    assert times == sorted(times) and all(t.tzinfo == dt.UTC for t in times)

    # Terminal: nothing more, not even a cancel.
    r = move(asker, rid, "CANCELLED")
    assert r.status_code == 409 and r.json()["allowed_transitions"] == []


def test_decline_needs_a_reason_and_cancel_is_the_requesters(usfj: NodeProcess) -> None:
    op = usfj.user("op", "USA", "SECRET")  # no role: acts for both sides of its own node
    viewer = usfj.user("viewer", "USA", "SECRET", "--role", "viewer")
    rid = op.post("/api/v1/requests", json=request_body()).json()["id"]
    assert move(viewer, rid, "SUBMITTED").status_code == 403
    assert move(op, rid, "SUBMITTED").status_code == 200
    assert move(op, rid, "ACKNOWLEDGED").json()["allowed_transitions"] == [
        "ACCEPTED",
        "DECLINED",
        "CANCELLED",
    ]
    r = move(op, rid, "DECLINED")
    assert r.status_code == 422
    assert r.json()["allowed_transitions"] == ["ACCEPTED", "DECLINED", "CANCELLED"]
    r = move(op, rid, "DECLINED", reason="no tankers available")
    assert r.json()["status"] == "DECLINED"
    assert r.json()["decline_reason"] == "no tankers available"

    rid2 = op.post("/api/v1/requests", json=request_body()).json()["id"]
    r = move(op, rid2, "COMPLETED")
    assert r.status_code == 409 and r.json()["allowed_transitions"] == ["SUBMITTED", "CANCELLED"]
    assert move(op, rid2, "CANCELLED", reason="overtaken").json()["status"] == "CANCELLED"
    listed = {x["id"]: x["status"] for x in op.get("/api/v1/requests").json()}
    assert listed == {rid: "DECLINED", rid2: "CANCELLED"}
    assert [x["id"] for x in op.get("/api/v1/requests", params={"status": "DECLINED"}).json()] == [
        rid
    ]


def test_due_follows_precedence_unless_given_and_overdue(usfj: NodeProcess) -> None:
    op = usfj.user("op", "USA", "SECRET")
    for precedence, seconds in (
        ("FLASH", 600),
        ("IMMEDIATE", 1800),
        ("PRIORITY", 10800),
        ("ROUTINE", 21600),
    ):
        req = op.post("/api/v1/requests", json=request_body(precedence=precedence)).json()
        assert req["precedence"] == precedence
        lag = at(req["due"]) - at(req["created_at"])
        assert abs(lag.total_seconds() - seconds) < 5, (precedence, lag)
        assert req["overdue"] is False

    # The handling clock restarts when the request is submitted.
    rid = op.post("/api/v1/requests", json=request_body(precedence="FLASH")).json()["id"]
    sub = move(op, rid, "SUBMITTED").json()
    lag = at(sub["due"]) - at(sub["timeline"][-1]["at"])
    assert abs(lag.total_seconds() - 600) < 5

    past = op.post("/api/v1/requests", json=request_body(due="2020-01-01T00:00:00Z")).json()
    assert past["due"] == "2020-01-01T00:00:00.000Z" and past["overdue"] is True
    assert [x["id"] for x in op.get("/api/v1/requests", params={"overdue": "true"}).json()] == [
        past["id"]
    ]
    assert move(op, past["id"], "CANCELLED").json()["overdue"] is False
    assert op.get("/api/v1/requests", params={"overdue": "true"}).json() == []


def test_restrictive_comment_is_hidden_from_who_may_not_see_it(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    kenji = usfj.user("kenji", "JPN", "SECRET")
    rid = alice.post("/api/v1/requests", json=request_body()).json()["id"]
    r = alice.post(
        f"/api/v1/requests/{rid}/comments",
        json={"label": "SECRET//NOFORN", "text": {"en": "US-only note"}},
    )
    assert r.status_code == 201, r.text
    r = kenji.post(
        f"/api/v1/requests/{rid}/comments",
        json={"label": "S//REL TO USA, JPN", "text": {"ja": "了解"}},
    )
    assert r.status_code == 201, r.text

    mine = alice.get(f"/api/v1/requests/{rid}").json()
    assert [(c["author"], c["label"]) for c in mine["comments"]] == [
        ("alice", "SECRET//NOFORN"),
        ("kenji", "SECRET//REL TO USA, JPN"),
    ]
    theirs = kenji.get(f"/api/v1/requests/{rid}").json()
    assert [c["text"] for c in theirs["comments"]] == [{"en": "", "ja": "了解"}]
    assert "US-only note" not in kenji.get(f"/api/v1/requests/{rid}").text
    assert [t["action"] for t in theirs["timeline"]] == ["create", "comment"]
    assert [t["action"] for t in mine["timeline"]] == ["create", "comment", "comment"]


def test_reads_filtered_and_writes_checked(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "TOP SECRET")
    jack = usfj.user("jack", "AUS", "SECRET")
    kenji = usfj.user("kenji", "JPN", "CONFIDENTIAL")
    rid = alice.post("/api/v1/requests", json=request_body()).json()["id"]
    assert jack.get(f"/api/v1/requests/{rid}").status_code == 404
    assert move(jack, rid, "SUBMITTED").status_code == 404
    assert jack.get("/api/v1/requests").json() == []
    assert kenji.get(f"/api/v1/requests/{rid}").status_code == 404
    r = kenji.post("/api/v1/requests", json=request_body())
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    r = alice.post(
        f"/api/v1/requests/{rid}/comments",
        json={"label": "SECRET//REL TO NARNIA", "text": {"en": "x"}},
    )
    assert r.status_code == 422
    audit = [json.loads(line) for line in (usfj.dir / "audit.log").read_text().splitlines()]
    writes = [
        (e["action"], e["actor"], e["outcome"]) for e in audit if e["action"].startswith("request.")
    ]
    assert writes == [("request.create", "alice", "ok")]
    assert ("access", "jack", "refused") in [(e["action"], e["actor"], e["outcome"]) for e in audit]


def test_attachments_are_labelled_and_served(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    kenji = usfj.user("kenji", "JPN", "SECRET")
    plan = "燃料計画".encode()
    body = request_body(
        links=[{"type": "report", "id": "r-1"}, {"type": "track", "id": "t-9"}],
        attachments=[
            {
                "name": "plan.txt",
                "media_type": "text/plain",
                "label": "S//REL TO USA, JPN",
                "content": base64.b64encode(plan).decode(),
            },
            {
                "name": "us.txt",
                "media_type": "text/plain",
                "label": "S//NOFORN",
                "content": base64.b64encode(b"us only").decode(),
            },
        ],
    )
    req = alice.post("/api/v1/requests", json=body)
    assert req.status_code == 201, req.text
    req = req.json()
    assert req["links"] == [{"type": "report", "id": "r-1"}, {"type": "track", "id": "t-9"}]
    assert [(a["name"], a["size"]) for a in req["attachments"]] == [
        ("plan.txt", len(plan)),
        ("us.txt", 7),
    ]
    seen = kenji.get(f"/api/v1/requests/{req['id']}").json()["attachments"]
    assert [a["name"] for a in seen] == ["plan.txt"]
    got = kenji.get(f"/api/v1/requests/{req['id']}/attachments/{seen[0]['id']}")
    assert got.status_code == 200 and got.content == plan
    assert got.headers["content-type"].startswith("text/plain")
    hidden = req["attachments"][1]["id"]
    assert kenji.get(f"/api/v1/requests/{req['id']}/attachments/{hidden}").status_code == 404
    assert alice.get(f"/api/v1/requests/{req['id']}/attachments/{hidden}").content == b"us only"


BAD = {
    "unknown kind": request_body(kind="invasion"),
    "unknown precedence": request_body(precedence="URGENT"),
    "no addressee": request_body(addressees=[]),
    "bad addressee": request_body(addressees=["no such/node"]),
    "empty title": request_body(title={"en": " ", "ja": ""}),
    "bad due": request_body(due="tomorrow"),
    "bad label": request_body(label="SECRET//NOFORN//REL TO USA"),
    "unknown field": request_body(colour="red"),
    "bad base64": request_body(
        attachments=[{"name": "a", "media_type": "text/plain", "label": "U", "content": "!!!"}]
    ),
    "too large": request_body(
        attachments=[
            {
                "name": "a",
                "media_type": "text/plain",
                "label": "U",
                "content": base64.b64encode(b"x" * (256 * 1024 + 1)).decode(),
            }
        ]
    ),
    "bad link": request_body(links=[{"type": "ship", "id": "x"}]),
}


def test_bad_input_gets_problem_json_and_changes_nothing(usfj: NodeProcess) -> None:
    op = usfj.user("op", "USA", "SECRET")
    for kind, body in BAD.items():
        r = op.post("/api/v1/requests", json=body)
        assert 400 <= r.status_code < 500, (kind, r.text)
        assert r.headers["content-type"].startswith(PROBLEM), kind
        assert r.json()["detail"], kind
    assert op.get("/api/v1/requests").json() == []
    rid = op.post("/api/v1/requests", json=request_body()).json()["id"]
    for body in ({"to": "LAUNCHED"}, {"to": 5}, {}, {"to": "SUBMITTED", "extra": 1}):
        r = op.post(f"/api/v1/requests/{rid}/transitions", json=body)
        assert 400 <= r.status_code < 500, (body, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    assert op.get(f"/api/v1/requests/{rid}").json()["status"] == "DRAFT"
    assert op.get("/api/v1/requests/nope").status_code == 404


def test_requester_edits_content_and_translation(usfj: NodeProcess) -> None:
    asker = usfj.user("asker", "JPN", "SECRET", "--role", "requester")
    helper = usfj.user("helper", "USA", "SECRET", "--role", "responder")
    req = asker.post(
        "/api/v1/requests",
        json=request_body(title={"en": "", "ja": "輸送支援"}, label="S//REL TO USA, JPN"),
    ).json()
    assert req["original_language"] == "ja"
    r = helper.patch(f"/api/v1/requests/{req['id']}", json={"title": {"en": "x", "ja": "x"}})
    assert r.status_code == 403
    r = asker.patch(
        f"/api/v1/requests/{req['id']}",
        json={"title": {"en": "Transport support", "ja": "輸送支援"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["title"] == {"en": "Transport support", "ja": "輸送支援"}
    assert r.json()["original_language"] == "ja"
    assert [t["action"] for t in r.json()["timeline"]] == ["create", "edit"]
