"""The relief routes on an in-process node: shapes, problem+json, the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from kizuna.api.app import create_app
from kizuna.relief import plugin
from tests.picture.support import in_process_node, user_token

PROBLEM = "application/problem+json"
SHELTER = {
    "label": "UNCLASSIFIED//REL TO USA, JPN",
    "name": {"en": "Wajima Municipal Gymnasium", "ja": "輪島市立体育館"},
    "municipality": {"en": "Wajima", "ja": "輪島市"},
    "position": {"lat": 37.3906, "lon": 136.8992},
    "capacity_day": 800,
    "capacity_night": 600,
    "population_night": 650,
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient[Any], dict[str, dict[str, str]]]]:
    node = in_process_node(tmp_path / "usfj", [plugin])
    try:
        headers = {
            nation: {"Authorization": f"Bearer {user_token(node, f'u-{nation}', nation, 'SECRET')}"}
            for nation in ("USA", "AUS")
        }
        with TestClient(create_app(node)) as client:
            yield client, headers
    finally:
        node.close()


def test_needs_route_gives_900000_litres(api: tuple[TestClient[Any], Any]) -> None:
    client, h = api
    r = client.post("/api/v1/needs", json={"population": 20000, "days": 3}, headers=h["USA"])
    assert r.status_code == 200, r.text
    lines = {line["item"]: line for line in r.json()["lines"]}
    assert lines["water"] == {
        "item": "water",
        "kind": "item",
        "description": lines["water"]["description"],
        "quantity": 900000.0,
        "unit": "L",
        "pack_size": 12.0,
        "packs": 75000.0,
    }
    assert lines["toilet"]["quantity"] == 1000
    bad = client.post("/api/v1/needs", json={"population": 20000, "days": 0}, headers=h["USA"])
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)


def test_shelter_flow_release_and_problems(api: tuple[TestClient[Any], Any]) -> None:
    client, h = api
    r = client.post("/api/v1/shelters", json=SHELTER, headers=h["USA"])
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["over_capacity_night"] is True and made["over_capacity_day"] is False
    assert made["rel_to"] == ["USA", "JPN"] and made["origin"] == "usfj"
    sid = made["id"]
    assert [s["id"] for s in client.get("/api/v1/shelters", headers=h["USA"]).json()] == [sid]
    assert client.get("/api/v1/shelters", headers=h["AUS"]).json() == []
    hidden = client.get(f"/api/v1/shelters/{sid}", headers=h["AUS"])
    assert hidden.status_code == 404 and hidden.headers["content-type"].startswith(PROBLEM)
    p = client.patch(f"/api/v1/shelters/{sid}", json={"population_day": 120}, headers=h["USA"])
    assert p.status_code == 200 and p.json()["population_day"] == 120
    n = client.post("/api/v1/needs", json={"days": 1, "shelter_id": sid}, headers=h["USA"])
    assert n.status_code == 200 and n.json()["population"] == 650
    for bad in (
        {**SHELTER, "capacity_day": -10},
        {**SHELTER, "position": {"lat": 137.0, "lon": 37.0}},
        {**SHELTER, "availability": "maybe"},
    ):
        r = client.post("/api/v1/shelters", json=bad, headers=h["USA"])
        assert r.status_code in (400, 422), r.text
        assert r.headers["content-type"].startswith(PROBLEM)
    assert len(client.get("/api/v1/shelters", headers=h["USA"]).json()) == 1


def test_stocks_capabilities_plans_and_the_catalogue(api: tuple[TestClient[Any], Any]) -> None:
    client, h = api
    stock = {
        "label": "UNCLASSIFIED",
        "site_id": "yokota-whs",
        "site_name": {"en": "Yokota warehouse"},
        "position": {"lat": 35.7486, "lon": 139.3486},
        "item": "water",
        "packs": 2000,
    }
    r = client.post("/api/v1/stocks", json=stock, headers=h["USA"])
    assert r.status_code == 201, r.text
    assert r.json()["quantity"] == 24000.0
    unknown = client.post("/api/v1/stocks", json={**stock, "item": "beer"}, headers=h["USA"])
    assert unknown.status_code == 422 and "unknown relief item" in unknown.json()["detail"]
    again = client.post("/api/v1/stocks", json=stock, headers=h["USA"])
    assert again.status_code == 409
    cap = {
        "label": "UNCLASSIFIED",
        "code": "airlift_sortie",
        "quantity": 4,
        "unit_name": "374th Airlift Wing (C-130J)",
        "readiness_hours": 0,
    }
    r = client.post("/api/v1/capabilities", json=cap, headers=h["USA"])
    assert r.status_code == 201, r.text
    line = {
        "item": "airlift_sortie",
        "kind": "capability",
        "description": {"en": "Airlift to Noto"},
        "quantity": 10,
        "unit": "sortie",
    }
    m = client.post(
        "/api/v1/capabilities/match", json={"lines": [line], "days": 2}, headers=h["AUS"]
    )
    assert m.status_code == 200, m.text
    got = m.json()[0]
    assert got["covered"] == pytest.approx(8) and got["gap"] == pytest.approx(2)
    assert got["candidates"][0]["capability"]["unit_name"].startswith("374th")
    plan = {"label": "UNCLASSIFIED", "incident_id": "20240101161010"}
    assert client.post("/api/v1/relief-plans", json=plan, headers=h["USA"]).status_code == 201
    switch = {"mode": "pull", "reason": {"en": "Municipal requests now flowing"}}
    s = client.patch("/api/v1/relief-plans/20240101161010", json=switch, headers=h["USA"])
    assert s.status_code == 200 and s.json()["mode"] == "pull"
    same = client.patch("/api/v1/relief-plans/20240101161010", json=switch, headers=h["USA"])
    assert same.status_code == 409
    cat = client.get("/api/v1/relief-catalogue", headers=h["AUS"]).json()
    assert len([i for i in cat["items"] if i["push_basic"]]) == 8
    doc = client.get("/api/docs/openapi.json").json()["paths"]
    for path in (
        "/api/v1/shelters",
        "/api/v1/stocks",
        "/api/v1/capabilities",
        "/api/v1/relief-plans",
        "/api/v1/needs",
    ):
        assert path in doc, path
