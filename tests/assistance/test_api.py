"""The assistance API from outside, against a real node process: shapes, problem+json."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.nodes import NodeProcess

PROBLEM = "application/problem+json"


@pytest.fixture
def jjoc(node_factory: Callable[..., NodeProcess]) -> NodeProcess:
    return node_factory("jjoc", "JPN")


def rfa(unit: str = "L", quantity: float = 900_000) -> dict[str, object]:
    return {
        "incident_id": "eq-1",
        "requesting_org": {"en": "Ishikawa Prefecture", "ja": "石川県"},
        "site": {"id": "shelter-1", "name": {"en": "Wajima Elementary School", "ja": "輪島小学校"}},
        "lines": [{"item": "water", "kind": "item", "quantity": quantity, "unit": unit}],
        "label": "U",
    }


def test_rfa_over_http(jjoc: NodeProcess) -> None:
    op = jjoc.user("sato", "JPN", "SECRET")
    for bad in (rfa(unit="gallon"), rfa(quantity=-1)):
        r = op.post("/api/v1/rfas", json=bad)
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert op.get("/api/v1/rfas").json() == []  # nothing half-applied

    r = op.post("/api/v1/rfas", json=rfa())
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["status"], created["coverage"], created["affected_node"]) == (
        "DRAFT",
        "NONE",
        "jjoc",
    )
    assert created["lines"][0]["gap"] == 900_000
    assert created["allowed_transitions"] == ["SUBMITTED", "CANCELLED", "SUPERSEDED"]
    rid = created["id"]

    r = op.post(f"/api/v1/rfas/{rid}/transition", json={"to": "OPEN"})
    assert r.status_code == 409 and r.json()["allowed_transitions"], r.text
    for to in ("SUBMITTED", "VALIDATED", "OPEN"):
        r = op.post(f"/api/v1/rfas/{rid}/transition", json={"to": to})
        assert r.status_code == 200, r.text
    r = op.post(f"/api/v1/rfas/{rid}/transition", json={"to": "CANCELLED"})
    assert r.status_code == 422 and "reason" in r.json()["detail"], r.text
    assert op.get("/api/v1/rfas", params={"incident": "eq-1"}).json()[0]["status"] == "OPEN"
    assert op.get("/api/v1/offers", params={"rfa": rid}).json() == []
    assert op.get("/api/v1/tasks").json() == []
    r = op.post(
        "/api/v1/offers",
        json={
            "rfa_id": rid,
            "lines": [{"item": "water", "quantity": 1, "unit": "L"}],
            "label": "U",
        },
    )
    assert r.status_code == 422 and "another node" in r.json()["detail"], r.text
