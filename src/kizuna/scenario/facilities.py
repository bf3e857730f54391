"""The demo's facilities and areas: a range, a sea area and two reservations (issue 14).

USFJ defines the North Fuji range (a JGSDF maneuver area U.S. forces use for limited
periods, SOFA Article II-4(b)); JJOC a sea area off the Boso peninsula. AUS reserves the
range for live fire next week under the Japan–Australia RAA; JJOC reserves the sea area
(at least 48 h ahead, as a sea area needs). Idempotent: an area or reservation already held
(by name, or by unit and place) is left alone. USFJ also holds the range from today for
PACIFIC KIZUNA 26, so the facilities calendar's first week is not empty. HTTP API only.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx

U = "UNCLASSIFIED"
JST = dt.timezone(dt.timedelta(hours=9))

RANGE: dict[str, Any] = {
    "label": U,
    "name": {"en": "North Fuji Maneuver Area (range)", "ja": "北富士演習場（射場）"},
    "kind": "range",
    "polygon": [[35.40, 138.80], [35.40, 138.90], [35.46, 138.90], [35.46, 138.80]],
    "altitude": {"floor": 0, "ceiling": 200, "unit": "FL"},
    "basis": "sofa_ii_4b",
    "authority": {
        "en": "JGSDF (U.S. use under SOFA II-4(b))",
        "ja": "陸上自衛隊（地位協定第2条4(b)による米軍使用）",
    },
    "facility_id": "fuji",
}
SEA: dict[str, Any] = {
    "label": U,
    "name": {"en": "Boso peninsula sea area", "ja": "房総半島沖訓練海域"},
    "kind": "sea_area",
    "polygon": [[34.60, 139.90], [34.60, 140.40], [34.95, 140.40], [34.95, 139.90]],
    "basis": "other",
    "authority": {"en": "JMSDF Self Defense Fleet", "ja": "自衛艦隊"},
}


def _next_monday() -> dt.datetime:
    now = dt.datetime.now(JST)
    monday = (now + dt.timedelta(days=7 - now.weekday())).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return monday


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _area(client: httpx.Client, body: dict[str, Any]) -> str:
    for area in client.get("/api/v1/training-areas").json():
        if area["name"]["en"] == body["name"]["en"]:
            return str(area["id"])
    r = client.post("/api/v1/training-areas", json=body)
    r.raise_for_status()
    return str(r.json()["id"])


def _wait_for(client: httpx.Client, area_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get(f"/api/v1/training-areas/{area_id}").status_code == 200:
            return
        time.sleep(0.5)
    raise RuntimeError(f"training area {area_id} did not reach the partner")


def _reserve(client: httpx.Client, body: dict[str, Any]) -> None:
    held = client.get("/api/v1/reservations", params={"place": body["place_id"]}).json()
    if any(r["unit"] == body["unit"] and r["status"] == "active" for r in held):
        return
    r = client.post("/api/v1/reservations", json=body)
    r.raise_for_status()


def seed(jp: httpx.Client, us: httpx.Client, au: httpx.Client) -> None:
    range_id = _area(us, RANGE)
    sea_id = _area(jp, SEA)
    soon = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=10)
    _reserve(
        us,
        {
            "label": "CONFIDENTIAL//REL TO USA, JPN, AUS",
            "place_id": range_id,
            "start": _iso(soon),
            "end": _iso(soon + dt.timedelta(hours=8)),
            "activity": "ground_manoeuvre",
            "nation": "USA",
            "unit": "III MEF",
            "altitude": {"floor": 0, "ceiling": 150},
            "title": {
                "en": "PACIFIC KIZUNA 26: ground manoeuvre",
                "ja": "パシフィック絆26：地上機動訓練",
            },
        },
    )
    _wait_for(au, range_id)
    monday = _next_monday()
    _reserve(
        au,
        {
            "label": "SECRET//REL TO AUS, JPN, USA",
            "place_id": range_id,
            "start": _iso(monday),
            "end": _iso(monday + dt.timedelta(hours=6)),
            "activity": "live_fire",
            "nation": "AUS",
            "unit": "2nd Cavalry Regiment",
            "altitude": {"floor": 0, "ceiling": 3000},
            "title": {
                "en": "Live fire, trilateral training",
                "ja": "実弾射撃（日米豪共同訓練）",
            },
        },
    )
    wednesday = monday + dt.timedelta(days=2)  # a sea area needs 48 h notice
    _reserve(
        jp,
        {
            "label": U,
            "place_id": sea_id,
            "start": _iso(wednesday),
            "end": _iso(wednesday + dt.timedelta(hours=8)),
            "activity": "maritime",
            "nation": "JPN",
            "unit": "Escort Flotilla 1",
            "title": {"en": "Surface training", "ja": "水上訓練"},
        },
    )
