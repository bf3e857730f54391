"""The report API, checked from outside against a real node process."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.nodes import NodeProcess

PROBLEM = "application/problem+json"


def report(label: str, en: str = "Typhoon landfall", ja: str = "台風上陸") -> dict[str, object]:
    return {
        "label": label,
        "title": {"en": en, "ja": ja},
        "body": {"en": "Roads closed near Yokota.", "ja": "横田付近の道路閉鎖。"},
        "position": {"lat": 35.7, "lon": 139.3},
    }


@pytest.fixture
def usfj(node_factory: Callable[..., NodeProcess]) -> NodeProcess:
    return node_factory("usfj", "USA")


def test_create_get_list_update(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    r = alice.post("/api/v1/reports", json=report("S//REL TO JPN, USA"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["label"] == "SECRET//REL TO USA, JPN"
    assert created["label_ja"].startswith("極秘")
    assert created["title"] == {"en": "Typhoon landfall", "ja": "台風上陸"}
    assert created["position"] == {"lat": 35.7, "lon": 139.3}

    got = alice.get(f"/api/v1/reports/{created['id']}").json()
    assert got == created
    assert [x["id"] for x in alice.get("/api/v1/reports").json()] == [created["id"]]

    r = alice.patch(
        f"/api/v1/reports/{created['id']}", json={"title": {"en": "Update", "ja": "更新"}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["title"]["ja"] == "更新"
    assert r.json()["body"] == created["body"]


def test_reads_are_filtered_by_release(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "TOP SECRET")
    kenji = usfj.user("kenji", "JPN", "SECRET")
    jack = usfj.user("jack", "AUS", "SECRET")
    low = usfj.user("bob", "USA", "CONFIDENTIAL")
    ids = {}
    for marking in (
        "S//REL TO USA, JPN",
        "SECRET//NOFORN",
        "U",
        "C//REL TO USA, AUS, JPN",
        "TS//REL TO USA, JPN",
        "S//REL TO FVEY",
    ):
        r = alice.post("/api/v1/reports", json=report(marking))
        assert r.status_code == 201, r.text
        ids[marking] = r.json()["id"]

    def seen(client: httpx.Client) -> set[str]:
        return {x["label"] for x in client.get("/api/v1/reports").json()}

    assert seen(kenji) == {
        "SECRET//REL TO USA, JPN",
        "UNCLASSIFIED",
        "CONFIDENTIAL//REL TO USA, AUS, JPN",
    }
    assert seen(jack) == {
        "UNCLASSIFIED",
        "CONFIDENTIAL//REL TO USA, AUS, JPN",
        "SECRET//REL TO USA, FVEY",
    }
    assert seen(low) == {"UNCLASSIFIED", "CONFIDENTIAL//REL TO USA, AUS, JPN"}
    # Hidden records answer 404, never 403: existence is not disclosed.
    for client, marking in (
        (kenji, "SECRET//NOFORN"),
        (jack, "S//REL TO USA, JPN"),
        (kenji, "TS//REL TO USA, JPN"),
    ):
        r = client.get(f"/api/v1/reports/{ids[marking]}")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith(PROBLEM)


def test_writes_above_clearance_or_locking_out_own_nation_are_refused(usfj: NodeProcess) -> None:
    kenji = usfj.user("kenji", "JPN", "CONFIDENTIAL")
    for marking in ("SECRET//REL TO USA, JPN", "C//REL TO USA", "C//NOFORN"):
        r = kenji.post("/api/v1/reports", json=report(marking))
        assert r.status_code == 403, (marking, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    assert kenji.post("/api/v1/reports", json=report("C//REL TO USA, JPN")).status_code == 201


BAD_BODIES = {
    "wrong type": {"label": "U", "title": "not an object"},
    "unknown field": {**report("U"), "colour": "red"},
    "missing field": {"title": {"en": "x", "ja": ""}},
    "malformed label": report("SECRET//REL TO NARNIA"),
    "contradictory label": report("SECRET//NOFORN//REL TO USA, JPN"),
    "unknown classification": report("SUPER SECRET"),
    "position out of range": {**report("U"), "position": {"lat": 123, "lon": 0}},
    "empty title": {**report("U"), "title": {"en": "", "ja": " "}},
}


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_bad_input_gets_problem_json(usfj: NodeProcess, kind: str) -> None:
    alice = usfj.user(f"u{abs(hash(kind)) % 10**6}", "USA", "SECRET")
    r = alice.post("/api/v1/reports", json=BAD_BODIES[kind])
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == r.status_code and body["detail"]


def test_bad_transport_input(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    cases = [
        alice.post(
            "/api/v1/reports", content=b"{not json", headers={"content-type": "application/json"}
        ),
        alice.post(
            "/api/v1/reports",
            content=b"[" + b"1," * 600_000 + b"1]",
            headers={"content-type": "application/json"},
        ),
        httpx.get(f"{usfj.url}/api/v1/reports"),
        httpx.get(f"{usfj.url}/api/v1/reports", headers={"Authorization": "Bearer kz_wrong"}),
        httpx.get(f"{usfj.url}/api/v1/reports", headers={"Authorization": "Basic abc"}),
        alice.patch("/api/v1/reports/none", json={"title": 5}),
        alice.get("/api/v1/reports/does-not-exist"),
    ]
    statuses = [r.status_code for r in cases]
    assert statuses == [400, 413, 401, 401, 401, 400, 404]
    for r in cases:
        assert r.headers["content-type"].startswith(PROBLEM), r.text
    metrics = httpx.get(f"{usfj.url}/metrics").text
    assert 'kizuna_bad_input_total{reason="413",source="api"}' in metrics
    assert 'kizuna_access_refused_total{reason="bad_token"}' in metrics


def test_openapi_health_and_metrics(usfj: NodeProcess) -> None:
    assert httpx.get(f"{usfj.url}/healthz").json()["status"] == "ok"
    spec = httpx.get(f"{usfj.url}/api/docs/openapi.json").json()
    assert "/api/v1/reports" in spec["paths"]
    assert "kizuna_events_committed_total" in httpx.get(f"{usfj.url}/metrics").text


def test_password_login_issues_a_session_token(usfj: NodeProcess) -> None:
    usfj.user("hana", "JPN", "SECRET", "--password", "correct horse")
    bad = httpx.post(f"{usfj.url}/api/v1/login", json={"name": "hana", "password": "wrong"})
    assert bad.status_code == 401
    r = httpx.post(f"{usfj.url}/api/v1/login", json={"name": "hana", "password": "correct horse"})
    token = r.json()["token"]
    me = httpx.get(f"{usfj.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["nation"] == "JPN" and me["clearance"] == "SECRET"


def test_batch_is_all_or_nothing(usfj: NodeProcess) -> None:
    alice = usfj.user("alice", "USA", "SECRET")
    good = [report("U", en=f"item {i}") for i in range(5)]
    bad = [*good, report("SECRET//REL TO NARNIA")]
    r = alice.post("/api/v1/reports/batch", json=bad)
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert alice.get("/api/v1/reports").json() == []  # never half-applied
    r = alice.post("/api/v1/reports/batch", json=good)
    assert r.status_code == 201 and len(r.json()) == 5
    assert len(alice.get("/api/v1/reports").json()) == 5
    assert alice.post("/api/v1/reports/batch", json=[]).status_code == 422


def audit_entries(node: NodeProcess, action: str) -> list[dict[str, object]]:
    lines = (node.dir / "audit.log").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == action]


def test_only_the_originators_classifier_may_widen_a_label(usfj: NodeProcess) -> None:
    """Issue 17, finding 2: anyone who could see a report could relabel it."""
    alice = usfj.user("alice", "USA", "SECRET")
    kenji = usfj.user("kenji", "JPN", "SECRET", "--role", "admin")
    minsu = usfj.user("minsu", "KOR", "SECRET")
    admin = usfj.user("grace", "USA", "SECRET", "--role", "admin")
    created = alice.post("/api/v1/reports", json=report("SECRET//REL TO USA, JPN")).json()
    url = f"/api/v1/reports/{created['id']}"

    # A JPN user who may read it may not declassify it, nor release it further.
    for marking in (
        "UNCLASSIFIED",
        "SECRET//REL TO USA, JPN, KOR",
        "CONFIDENTIAL//REL TO USA, JPN",
    ):
        r = kenji.patch(url, json={"label": marking, "title": {"en": "Relabelled", "ja": ""}})
        assert r.status_code == 403, (marking, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    # ... and neither may a USA user without the classification role.
    r = alice.patch(url, json={"label": "UNCLASSIFIED"})
    assert r.status_code == 403, r.text
    # Nothing changed: same label, same title, still hidden from KOR.
    assert kenji.get(url).json() == created
    assert minsu.get(url).status_code == 404
    assert "Roads closed" not in minsu.get("/api/v1/reports").text
    refused = [e for e in audit_entries(usfj, "access") if e["details"]["reason"] == "relabel"]
    assert len(refused) == 4
    assert {e["actor"] for e in refused} == {"kenji", "alice"}
    assert all(e["details"]["before"] == "SECRET//REL TO USA, JPN" for e in refused)
    metrics = httpx.get(f"{usfj.url}/metrics").text
    assert 'kizuna_access_refused_total{reason="relabel"} 4.0' in metrics

    # Restricting is anyone's right (who may edit at all): JPN narrows it to TS.
    r = kenji.patch(url, json={"label": "TOP SECRET//REL TO USA, JPN"})
    assert r.status_code == 403  # above kenji's clearance: the write check still holds
    r = alice.patch(url, json={"label": "SECRET//REL TO USA, JPN//EXERCISE"})
    assert r.status_code == 200, r.text
    r = alice.patch(url, json={"label": "SECRET//REL TO USA, JPN"})
    assert r.status_code == 403, r.text  # dropping EXERCISE is a widening
    r = kenji.patch(url, json={"label": "//JPN SECRET//NOFORN"})
    assert r.status_code in (403, 422), r.text  # another nation's marking: never

    # The originator's classifier may widen: the USA admin releases it to KOR.
    r = admin.patch(url, json={"label": "SECRET//REL TO USA, JPN, KOR//EXERCISE"})
    assert r.status_code == 200, r.text
    assert minsu.get(url).status_code == 200
    changes = audit_entries(usfj, "label.change")
    assert [(e["actor"], e["details"]["before"], e["details"]["after"]) for e in changes] == [
        ("alice", "SECRET//REL TO USA, JPN", "SECRET//REL TO USA, JPN//EXERCISE"),
        ("grace", "SECRET//REL TO USA, JPN//EXERCISE", "SECRET//REL TO USA, JPN, KOR//EXERCISE"),
    ]
