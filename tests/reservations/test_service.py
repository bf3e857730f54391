"""Reservations on in-process nodes: access, conflicts, lead times, peers, the schedule."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.errors import Conflict, Invalid
from kizuna.core.labels import Classification
from kizuna.core.records import Text
from kizuna.core.release import make_principal
from kizuna.facilities import plugin as facilities_plugin
from kizuna.facilities.models import AltitudeBandIn, TrainingAreaIn
from kizuna.reservations import plugin as reservations_plugin
from kizuna.reservations.models import ReservationAltitudeIn as BandIn
from kizuna.reservations.models import ReservationIn
from kizuna.reservations.service import AccessRefused, LateNotice
from tests.access.support import Node, fresh, ship, start, utc

# North Fuji Maneuver Area (a JGSDF area U.S. forces use for limited periods, II-4(b)).
FUJI = [[35.40, 138.80], [35.40, 138.90], [35.46, 138.90], [35.46, 138.80]]
SEA = [[34.0, 139.0], [34.0, 139.5], [34.4, 139.5], [34.4, 139.0]]


def area(node: Node, polygon: list[list[float]], **kw: Any) -> str:
    data = TrainingAreaIn(
        label=kw.pop("label", "UNCLASSIFIED"),
        name=Text(en=kw.pop("en", "North Fuji range"), ja=kw.pop("ja", "北富士演習場")),
        polygon=polygon,
        kind=kw.pop("kind", "range"),
        basis=kw.pop("basis", "sofa_ii_4b"),
        altitude=kw.pop("altitude", AltitudeBandIn(floor=0, ceiling=6000)),
        **kw,
    )
    return str(node.facilities.create_area(node.user("planner", "watch"), data).id)


def reserve(
    place: str, start_: str, end: str, activity: str = "live_fire", **kw: Any
) -> ReservationIn:
    return ReservationIn(
        label=kw.pop("label", "UNCLASSIFIED"),
        place_id=place,
        start=start_,
        end=end,
        activity=activity,  # type: ignore[arg-type]
        unit=kw.pop("unit", "1st Battalion"),
        **kw,
    )


@pytest.fixture
def jjoc(tmp_path: Path) -> Node:
    node = start("jjoc", "JPN", root=tmp_path)
    node.reservations.clock = lambda: utc("2023-01-01T00:00Z").timestamp()
    return node


def test_aus_live_fire_refused_before_the_raa_accepted_after_phl_refused(jjoc: Node) -> None:
    fuji = area(jjoc, FUJI)
    au = jjoc.user("au.planner", "watch", nation="AUS")
    with pytest.raises(AccessRefused) as refused:
        jjoc.reservations.create(au, reserve(fuji, "2023-08-10T00:00Z", "2023-08-10T06:00Z"))
    assert refused.value.extra["needed"] == "Japan–Australia RAA"
    assert refused.value.extra["reason"] == "not_in_force"
    assert "Japan–Australia RAA" in refused.value.detail
    assert "日豪円滑化協定" in refused.value.extra["detail_ja"]
    assert jjoc.reservations.list(au) == []  # nothing written
    made = jjoc.reservations.create(au, reserve(fuji, "2023-08-20T00:00Z", "2023-08-20T06:00Z"))
    assert (made.nation, made.instrument, made.status) == ("AUS", "japan-australia-raa", "active")
    assert made.access.ja and made.place.name.ja == "北富士演習場"

    ph = jjoc.user("ph.planner", "watch", nation="PHL")
    with pytest.raises(AccessRefused) as refused:
        jjoc.reservations.create(
            ph, reserve(fuji, "2025-09-01T00:00Z", "2025-09-01T06:00Z", "ground_manoeuvre")
        )
    assert refused.value.extra["needed"] == "Japan–Philippines RAA"
    kor = jjoc.user("kr.planner", "watch", nation="KOR")
    with pytest.raises(AccessRefused) as refused:
        jjoc.reservations.create(kor, reserve(fuji, "2026-01-01T00:00Z", "2026-01-01T06:00Z"))
    assert refused.value.extra["needed"] == "an access arrangement between Japan and KOR"
    # A U.S. Forces reservation at Kadena (exclusive use) is covered; an AUS one is not.
    us = jjoc.user("us.planner", "watch", nation="USA")
    assert (
        jjoc.reservations.create(
            us, reserve("kadena", "2026-01-01T00:00Z", "2026-01-01T06:00Z", "flight")
        ).instrument
        == "us-japan-sofa"
    )
    with pytest.raises(AccessRefused) as refused:
        jjoc.reservations.create(
            au, reserve("kadena", "2026-01-02T00:00Z", "2026-01-02T06:00Z", "flight")
        )
    assert refused.value.extra["reason"] == "facility_not_covered"


def test_conflicts_refused_for_live_fire_flagged_otherwise(jjoc: Node) -> None:
    fuji = area(jjoc, FUJI)
    west = area(
        jjoc, [[35.40, 138.70], [35.40, 138.85], [35.46, 138.85], [35.46, 138.70]], en="West"
    )
    far = area(jjoc, [[35.0, 138.0], [35.0, 138.1], [35.1, 138.1]], en="Far")
    jp = jjoc.user("jp.planner", "watch")
    first = jjoc.reservations.create(
        jp,
        reserve(
            fuji,
            "2026-02-01T00:00Z",
            "2026-02-01T06:00Z",
            unit="1st Artillery Brigade",
            altitude=BandIn(floor=0, ceiling=1000),
        ),
    )
    # Overlapping area (west shares part of fuji), altitude and time: refused, naming it.
    with pytest.raises(Conflict) as refused:
        jjoc.reservations.create(
            jp, reserve(west, "2026-02-01T05:00Z", "2026-02-01T09:00Z", "flight")
        )
    assert first.id in refused.value.detail and "1st Artillery Brigade" in refused.value.detail
    assert refused.value.extra["conflicts"] == [first.id]
    # Not overlapping in one of the three: accepted, no conflict.
    for other in (
        reserve(west, "2026-02-01T06:00Z", "2026-02-01T09:00Z"),  # starts as the first ends
        reserve(far, "2026-02-01T00:00Z", "2026-02-01T06:00Z"),  # another place
        # above the first's band (it ends at 1,000 m): the same place and time
        reserve(
            fuji,
            "2026-02-01T00:00Z",
            "2026-02-01T06:00Z",
            "flight",
            altitude=BandIn(floor=1000, ceiling=3000),
        ),
    ):
        got = jjoc.reservations.create(jp, other)
        assert got.conflicts == [], other
    # The area ends at 6,000 m: a band above it is refused.
    with pytest.raises(Invalid, match="outside the area's band"):
        jjoc.reservations.create(
            jp,
            reserve(
                far,
                "2026-04-01T00:00Z",
                "2026-04-01T06:00Z",
                altitude=BandIn(floor=200, ceiling=600, unit="FL"),
            ),
        )
    # Two flights overlapping: accepted and flagged, each naming the other.
    a = jjoc.reservations.create(
        jp, reserve(far, "2026-03-01T00:00Z", "2026-03-01T06:00Z", "flight")
    )
    b = jjoc.reservations.create(
        jp,
        reserve(
            far,
            "2026-03-01T03:00Z",
            "2026-03-01T04:00Z",
            "training",
            altitude=BandIn(floor=0, ceiling=1000),
        ),
    )
    assert [c.id for c in b.conflicts] == [a.id]
    assert [c.id for c in jjoc.reservations.get(jp, a.id).conflicts] == [b.id]
    jjoc.reservations.cancel(jp, a.id)
    assert jjoc.reservations.get(jp, b.id).conflicts == []


def test_a_sea_area_needs_48_hours_notice(jjoc: Node) -> None:
    sea = area(jjoc, SEA, kind="sea_area", basis="other", en="Sagami sea area", ja="相模海域")
    au = jjoc.user("au.planner", "watch", nation="AUS")
    now = utc("2026-05-01T00:00Z").timestamp()
    jjoc.reservations.clock = lambda: now
    with pytest.raises(LateNotice, match="48 h"):
        jjoc.reservations.create(
            au, reserve(sea, "2026-05-02T23:00Z", "2026-05-03T06:00Z", "maritime")
        )
    made = jjoc.reservations.create(
        au, reserve(sea, "2026-05-03T00:00Z", "2026-05-03T06:00Z", "maritime")
    )
    assert made.notice_by == "2026-05-01T00:00:00.000Z"


def test_a_reservation_may_not_reach_further_than_its_area(jjoc: Node) -> None:
    secret = area(jjoc, FUJI, label="S//REL TO JPN, USA")
    jp = jjoc.user("jp.planner", "watch")
    with pytest.raises(Invalid, match="reaches further"):
        jjoc.reservations.create(jp, reserve(secret, "2026-02-01T00:00Z", "2026-02-01T06:00Z"))
    ok = jjoc.reservations.create(
        jp, reserve(secret, "2026-02-01T00:00Z", "2026-02-01T06:00Z", label="S//REL TO JPN, USA")
    )
    assert ok.classification == "SECRET"
    au = jjoc.user("au.watch", "watch", nation="AUS")
    assert jjoc.reservations.list(au) == []  # released per reader
    assert jjoc.facilities.areas(au) == []


def test_peers_conflicting_reservations_are_flagged_on_both(tmp_path: Path) -> None:
    jjoc = start("jjoc", "JPN", root=fresh(tmp_path / "jjoc"))
    aus = start("aus", "AUS", root=fresh(tmp_path / "aus"))
    for node in (jjoc, aus):
        node.reservations.clock = lambda: utc("2026-01-01T00:00Z").timestamp()
    fuji = area(jjoc, FUJI)
    ship(jjoc, aus)  # the area reaches AUS
    assert [a.id for a in aus.facilities.areas(aus.user("au"))] == [fuji]
    # Cut off from each other, both reserve the range for overlapping flights.
    mine = jjoc.reservations.create(
        jjoc.user("jp"), reserve(fuji, "2026-02-01T00:00Z", "2026-02-01T06:00Z", "flight")
    )
    theirs = aus.reservations.create(
        aus.user("au"), reserve(fuji, "2026-02-01T03:00Z", "2026-02-01T09:00Z", "flight")
    )
    assert mine.conflicts == [] and theirs.conflicts == []
    ship(aus, jjoc)
    ship(jjoc, aus)
    assert [c.id for c in jjoc.reservations.get(jjoc.user("jp"), mine.id).conflicts] == [theirs.id]
    assert [c.id for c in aus.reservations.get(aus.user("au"), theirs.id).conflicts] == [mine.id]
    assert (theirs.id, mine.id) in jjoc.reservations.flagged
    assert jjoc.refused == [] and aus.refused == []  # nothing refused: each node owns its own
    # Even live fire from a peer is only flagged: another node's record is not refused here.
    fire = aus.reservations.create(
        aus.user("au"), reserve(fuji, "2026-03-01T00:00Z", "2026-03-01T06:00Z")
    )
    jjoc.reservations.create(
        jjoc.user("jp"), reserve(fuji, "2026-03-02T00:00Z", "2026-03-02T06:00Z")
    )
    ship(aus, jjoc)
    assert jjoc.reservations.get(jjoc.user("jp"), fire.id).status == "active"


def test_weekly_schedule_and_csv(jjoc: Node) -> None:
    fuji = area(jjoc, FUJI)
    jp = jjoc.user("jp.planner", "watch")
    inside = jjoc.reservations.create(jp, reserve(fuji, "2026-03-02T00:00Z", "2026-03-02T06:00Z"))
    jjoc.reservations.create(jp, reserve(fuji, "2026-03-09T00:00Z", "2026-03-09T06:00Z"))  # W11
    sched = jjoc.reservations.schedule(jp, "2026-W10")
    assert [r.id for r in sched.reservations] == [inside.id]
    text, highest = jjoc.reservations.schedule_csv(jp, "2026-W10")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["id"], r["label"], r["place_ja"], r["activity"]) for r in rows] == [
        (inside.id, "UNCLASSIFIED", "北富士演習場", "live_fire")
    ]
    assert highest == "UNCLASSIFIED"


def test_map_features_are_released_per_reader_and_areas_import(jjoc: Node) -> None:
    fuji = area(jjoc, FUJI)
    secret = area(
        jjoc, SEA, label="S//REL TO JPN, USA", kind="sea_area", basis="other", en="Closed"
    )
    jjoc.reservations.create(
        jjoc.user("jp"), reserve(fuji, "2026-03-02T00:00Z", "2026-03-02T06:00Z")
    )
    usa = make_principal("USA", Classification.SECRET)
    aus = make_principal("AUS", Classification.SECRET)
    us_feats = facilities_plugin.features(jjoc.facilities, usa)
    au_feats = facilities_plugin.features(jjoc.facilities, aus)
    assert {f.id for f in us_feats} - {f.id for f in au_feats} == {secret}
    fuji_feat = next(f for f in au_feats if f.id == fuji)
    assert fuji_feat.geometry["type"] == "Polygon"
    assert fuji_feat.geometry["coordinates"][0][0] == [138.80, 35.40]  # lon, lat; closed
    assert fuji_feat.geometry["coordinates"][0][-1] == [138.80, 35.40]
    assert fuji_feat.properties["basis"] == "sofa_ii_4b"
    yokota = next(f for f in au_feats if f.id == "yokota")
    assert yokota.geometry == {"type": "Point", "coordinates": [139.3486, 35.7486]}
    assert yokota.name == {"en": "Yokota Air Base", "ja": "横田飛行場"}
    (res,) = reservations_plugin.features(jjoc.reservations, aus)
    assert (res.time, res.end, res.geometry["type"]) == (
        "2026-03-02T00:00:00.000Z",
        "2026-03-02T06:00:00.000Z",
        "Polygon",
    )
    assert facilities_plugin.imports() == ("training_area",)
    geo = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[139, 34], [139.2, 34], [139.2, 34.2], [139, 34]]],
        },
        "properties": {
            "name_en": "Imported",
            "name_ja": "取込",
            "kind": "airspace",
            "ceiling_m": 9000,
        },
    }
    (made,) = facilities_plugin.import_features(
        jjoc.facilities, jjoc.user("jp"), "training_area", [geo], "U"
    )
    assert (made.kind, made.altitude.ceiling_m, made.polygon[0]) == (
        "airspace",
        9000,
        [34.0, 139.0],
    )
    bow_tie = {
        **geo,
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[139, 34], [139.2, 34.2], [139.2, 34], [139, 34.2]]],
        },
    }
    before = len(jjoc.facilities.areas(jjoc.user("jp")))
    with pytest.raises(Invalid, match="feature 2"):
        facilities_plugin.import_features(
            jjoc.facilities, jjoc.user("jp"), "training_area", [geo, bow_tie], "U"
        )
    assert len(jjoc.facilities.areas(jjoc.user("jp"))) == before  # all or nothing
