"""Spoofing: each kind on a crafted case injected into the real Solent hour, none untouched."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from kizuna.core.labels import Classification, Label, make_label
from kizuna.mda.detect.base import Emission, Fix
from kizuna.mda.detect.geo import haversine_m, offset
from kizuna.mda.detect.spoof import SpoofConfig, SpoofDetector, mmsi_problem

U = Label(classification=Classification.UNCLASSIFIED)
SECRET_JPN = make_label(Classification.SECRET, rel_to=["JPN"])
GLITCH_MMSI = 245188000  # one real position 3,800 km away at 13:41:20, then back home


def load_solent(shared: Path) -> list[Fix]:
    out = []
    with (shared / "ais" / "solent_ais_20160112.csv").open() as f:
        for r in csv.DictReader(f):
            t = datetime.fromisoformat(r["Time"]).replace(tzinfo=UTC).timestamp()
            out.append(
                Fix(
                    mmsi=int(r["MMSI"]),
                    t=t,
                    lat=float(r["Latitude_degrees"]),
                    lon=float(r["Longitude_degrees"]),
                    sog=float(r["SOG_knots"]),
                    cog=float(r["COG_degrees"]),
                    label=U,
                )
            )
    out.sort(key=lambda f: f.t)
    return out


@pytest.fixture(scope="module")
def solent(shared_data: Path) -> list[Fix]:
    return load_solent(shared_data)


def run(fixes: Iterable[Fix], cfg: SpoofConfig | None = None, tick_every: int = 1) -> list:
    d = SpoofDetector(cfg)
    out: list[Emission] = []
    last = 0.0
    for i, f in enumerate(sorted(fixes, key=lambda f: f.t)):
        out.extend(d.feed(f))
        last = max(last, f.t)
        if i % tick_every == 0:
            out.extend(d.tick(last))
    for k in range(1, 200):  # let the clock run on: everything open closes
        out.extend(d.tick(last + 60.0 * k))
    return out


def latest(events: list[Emission]) -> dict[str, Emission]:
    by_id: dict[str, Emission] = {}
    for e in events:
        by_id[e.id] = e
    return by_id


def kinds(events: list[Emission]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted({(e.detail["kind"], e.vessels) for e in events})


def busiest(fixes: list[Fix], n: int = 1) -> list[int]:
    count: dict[int, int] = {}
    for f in fixes:
        count[f.mmsi] = count.get(f.mmsi, 0) + 1
    return sorted(count, key=lambda m: (-count[m], m))[:n]


def test_untouched_solent_yields_no_spoofing(solent: list[Fix]) -> None:
    # Includes a real one-fix excursion of 245188000 to 54.8° E: a glitch, not a jump.
    assert any(f.mmsi == GLITCH_MMSI and f.lon > 50 for f in solent)
    assert run(solent) == []


def test_a_600_kn_jump_is_one_impossible_movement(solent: list[Fix]) -> None:
    mmsi = busiest(solent)[0]
    own = [f for f in solent if f.mmsi == mmsi]
    k = len(own) // 2
    before, after = own[k - 1], own[k]
    jump_m = 600 * 1852 / 3600 * (after.t - before.t)
    moved = {
        id(f): msgspec.structs.replace(f, lat=offset(f.lat, f.lon, jump_m, 0.0)[0]) for f in own[k:]
    }
    fixes = [moved.get(id(f), f) for f in solent]
    events = run(fixes)
    assert kinds(events) == [("impossible_movement", (str(mmsi),))]
    (ev,) = events  # reported once
    assert ev.status == "closed"
    assert ev.start == before.t and ev.end == after.t
    landed = moved[id(after)]
    dist = haversine_m(before.lat, before.lon, landed.lat, landed.lon)  # jump + own way
    assert ev.detail["distance_m"] == pytest.approx(dist, abs=1)
    assert ev.detail["implied_speed_kn"] == pytest.approx(600, rel=0.1)
    assert [e.t for e in ev.evidence] == [before.t, after.t]


def clone(solent: list[Fix], label: Label = U) -> tuple[list[Fix], int, int, float]:
    """The MMSI of vessel a also transmitted by vessel b (its own track) for 20 min."""
    a, *others = busiest(solent, 10)
    t0 = solent[0].t + 900
    where = {f.mmsi: f for f in solent if f.t <= t0}
    b = next(
        m
        for m in others
        if haversine_m(where[a].lat, where[a].lon, where[m].lat, where[m].lon) > 5000
    )
    out = []
    for f in solent:
        if f.mmsi == b:
            if t0 <= f.t < t0 + 1200:
                out.append(msgspec.structs.replace(f, mmsi=a, label=label))
            continue  # b itself is out of the picture
        out.append(f)
    return out, a, b, t0


def test_a_cloned_mmsi_is_an_identity_conflict_not_jumps(solent: list[Fix]) -> None:
    fixes, a, b, t0 = clone(solent)
    first = next(f for f in solent if f.mmsi == b and f.t >= t0)
    a_then = max((f for f in solent if f.mmsi == a and f.t <= first.t), key=lambda f: f.t)
    assert haversine_m(a_then.lat, a_then.lon, first.lat, first.lon) > 1000  # two places
    events = run(fixes)
    assert kinds(events) == [("identity_conflict", (str(a),))]
    final = list(latest(events).values())
    (ev,) = final
    assert ev.status == "closed"
    assert abs(ev.start - t0) <= 60  # the clone's first position
    assert t0 + 1200 - 60 <= ev.end <= t0 + 1200 + 60
    assert "positions" in ev.detail["reasons"]
    assert ev.detail["implied_speed_kn"] > 100


def test_conflict_label_is_the_restriction_of_its_fixes(solent: list[Fix]) -> None:
    fixes, _a, _, _ = clone(solent, label=SECRET_JPN)
    (ev,) = latest(run(fixes)).values()
    assert ev.label.classification == Classification.SECRET
    assert ev.label.rel_to == frozenset({"USA", "JPN"})


def test_several_names_for_one_mmsi(solent: list[Fix]) -> None:
    mmsi = busiest(solent)[0]
    t = solent[0].t + 600
    static = [
        Fix(mmsi=mmsi, t=t + 360 * i, lat=None, lon=None, name=name, label=U)
        for i, name in enumerate(["SEA  WOLF", "sea wolf", "OCEAN STAR", "SEA WOLF", "OCEAN STAR"])
    ]
    events = run([*solent, *static])
    assert kinds(events) == [("identity_conflict", (str(mmsi),))]
    ev = next(iter(latest(events).values()))
    assert ev.detail["reasons"] == ["names"]
    assert ev.detail["names"] == ["OCEANSTAR", "SEAWOLF"]
    # A single rename (case and spacing aside) is not a conflict.
    rename = [msgspec.structs.replace(s, name="SEA WOLF") for s in static[:2]] + [
        msgspec.structs.replace(s, name="Ocean Star") for s in static[2:]
    ]
    assert run([*solent, *rename]) == []


@pytest.mark.parametrize(
    ("mmsi", "why"),
    [
        (413000000, "placeholder"),
        (666000001, "placeholder"),
        (123456789, "placeholder"),
        (12345, "invalid"),
        (199123456, "invalid"),
        (235000000, "placeholder"),
        (235070762, None),
        (2320021, None),  # coast station 002320021
        (992351234, None),  # aid to navigation
        (970123456, None),  # AIS-SART
    ],
)
def test_mmsi_formats(mmsi: int, why: str | None) -> None:
    assert mmsi_problem(mmsi) == why


def test_placeholder_mmsi_once_per_day_open_while_transmitting(solent: list[Fix]) -> None:
    real = busiest(solent)[0]
    fake = [msgspec.structs.replace(f, mmsi=413000000) for f in solent if f.mmsi == real]
    d = SpoofDetector()
    out: list[Emission] = []
    for f in fake[:50]:
        out += d.feed(f)
        out += d.tick(f.t)
    assert [(e.status, e.detail["kind"], e.detail["reason"]) for e in out] == [
        ("open", "invalid_identity", "placeholder")
    ]
    first = out[0]
    assert first.vessels == ("413000000",) and first.start == fake[0].t
    silence = fake[49].t + 3600
    closed = d.tick(silence)
    assert [(e.id, e.status, e.end) for e in closed] == [(first.id, "closed", fake[49].t)]
    # The same day again: the same event reopens. The next day: a new one.
    again = msgspec.structs.replace(fake[60], t=silence + 10)
    (reopened,) = d.feed(again)
    assert (reopened.id, reopened.status, reopened.end) == (first.id, "open", None)
    assert d.tick(silence + 4000)[0].status == "closed"
    tomorrow = msgspec.structs.replace(fake[61], t=fake[0].t + 86_400)
    (new,) = d.feed(tomorrow)
    assert new.id != first.id and new.status == "open"


def circle(
    solent: list[Fix], n: int = 6, radius: float = 2000.0
) -> tuple[list[Fix], list[int], tuple[float, float], float, float]:
    """n real vessels' positions displaced onto a circle for 20 minutes (GNSS spoofing)."""
    centre = (50.70, -1.25)  # the Solent off Cowes
    t0 = solent[0].t + 1500
    t1 = t0 + 1200
    victims = busiest(solent, n)
    at = {m: 2 * math.pi * i / n for i, m in enumerate(victims)}
    out = []
    for f in solent:
        if f.mmsi in at and t0 <= f.t < t1:
            a = at[f.mmsi] + (f.t - t0) / 1200 * 0.3  # drifting slowly round the ring
            lat, lon = offset(*centre, radius * math.sin(a), radius * math.cos(a))
            f = msgspec.structs.replace(f, lat=lat, lon=lon)
        out.append(f)
    return out, victims, centre, t0, t1


