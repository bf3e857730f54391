"""Zones and watchlists: crossings with hysteresis, dwell, sightings, run-time changes."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pytest

from kizuna.core.labels import Classification, Label, make_label
from kizuna.mda.detect.base import Emission, Fix
from kizuna.mda.detect.geo import offset
from kizuna.mda.detect.zone import WatchEntry, Zone, ZoneConfig, ZoneDetector
from tests.mda.test_spoof import load_solent

U = Label(classification=Classification.UNCLASSIFIED)
SECRET_JPN = make_label(Classification.SECRET, rel_to=["JPN"])
CONF_AUS_JPN = make_label(Classification.CONFIDENTIAL, rel_to=["AUS", "JPN"])
T0 = 1_452_600_000.0
# A square of about 1.1 km x 1.4 km in the eastern Solent, open water.
SQUARE = Zone(
    id="z1",
    name="Box",
    label=U,
    rings=(((50.74, -1.21), (50.75, -1.21), (50.75, -1.19), (50.74, -1.19)),),
)


@pytest.fixture(scope="module")
def solent(shared_data: Path) -> list[Fix]:
    return load_solent(shared_data)


def run(
    det: ZoneDetector, fixes: Iterable[Fix], settle: bool = True, tick_every: int = 1
) -> list[Emission]:
    out: list[Emission] = []
    last = 0.0
    for i, f in enumerate(sorted(fixes, key=lambda f: f.t)):
        out.extend(det.feed(f))
        last = max(last, f.t)
        if i % tick_every == 0:
            out.extend(det.tick(last))
    if settle:
        out.extend(det.tick(last + 7 * 3600))
    return out


def track(
    start: tuple[float, float], north_mps: float, east_mps: float, n: int, **kw: object
) -> list[Fix]:
    """A straight track, one fix every 10 s, for one vessel."""
    kw.setdefault("mmsi", 235000001)
    kw.setdefault("label", U)
    return [
        Fix(
            t=T0 + 10 * i,
            lat=offset(*start, north_mps * 10 * i, 0.0)[0],
            lon=offset(*start, 0.0, east_mps * 10 * i)[1],
            **kw,  # type: ignore[arg-type]
        )
        for i in range(n)
    ]


def summary(events: list[Emission]) -> list[tuple[str, str]]:
    return [(e.detail["kind"], e.status) for e in events]


def test_a_crossing_is_entry_dwell_exit() -> None:
    # West to east at ~2 m/s (3.9 kn): 1,410 m inside, about 705 s.
    fixes = track((50.745, -1.215), 0.0, 2.0, 130)
    events = run(ZoneDetector([SQUARE]), fixes)
    assert summary(events) == [
        ("entry", "closed"),
        ("dwell", "open"),
        ("exit", "closed"),
        ("dwell", "closed"),
    ]
    entry, dwell_open, exit_, dwell = events
    inside = [f for f in fixes if -1.21 <= f.lon <= -1.19]
    assert entry.start == inside[0].t and exit_.start == inside[-1].t + 10
    assert dwell.id == dwell_open.id and dwell.start == entry.start
    assert dwell.detail["dwell_s"] == pytest.approx(exit_.start - entry.start)
    assert exit_.detail["dwell_s"] == dwell.detail["dwell_s"]
    # A short transit (fast, < dwell_update_s inside) is an entry and an exit only.
    fast = track((50.745, -1.215), 0.0, 8.0, 40)
    assert summary(run(ZoneDetector([SQUARE]), fast)) == [("entry", "closed"), ("exit", "closed")]
    assert entry.detail["zone"] == "z1" and entry.vessels == ("235000001",)
    assert -1.21 <= entry.lon <= -1.205  # the mean of its evidence: at the edge
    assert entry.id != exit_.id != dwell.id


def test_hysteresis_no_flapping_along_an_edge() -> None:
    det = ZoneDetector([SQUARE])
    edge = 50.75
    wobble = []
    for i in range(360):  # an hour eastwards along the north edge, ±40 m each fix
        t = T0 + 10 * i
        lat = offset(edge, -1.2, 40.0 if i % 2 else -40.0, 0.0)[0]
        lon = -1.215 + i * 0.00008
        wobble.append(Fix(mmsi=235000002, t=t, lat=lat, lon=lon, label=U))
    assert run(det, wobble) == []
    # Even clear of the edge band, one fix on the other side at a time is not a crossing.
    det = ZoneDetector([SQUARE])
    swing = [
        msgspec.structs.replace(f, lat=offset(edge, -1.2, 150.0 if i % 2 else -150.0, 0.0)[0])
        for i, f in enumerate(wobble)
    ]
    assert run(det, swing) == []
    # ... but two in a row are (the confirm_fixes default).
    det = ZoneDetector([SQUARE])
    two = [
        msgspec.structs.replace(
            f, lat=offset(edge, -1.2, -150.0 if i in (100, 101) else 150.0, 0.0)[0]
        )
        for i, f in enumerate(wobble)
    ]
    assert summary(run(det, two)) == [("entry", "closed"), ("exit", "closed")]


def test_real_solent_yields_nothing_without_a_relevant_zone(solent: list[Fix]) -> None:
    inland = Zone(  # the middle of the Isle of Wight
        id="iow",
        label=U,
        rings=(((50.64, -1.35), (50.66, -1.35), (50.66, -1.28), (50.64, -1.28)),),
    )
    watch = [
        WatchEntry(id="w1", label=U, mmsi=273000001),
        WatchEntry(id="w2", label=U, name="Dark Vessel"),
        WatchEntry(id="w3", label=U, imo=9999999),
    ]
    assert run(ZoneDetector([inland], watch), solent) == []


def test_real_traffic_crossings_alternate(solent: list[Fix]) -> None:
    # Portsmouth harbour mouth: real ferries and warships cross it.
    mouth = Zone(
        id="mouth",
        label=U,
        rings=(((50.785, -1.12), (50.80, -1.12), (50.80, -1.10), (50.785, -1.10)),),
    )
    events = run(ZoneDetector([mouth]), solent)
    crossings: dict[str, list[Emission]] = {}
    for e in events:
        if e.detail["kind"] in ("entry", "exit"):
            crossings.setdefault(e.vessels[0], []).append(e)
    assert crossings  # real vessels do cross
    for seq in crossings.values():
        kinds = [e.detail["kind"] for e in seq]
        assert all(a != b for a, b in itertools.pairwise(kinds))  # alternating
        assert all(b.start - a.start >= 60 for a, b in itertools.pairwise(seq))


def test_dwell_updates_at_most_every_n_minutes_and_closes_when_lost() -> None:
    cfg = ZoneConfig(dwell_update_s=600.0, lost_s=3600.0)
    det = ZoneDetector([SQUARE], config=cfg)
    fixes = track((50.745, -1.215), 0.0, 2.0, 40)  # in, then anchored inside for 1 h
    last = fixes[-1]
    fixes += [msgspec.structs.replace(last, t=last.t + 10 * i) for i in range(1, 360)]
    events = run(det, fixes, settle=False)
    dwell = [e for e in events if e.detail["kind"] == "dwell"]
    assert [e.status for e in dwell] == ["open"] * len(dwell) and 5 <= len(dwell) <= 6
    assert all(
        b.detail["dwell_s"] - a.detail["dwell_s"] >= 600 for a, b in itertools.pairwise(dwell)
    )
    (lost,) = det.tick(fixes[-1].t + 3600)
    assert (lost.status, lost.detail.get("lost"), lost.end) == ("closed", True, fixes[-1].t)


def test_label_is_the_restriction_of_zone_and_fixes() -> None:
    zone = msgspec.structs.replace(SQUARE, label=SECRET_JPN)
    fixes = track((50.745, -1.215), 0.0, 2.0, 130, label=CONF_AUS_JPN)
    events = run(ZoneDetector([zone]), fixes)
    for e in events:
        assert e.label.classification == Classification.SECRET
        assert e.label.rel_to == frozenset({"USA", "JPN"})


def test_zones_replaced_at_run_time_keep_vessel_state() -> None:
    det = ZoneDetector([SQUARE])
    fixes = track((50.745, -1.215), 0.0, 2.0, 130)
    first = run(det, fixes[:60], settle=False)
    assert summary(first) == [("entry", "closed")]
    other = Zone(id="z2", label=U, rings=(((50.0, 0.0), (50.1, 0.0), (50.1, 0.1)),))
    assert det.set_zones([other, SQUARE]) == []
    rest = run(det, fixes[60:], settle=False)
    assert [e.detail["kind"] for e in rest] == ["dwell", "exit", "dwell"]
    # Removing a zone a vessel is inside closes its dwell.
    det = ZoneDetector([SQUARE])
    assert summary(run(det, fixes[:85], settle=False)) == [("entry", "closed"), ("dwell", "open")]
    (closed,) = det.set_zones([other])
    assert (closed.detail["kind"], closed.status, closed.detail["removed"]) == (
        "dwell",
        "closed",
        True,
    )


def test_watchlist_by_mmsi_imo_and_name(solent: list[Fix]) -> None:
    real = solent[0].mmsi
    entries = [
        WatchEntry(id="by-mmsi", label=SECRET_JPN, mmsi=real),
        WatchEntry(id="by-name", label=U, name="Ocean  Star"),
        WatchEntry(id="by-imo", label=U, imo=9321483),
    ]
    det = ZoneDetector([], entries)
    other = next(f.mmsi for f in solent if f.mmsi != real)
    third = next(f.mmsi for f in solent if f.mmsi not in (real, other))
    t = solent[0].t + 60
    static = [
        Fix(mmsi=other, t=t, lat=None, lon=None, name="OCEAN STAR ", label=U),
        Fix(mmsi=third, t=t, lat=None, lon=None, imo=9321483, label=U),
    ]
    events = run(det, [*solent, *static])
    final = {e.id: e for e in events}
    got = sorted(
        (e.detail["watchlist"], e.vessels[0], e.detail["matched"], e.status) for e in final.values()
    )
    assert got == sorted(
        [
            ("by-mmsi", str(real), "mmsi", "closed"),
            ("by-name", str(other), "name", "closed"),
            ("by-imo", str(third), "imo", "closed"),
        ]
    )
    (mm,) = [e for e in final.values() if e.detail["watchlist"] == "by-mmsi"]
    assert mm.label.classification == Classification.SECRET
    assert mm.start == solent[0].t
    assert all(e.type == "zone" and e.detail["kind"] == "watchlist" for e in events)


def test_watchlist_once_per_vessel_per_day() -> None:
    det = ZoneDetector([], [WatchEntry(id="w", label=U, mmsi=235000001)])
    fixes = track((50.745, -1.215), 0.0, 2.0, 10)
    (opened,) = run(det, fixes, settle=False)
    (closed,) = det.tick(fixes[-1].t + 3600)
    assert closed.id == opened.id and closed.status == "closed"
    later = [msgspec.structs.replace(f, t=f.t + 7200) for f in fixes]
    (reopened,) = run(det, later, settle=False)
    assert (reopened.id, reopened.status) == (opened.id, "open")
    det.tick(later[-1].t + 3600)
    tomorrow = [msgspec.structs.replace(f, t=f.t + 86_400) for f in fixes]
    (new,) = run(det, tomorrow, settle=False)
    assert new.id != opened.id


def test_ids_are_the_same_across_replays(solent: list[Fix]) -> None:
    mouth = Zone(
        id="mouth",
        label=U,
        rings=(((50.785, -1.12), (50.80, -1.12), (50.80, -1.10), (50.785, -1.10)),),
    )
    watch = [WatchEntry(id="w", label=U, mmsi=solent[0].mmsi)]
    once = run(ZoneDetector([mouth], watch), solent)
    again = run(ZoneDetector([mouth], watch), solent, tick_every=50)
    assert once and sorted((e.id, e.status) for e in once) == sorted(
        (e.id, e.status) for e in again
    )


def test_a_polygon_with_a_hole() -> None:
    outer = ((50.74, -1.21), (50.75, -1.21), (50.75, -1.19), (50.74, -1.19))
    hole = ((50.743, -1.203), (50.747, -1.203), (50.747, -1.197), (50.743, -1.197))
    zone = Zone(id="ring", label=U, rings=(outer, hole))
    events = run(ZoneDetector([zone]), track((50.745, -1.215), 0.0, 2.0, 130))
    kinds = [e.detail["kind"] for e in events if e.detail["kind"] in ("entry", "exit")]
    assert kinds == ["entry", "exit", "entry", "exit"]  # in, into the hole, out, out
