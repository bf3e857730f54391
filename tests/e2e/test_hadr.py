"""HADR across three real nodes: a JMA bulletin, a shelter, an RFA for water, two offers.

JJOC (Japan, the affected state) ingests a VXSE53, opens a shelter and asks for water for
20,000 people for 3 days; USFJ and AUS each offer part. JJOC declines AUS's first offer
(labelled for Australia and Japan only) with a reason and accepts USFJ's: a commitment and
a task on USFJ, the RFA PARTIAL on every node; AUS's second offer, accepted, makes it
COMPLETE everywhere. A bilateral RFA (REL TO USA, JPN) for airlift never reaches AUS. Each
nation's node holds only what its labels allow, and each node's SITREP has only what its
reader may see. Offers' quantities are their offerers' to label: a roll-up counts the
offers its reader may see, so offers that all three see make the coverage the same on all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster import Cluster
from tests.nodes import kizuna

BULLETIN = "20210217190220_0_VXSE53_010000.xml"
WATER = 900_000.0  # 20,000 people × 3 days × 15 L (Sphere)


def wait(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path)
    cluster.node("jjoc", "JPN")
    cluster.node("usfj", "USA")
    cluster.node("aus", "AUS")
    for a, b in (("jjoc", "usfj"), ("jjoc", "aus"), ("usfj", "aus")):
        cluster.link(a, b)
    yield cluster
    cluster.stop()


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _rfa(client: httpx.Client, rfa_id: str) -> dict[str, Any] | None:
    r = client.get(f"/api/v1/rfas/{rfa_id}")
    return r.json() if r.status_code == 200 else None


def _coverage(client: httpx.Client, rfa_id: str, expected: str) -> Callable[[], bool]:
    return lambda: (rfa := _rfa(client, rfa_id)) is not None and rfa["coverage"] == expected


def test_rfa_from_alert_to_complete_commitment_on_three_nodes(
    federation: Cluster, shared_data: Path
) -> None:
    jjoc_dir = federation.nodes["jjoc"].dir
    bulletin = shared_data / "jma" / BULLETIN
    kizuna("ingest", "alerts", str(bulletin), "--dir", str(jjoc_dir))
    federation.start()
    jp = federation.nodes["jjoc"].user("jp.hadr", "JPN", "SECRET")
    us = federation.nodes["usfj"].user("us.hadr", "USA", "SECRET")
    au = federation.nodes["aus"].user("au.hadr", "AUS", "SECRET")

    incident = _ok(jp.get("/api/v1/incidents"))[0]
    # The incident reaches both partners (UNCLASSIFIED by default).
    for client in (us, au):
        wait("the incident on a partner", lambda c=client: c.get("/api/v1/incidents").json())

    shelter = _ok(
        jp.post(
            "/api/v1/shelters",
            json={
                "label": "UNCLASSIFIED",
                "name": {"en": "Wajima City Gymnasium", "ja": "輪島市体育館"},
                "municipality": {"en": "Wajima", "ja": "輪島市"},
                "position": {"lat": 37.39, "lon": 136.9},
                "capacity_day": 25_000,
                "capacity_night": 20_000,
                "population_day": 20_000,
                "population_night": 20_000,
                "availability": "open",
                "incident_id": incident["id"],
            },
        ),
        201,
    )
    needs = _ok(jp.post("/api/v1/needs", json={"population": 20_000, "days": 3}))
    water = next(line for line in needs["lines"] if line["item"] == "water")
    assert water["quantity"] == WATER and water["unit"] == "L"

    rfa = _ok(
        jp.post(
            "/api/v1/rfas",
            json={
                "incident_id": incident["id"],
                "requesting_org": {"en": "Ishikawa Prefecture", "ja": "石川県"},
                "site": {"id": shelter["id"], "name": shelter["name"]},
                "title": {"en": "Drinking water for Wajima shelter", "ja": "輪島避難所の飲料水"},
                "lines": [
                    {k: water[k] for k in ("item", "kind", "description", "quantity", "unit")}
                ],
                "label": "UNCLASSIFIED",
                "precedence": "IMMEDIATE",
            },
        ),
        201,
    )
    rid = rfa["id"]
    for step in ({"to": "SUBMITTED"}, {"to": "VALIDATED", "priority": "high"}, {"to": "OPEN"}):
        _ok(jp.post(f"/api/v1/rfas/{rid}/transition", json=step))
    for client in (us, au):
        wait(
            "the open RFA on a partner",
            lambda c=client: (_rfa(c, rid) or {}).get("status") == "OPEN",
        )

    def offer(client: httpx.Client, litres: float, label: str, unit: str) -> str:
        body = {
            "rfa_id": rid,
            "lines": [{"item": "water", "kind": "item", "quantity": litres, "unit": "L"}],
            "capability": "water_production",
            "asset": unit,
            "unit": unit,
            "label": label,
        }
        return str(_ok(client.post("/api/v1/offers", json=body), 201)["id"])

    us_offer = offer(us, 600_000, "CONFIDENTIAL//REL TO USA, AUS, JPN", "35th Combat Support Co")
    au_offer = offer(au, 500_000, "CONFIDENTIAL//REL TO AUS, JPN", "1st Combat Engineer Regt")
    for oid in (us_offer, au_offer):
        wait("an offer at JJOC", lambda o=oid: jp.get(f"/api/v1/offers/{o}").status_code == 200)

    # A decline needs a reason code; then JJOC declines AUS's and accepts USFJ's.
    no_reason = jp.post(f"/api/v1/offers/{au_offer}/transition", json={"to": "DECLINED"})
    assert no_reason.status_code in (400, 409, 422), no_reason.text
    _ok(
        jp.post(
            f"/api/v1/offers/{au_offer}/transition",
            json={"to": "DECLINED", "reason": "timing_not_feasible"},
        )
    )
    _ok(jp.post(f"/api/v1/offers/{us_offer}/transition", json={"to": "ACCEPTED"}))
    # Neither partner may accept or decline: that belongs to the affected state.
    refused = us.post(f"/api/v1/offers/{us_offer}/transition", json={"to": "ACCEPTED"})
    assert refused.status_code in (403, 409), refused.text

    for client in (jp, us, au):
        wait("PARTIAL on every node", _coverage(client, rid, "PARTIAL"))
    declined = wait(
        "the decline at AUS",
        lambda: (
            (o := au.get(f"/api/v1/offers/{au_offer}").json()).get("status") == "DECLINED" and o
        ),
    )
    assert declined["closing"]["reason"] == "timing_not_feasible"
    task = wait(
        "the commitment's task on USFJ",
        lambda: [t for t in us.get("/api/v1/tasks").json() if t["offer_id"] == us_offer],
    )[0]
    assert task["status"] == "PLANNED"

    au_second = offer(au, 300_000, "UNCLASSIFIED", "1st Combat Engineer Regt")
    wait(
        "AUS's second offer at JJOC",
        lambda: jp.get(f"/api/v1/offers/{au_second}").status_code == 200,
    )
    _ok(jp.post(f"/api/v1/offers/{au_second}/transition", json={"to": "ACCEPTED"}))
    for client in (jp, us, au):
        wait("COMPLETE on every node", _coverage(client, rid, "COMPLETE"))
    line = _ok(jp.get(f"/api/v1/rfas/{rid}"))["lines"][0]
    assert (line["requested"], line["committed"], line["gap"]) == (WATER, WATER, 0.0)

    # A bilateral RFA: airlift asked of the United States only.
    airlift = _ok(
        jp.post(
            "/api/v1/rfas",
            json={
                "incident_id": incident["id"],
                "requesting_org": {"en": "Ishikawa Prefecture", "ja": "石川県"},
                "site": {"id": shelter["id"], "name": shelter["name"]},
                "title": {"en": "Airlift to Noto airport", "ja": "能登空港への空輸"},
                "lines": [
                    {
                        "item": "airlift_sortie",
                        "kind": "capability",
                        "quantity": 12,
                        "unit": "sortie",
                    }
                ],
                "label": "CONFIDENTIAL//REL TO USA, JPN",
            },
        ),
        201,
    )["id"]
    _ok(jp.post(f"/api/v1/rfas/{airlift}/transition", json={"to": "SUBMITTED"}))
    wait("the bilateral RFA on USFJ", lambda: _rfa(us, airlift))

    # Holdings follow the labels: AUS never holds the bilateral RFA, USFJ never AUS's
    # declined offer; JJOC, the affected state, holds everything addressed to it.
    assert _rfa(au, airlift) is None
    assert us.get(f"/api/v1/offers/{au_offer}").status_code == 404
    for oid in (us_offer, au_offer, au_second):
        assert jp.get(f"/api/v1/offers/{oid}").status_code == 200

    # Each node's SITREP is built for its reader: AUS's lacks the bilateral RFA.
    sitreps = {}
    for name, client in (("jjoc", jp), ("usfj", us), ("aus", au)):
        sitreps[name] = _ok(client.get(f"/api/v1/incidents/{incident['id']}/sitrep?format=json"))
        pdf = client.get(f"/api/v1/incidents/{incident['id']}/sitrep?format=pdf&lang=ja")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for name in ("jjoc", "usfj"):
        assert airlift in str(sitreps[name]) and rid in str(sitreps[name])
    assert airlift not in str(sitreps["aus"]) and rid in str(sitreps["aus"])
    assert "Airlift to Noto airport" not in str(sitreps["aus"])
    assert au_offer in str(sitreps["jjoc"]) and au_offer not in str(sitreps["usfj"])