def test_vessels_on_a_circle_are_one_area_event(solent: list[Fix]) -> None:
    fixes, victims, centre, t0, t1 = circle(solent)
    events = run(fixes)
    # One area-level event; the victims' jumps onto the ring and back are its evidence.
    assert {e.detail["kind"] for e in events} == {"gnss_interference"}
    (ev,) = latest(events).values()
    assert set(ev.vessels) == {str(m) for m in victims}
    assert haversine_m(ev.lat, ev.lon, *centre) < 50
    assert ev.detail["radius_m"] == pytest.approx(2000, rel=0.01)
    assert abs(ev.start - t0) <= 600 and abs(ev.end - t1) <= 600
    assert ev.status == "closed"
    assert {e.mmsi for e in ev.evidence} == {str(m) for m in victims}


def test_four_vessels_on_a_circle_are_not_enough(solent: list[Fix]) -> None:
    fixes, *_ = circle(solent, n=4)
    assert "gnss_interference" not in {e.detail["kind"] for e in run(fixes)}


def test_ids_are_the_same_across_replays_and_tick_cadence(solent: list[Fix]) -> None:
    fixes, *_ = circle(solent)
    fixes2, *_ = clone(fixes)
    once = run(fixes2)
    assert {e.detail["kind"] for e in once} >= {"gnss_interference", "identity_conflict"}
    again = run(fixes2)
    sparse = run(fixes2, tick_every=37)
    assert [(e.id, e.status) for e in once] == [(e.id, e.status) for e in again]
    assert sorted(latest(once)) == sorted(latest(sparse))


def test_state_is_bounded(solent: list[Fix]) -> None:
    d = SpoofDetector()
    for f in solent:
        d.feed(f)
        d.tick(f.t)
    assert d.forget(solent[-1].t + 1) == len({f.mmsi for f in solent})
    assert not d._cells and not d._vessels
