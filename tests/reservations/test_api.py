"""The facilities, access and reservations API on one in-process node: shapes and
problem+json for bad input (nothing half-applied)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from kizuna.access import plugin as access
from kizuna.api.app import create_app
from kizuna.facilities import plugin as facilities
from kizuna.node.users import make_user
from kizuna.picture import plugin as picture
from kizuna.reservations import plugin as reservations
from tests.access.support import CSV
from tests.picture.support import in_process_node

PROBLEM = "application/problem+json"
FUJI = [[35.40, 138.80], [35.40, 138.90], [35.46, 138.90], [35.46, 138.80]]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root: Path = tmp_path_factory.mktemp("api") / "usfj"
    node = in_process_node(
        root, [picture, facilities, access, reservations], facilities={"csv": str(CSV)}
    )
    tokens = {}
    for name, nation, roles in (
        ("admin", "USA", ["admin"]),
        ("us", "USA", ["watch"]),
        ("au", "AUS", ["watch"]),
        ("viewer", "USA", ["viewer"]),
    ):
        user, token = make_user(name, nation, "SECRET", [], roles, node.groups)
        node.backend.users.add_user(user)
        tokens[name] = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(create_app(node)) as client:
            yield {"client": client, **tokens}
    finally:
        node.close()


def problem(r: Any, status: int) -> dict[str, Any]:
    assert (r.status_code, r.headers["content-type"]) == (status, PROBLEM), r.text
    body: dict[str, Any] = r.json()
    assert body["detail"]
    return body


def test_arrangements_and_the_check(api: dict[str, Any]) -> None:
    c = api["client"]
    got = c.get("/api/v1/access/arrangements", headers=api["au"]).json()
    assert [a["short"]["en"] for a in got] == [
        "U.S.–Japan SOFA",
        "Japan–Australia RAA",
        "Japan–UK RAA",
        "Japan–Philippines RAA",
    ]
    body = {
        "nation": "PHL",
        "activity": "live_fire",
        "start": "2025-09-01T00:00Z",
        "end": "2025-09-01T06:00Z",
    }
    verdict = c.post("/api/v1/access/check", json=body, headers=api["au"]).json()
    assert verdict == {
        "allowed": False,
        "instrument": "japan-philippines-raa",
        "reason": "not_in_force",
        "needed": "Japan–Philippines RAA",
        "detail": verdict["detail"],
    }
    assert set(verdict["detail"]) == {"en", "ja"}
    for bad, status in (
        ({**body, "activity": "bombing"}, 400),
        ({**body, "nation": "XX"}, 400),
        ({**body, "end": "2025-08-01T00:00Z"}, 422),
        ({**body, "start": "yesterday"}, 400),
    ):
        problem(c.post("/api/v1/access/check", json=bad, headers=api["au"]), status)
    new = {
        "key": "japan-test",
        "name": {"en": "Test"},
        "nations": ["KOR"],
        "in_force": "2026-01-01",
    }
    problem(c.post("/api/v1/access/arrangements", json=new, headers=api["us"]), 403)
    problem(
        c.post(
            "/api/v1/access/arrangements", json={**new, "in_force": "1 Jan"}, headers=api["admin"]
        ),
        400,
    )
    r = c.post("/api/v1/access/arrangements", json=new, headers=api["admin"])
    assert r.status_code == 201, r.text
    problem(c.post("/api/v1/access/arrangements", json=new, headers=api["admin"]), 409)
    rid = r.json()["id"]
    problem(
        c.patch(
            f"/api/v1/access/arrangements/{rid}",
            json={"expires": "2020-01-01"},
            headers=api["admin"],
        ),
        422,
    )
    assert c.get(f"/api/v1/access/arrangements/{rid}", headers=api["us"]).json()["expires"] is None
    assert c.delete(f"/api/v1/access/arrangements/{rid}", headers=api["admin"]).status_code == 204


def test_training_areas_and_facilities(api: dict[str, Any]) -> None:
    c = api["client"]
    area = {"label": "U", "name": {"en": "Range 1", "ja": "第1射場"}, "kind": "range", "polygon": FUJI,
            "basis": "sofa_ii_4b", "altitude": {"floor": 0, "ceiling": 100, "unit": "FL"}}  # fmt: skip
    for bad, status in (
        ({**area, "polygon": [[35.4, 138.8], [35.46, 138.9], [35.4, 138.9], [35.46, 138.8]]}, 422),
        ({**area, "polygon": [[35.4, 138.8], [35.5, 138.9]]}, 422),
        ({**area, "basis": "lease"}, 400),
        ({**area, "altitude": {"floor": 3000, "ceiling": 1000}}, 422),
        ({**area, "name": {"en": " "}}, 422),
        ({**area, "facility_id": "atlantis"}, 422),
        ({**area, "label": "TS"}, 403),  # above the writer's clearance
    ):
        problem(c.post("/api/v1/training-areas", json=bad, headers=api["us"]), status)
    assert c.get("/api/v1/training-areas", headers=api["us"]).json() == []  # nothing applied
    problem(c.post("/api/v1/training-areas", json=area, headers=api["viewer"]), 403)
    r = c.post("/api/v1/training-areas", json=area, headers=api["us"])
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["altitude"] == {"floor_m": 0.0, "ceiling_m": 3048.0}
    assert (made["basis"], made["origin"], made["label"]) == ("sofa_ii_4b", "usfj", "UNCLASSIFIED")
    imported = {"label": "U", "features": [{"type": "Feature", "properties": {"name": "Sea"},
                "geometry": {"type": "Point", "coordinates": [139, 35]}}]}  # fmt: skip
    problem(c.post("/api/v1/training-areas/import", json=imported, headers=api["us"]), 422)
    facs = c.get("/api/v1/facilities", headers=api["au"]).json()
    kadena = next(f for f in facs if f["id"] == "kadena")
    assert (kadena["basis"], kadena["authority"]["ja"]) == ("sofa_ii_1", "在日米軍")


def test_reservations_over_http(api: dict[str, Any]) -> None:
    c = api["client"]
    area = {"label": "U", "name": {"en": "Range 2", "ja": "第2射場"}, "kind": "range",
            "polygon": FUJI, "basis": "sofa_ii_4b"}  # fmt: skip
    rid = c.post("/api/v1/training-areas", json=area, headers=api["us"]).json()["id"]
    res = {"label": "U", "place_id": rid, "start": "2030-02-01T00:00Z", "end": "2030-02-01T06:00Z",
           "activity": "live_fire", "unit": "3rd Battalion, Royal Australian Regiment"}  # fmt: skip
    for bad, status in (
        ({**res, "activity": "bombing"}, 400),
        ({**res, "end": "2030-01-01T00:00Z"}, 422),
        ({**res, "end": "2030-12-01T00:00Z"}, 422),  # over 92 days
        ({**res, "place_id": "atlantis"}, 422),
        ({**res, "start": "soon"}, 400),
        ({**res, "altitude": {"floor": 100, "ceiling": 50}}, 422),
        ({**res, "nation": "KOR"}, 403),
    ):
        problem(c.post("/api/v1/reservations", json=bad, headers=api["au"]), status)
    refused = problem(c.post("/api/v1/reservations", json={**res, "start": "2023-08-01T00:00Z", "end": "2023-08-01T06:00Z"}, headers=api["au"]), 403)  # fmt: skip
    assert (refused["type"], refused["needed"], refused["reason"]) == (
        "/problems/access-refused",
        "Japan–Australia RAA",
        "not_in_force",
    )
    assert c.get("/api/v1/reservations", headers=api["au"]).json() == []  # nothing applied
    r = c.post("/api/v1/reservations", json=res, headers=api["au"])
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["nation"], first["instrument"], first["conflicts"]) == (
        "AUS",
        "japan-australia-raa",
        [],
    )
    clash = problem(
        c.post("/api/v1/reservations", json={**res, "activity": "flight"}, headers=api["us"]), 409
    )
    assert clash["conflicts"] == [first["id"]] and first["id"] in clash["detail"]
    for bad in ("2030-5", "2030-W60"):
        problem(
            c.get("/api/v1/reservations/schedule", params={"week": bad}, headers=api["us"]), 400
        )
    problem(c.get("/api/v1/reservations", params={"after": "soon"}, headers=api["us"]), 400)
    sched = c.get("/api/v1/reservations/schedule", params={"week": "2030-W05"}, headers=api["us"])
    assert [x["id"] for x in sched.json()["reservations"]] == [first["id"]]
    text = c.get(
        "/api/v1/reservations/schedule.csv", params={"week": "2030-W05"}, headers=api["us"]
    )
    assert text.headers["content-type"].startswith("text/csv")
    assert first["id"] in text.text and "第2射場" in text.text
    problem(
        c.post(f"/api/v1/reservations/{first['id']}/cancel", json={}, headers=api["viewer"]), 403
    )
    assert (
        c.post(f"/api/v1/reservations/{first['id']}/cancel", json={}, headers=api["au"]).json()[
            "status"
        ]
        == "cancelled"
    )
    problem(c.post(f"/api/v1/reservations/{first['id']}/cancel", json={}, headers=api["au"]), 409)
    problem(c.get("/api/v1/reservations/nope", headers=api["au"]), 404)


def test_the_demo_seed_over_the_api_is_idempotent(api: dict[str, Any]) -> None:
    from kizuna.scenario import facilities as scenario

    c = api["client"]
    c.headers.update(api["us"])  # one node stands for the three here
    try:
        scenario.seed(c, c, c)
        scenario.seed(c, c, c)
        areas = [a["name"]["en"] for a in c.get("/api/v1/training-areas").json()]
        held = c.get("/api/v1/reservations").json()
    finally:
        del c.headers["Authorization"]
    assert areas.count(scenario.RANGE["name"]["en"]) == 1
    assert areas.count(scenario.SEA["name"]["en"]) == 1
    seeded = [r for r in held if r["unit"] in ("2nd Cavalry Regiment", "Escort Flotilla 1")]
    assert sorted((r["nation"], r["instrument"]) for r in seeded) == [
        ("AUS", "japan-australia-raa"),
        ("JPN", None),
    ]
