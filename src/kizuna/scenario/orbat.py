"""The demo's ORBAT: the public structure of JJOC and USFJ, an Australian contingent.

Each nation's node records its own units; JJOC records the COORDINATION edge between the two
chains (its node is a party), AUS one between its contingent and JJOC. Japanese names are
the glossary's where it has them. Positions are the home facilities' (facilities.csv ids).
Idempotent: a unit or edge already held is left alone. HTTP API only.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

U = "UNCLASSIFIED"
START = "2026-01-01T00:00:00Z"  # when the demo's task organisation begins

# (facility id or None, lat, lon): coordinates of facilities.csv, Fuchu from public sources.
PLACES: dict[str, tuple[str | None, float, float]] = {
    "ichigaya": ("ichigaya", 35.6926, 139.7270),
    "asaka": ("asaka", 35.7903, 139.6094),
    "yokosuka_jp": ("yokosuka_jp", 35.2861, 139.6750),
    "yokota": ("yokota", 35.7486, 139.3486),
    "fuchu": (None, 35.6750, 139.4950),
    "zama": ("zama", 35.5111, 139.4017),
    "yokosuka_us": ("yokosuka_us", 35.2917, 139.6611),
    "foster": ("foster", 26.2914, 127.7464),
    "hardy": ("hardy", 35.672, 139.738),
}

# id, EN, JA, SIDC (2525D, friend), echelon, hq, task force, place, holdings
Unit = tuple[str, str, str, str, str, bool, bool, str, list[dict[str, Any]]]

JJOC_UNITS: list[Unit] = [
    (
        "jjoc",
        "Joint Operations Command",
        "統合作戦司令部",
        "10031000001100000000",
        "command",
        True,
        False,
        "ichigaya",
        [{"kind": "personnel", "item": "staff", "count": 240, "on_hand": 232}],
    ),
    (
        "jgsdf-gcc",
        "Ground Component Command",
        "陸上総隊",
        "10031000001100000000",
        "army",
        True,
        False,
        "asaka",
        [],
    ),
    (
        "jmsdf-sdf",
        "Self Defense Fleet",
        "自衛艦隊",
        "10033000001200000000",
        "command",
        True,
        False,
        "yokosuka_jp",
        [],
    ),
    (
        "jasdf-adc",
        "Air Defense Command",
        "航空総隊",
        "10031000001301000000",
        "command",
        True,
        False,
        "yokota",
        [],
    ),
    (
        "jsdf-cyber",
        "Cyber Defense Command",
        "自衛隊サイバー防衛隊",
        "10031000001104000000",
        "brigade",
        True,
        False,
        "ichigaya",
        [],
    ),
    (
        "jasdf-space",
        "Space Operations Group",
        "宇宙作戦群",
        "10031000001111000000",
        "regiment",
        True,
        False,
        "fuchu",
        [],
    ),
]
USFJ_UNITS: list[Unit] = [
    (
        "usfj",
        "U.S. Forces Japan",
        "在日米軍",
        "10031000001100000000",
        "command",
        True,
        False,
        "yokota",
        [{"kind": "personnel", "item": "staff", "count": 300, "on_hand": 288}],
    ),
    (
        "usarj",
        "U.S. Army Japan",
        "在日米陸軍",
        "10031000001100000000",
        "army",
        True,
        False,
        "zama",
        [],
    ),
    (
        "cnfj",
        "U.S. Naval Forces Japan",
        "在日米海軍",
        "10033000001200000000",
        "command",
        True,
        False,
        "yokosuka_us",
        [],
    ),
    (
        "marforj",
        "U.S. Marine Forces Japan / III MEF",
        "在日米海兵隊／第3海兵機動展開部隊",
        "10031000001211000000",
        "corps",
        True,
        False,
        "foster",
        [],
    ),
    (
        "5af",
        "Fifth Air Force",
        "第5空軍",
        "10030100001101000000",
        "command",
        True,
        False,
        "yokota",
        [],
    ),
]
AUS_UNITS: list[Unit] = [
    (
        "adf-jp",
        "Australian Defence Force contingent, Japan",
        "オーストラリア国防軍派遣部隊",
        "10031000001100000000",
        "regiment",
        True,
        True,
        "hardy",
        [],
    ),
]

# Dual-hatted: one person commands USFJ and Fifth Air Force.
COMMANDERS: dict[str, list[dict[str, Any]]] = {
    "usfj": [
        {
            "person_id": "cdr-usfj",
            "name": {"en": "Commander, USFJ", "ja": "在日米軍司令官"},
            "post": {"en": "Commander", "ja": "司令官"},
        }
    ],
    "5af": [
        {
            "person_id": "cdr-usfj",
            "name": {"en": "Commander, USFJ", "ja": "在日米軍司令官"},
            "post": {"en": "Commander", "ja": "司令官"},
        }
    ],
    "jjoc": [
        {
            "person_id": "cdr-jjoc",
            "name": {"en": "Joint Operations Commander", "ja": "統合作戦司令官"},
            "post": {"en": "Commander", "ja": "司令官"},
        }
    ],
}


def _unit_body(u: Unit, label: str = U) -> dict[str, Any]:
    uid, en, ja, sidc, echelon, hq, tf, place, holdings = u
    facility, lat, lon = PLACES[place]
    return {
        "id": uid,
        "label": label,
        "name": {"en": en, "ja": ja},
        "sidc": sidc,
        "echelon": echelon,
        "hq": hq,
        "task_force": tf,
        "holdings": holdings,
        "location": {"lat": lat, "lon": lon},
        "home_facility": facility,
        "commanders": COMMANDERS.get(uid, []),
    }


def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url}: {r.status_code} {r.text}")
    return r.json() if r.content else None


def add_units(client: httpx.Client, units: list[Unit]) -> None:
    for u in units:
        if client.get(f"/api/v1/orbat/units/{u[0]}").status_code != 200:
            _ok(client.post("/api/v1/orbat/units", json=_unit_body(u)))


def add_edge(client: httpx.Client, rid: str, sub: str, sup: str, kind: str, label: str = U) -> None:
    if client.get(f"/api/v1/orbat/relations/{rid}").status_code == 200:
        return
    body = {
        "id": rid,
        "label": label,
        "from_unit": sub,
        "to_unit": sup,
        "kind": kind,
        "valid_from": START,
    }
    _ok(client.post("/api/v1/orbat/relations", json=body))


def wait_unit(client: httpx.Client, uid: str, timeout: float = 60.0) -> None:
    """Until a partner's unit has reached this node (federation is asynchronous)."""
    deadline = time.monotonic() + timeout
    while client.get(f"/api/v1/orbat/units/{uid}").status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"unit {uid} did not arrive")
        time.sleep(0.3)


def seed(jp: httpx.Client, us: httpx.Client, au: httpx.Client) -> None:
    add_units(jp, JJOC_UNITS)
    add_units(us, USFJ_UNITS)
    add_units(au, AUS_UNITS)
    for uid in ("jgsdf-gcc", "jmsdf-sdf", "jasdf-adc", "jsdf-cyber", "jasdf-space"):
        add_edge(jp, f"rel-{uid}", uid, "jjoc", "OPCON")
    for uid in ("usarj", "cnfj", "marforj", "5af"):
        add_edge(us, f"rel-{uid}", uid, "usfj", "ORGANIC")
    wait_unit(jp, "usfj")
    add_edge(jp, "coord-jjoc-usfj", "jjoc", "usfj", "COORDINATION")
    wait_unit(au, "jjoc")
    add_edge(au, "coord-adf-jjoc", "adf-jp", "jjoc", "COORDINATION")
