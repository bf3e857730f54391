"""Conflicts (place, altitude and time, property-tested), altitude bands, lead times, weeks."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.access.models import ACTIVITIES as ACCESS_ACTIVITIES
from kizuna.facilities.models import BASES, Place
from kizuna.facilities.rules import places_overlap, polygon_problems
from kizuna.reservations import rules
from kizuna.reservations.models import ACTIVITIES
from kizuna.reservations.rules import Slot, conflict


def box(x0: int, y0: int, w: int, h: int, pid: str) -> Place:
    """An axis-aligned box of whole hundredths of a degree near Mount Fuji."""
    lat0, lon0 = 35.0 + y0 / 100, 138.0 + x0 / 100
    lat1, lon1 = 35.0 + (y0 + h) / 100, 138.0 + (x0 + w) / 100
    ring = ((lat0, lon0), (lat0, lon1), (lat1, lon1), (lat1, lon0))
    return Place(
        id=pid, kind="range", basis="other", name={}, authority={}, lat=lat0, lon=lon0, polygon=ring
    )  # type: ignore[arg-type]


def overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


# One draw of 16 bytes per example, at most 2,000 examples (16 draws and 10,000 examples
# overran CI's time budget): boxes of hundredths of a degree, bands of 100 m, hours.
def decode(raw: bytes) -> tuple[int, ...]:
    limits = (21, 21, 10, 10, 21, 21, 10, 10, 11, 11, 11, 11, 49, 10, 49, 10)
    return tuple(byte % n for byte, n in zip(raw, limits, strict=True))


@settings(max_examples=min(settings().max_examples, 2_000))  # CI's time budget
@given(st.binary(min_size=16, max_size=16))
def test_conflict_iff_place_altitude_and_time_all_overlap(raw: bytes) -> None:
    ax, ay, aw, ah, bx, by, bw, bh, af, ac, bf, bc, at, ad, bt, bd = decode(raw)
    aw, ah, bw, bh, ad, bd = aw + 1, ah + 1, bw + 1, bh + 1, ad + 1, bd + 1  # not empty
    # a band of 0 is unlimited; else it is that many 100 m above its floor
    a_ceiling = None if ac == 0 else (af + ac) * 100.0
    b_ceiling = None if bc == 0 else (bf + bc) * 100.0
    a = Slot(id="a", place=box(ax, ay, aw, ah, "pa"), start=at * 3600.0, end=(at + ad) * 3600.0,
             floor_m=af * 100.0, ceiling_m=a_ceiling)  # fmt: skip
    b = Slot(id="b", place=box(bx, by, bw, bh, "pb"), start=bt * 3600.0, end=(bt + bd) * 3600.0,
             floor_m=bf * 100.0, ceiling_m=b_ceiling)  # fmt: skip
    place = overlaps(ax, ax + aw, bx, bx + bw) and overlaps(ay, ay + ah, by, by + bh)
    inf = 10**9
    height = overlaps(af, inf if ac == 0 else af + ac, bf, inf if bc == 0 else bf + bc)
    when = overlaps(at, at + ad, bt, bt + bd)
    assert conflict(a, b, places_overlap) == (place and height and when)
    assert conflict(b, a, places_overlap) == conflict(a, b, places_overlap)


def test_touching_is_not_overlapping_and_cancelled_conflicts_with_nothing() -> None:
    west, east = box(0, 0, 5, 5, "w"), box(5, 0, 5, 5, "e")  # share an edge
    assert not places_overlap(west, east)
    corner = box(5, 5, 5, 5, "c")  # share a corner
    assert not places_overlap(west, corner)
    inner = box(1, 1, 1, 1, "i")
    assert places_overlap(west, inner)  # one within the other
    low = Slot(id="l", place=west, start=0, end=3600, floor_m=0, ceiling_m=3000)
    high = Slot(id="h", place=west, start=0, end=3600, floor_m=3000, ceiling_m=None)
    assert not conflict(low, high, places_overlap)  # bands 0–3000 and 3000–∞ touch
    later = Slot(id="t", place=west, start=3600, end=7200)
    assert not conflict(low, later, places_overlap)  # one ends as the other starts
    same = Slot(id="s", place=west, start=1800, end=5400, floor_m=1000, ceiling_m=2000)
    assert conflict(low, same, places_overlap)
    cancelled = Slot(id="x", place=west, start=0, end=3600, active=False)
    assert not conflict(low, cancelled, places_overlap)


def test_a_facility_point_overlaps_an_area_holding_it_or_granted_within_it() -> None:
    area = box(0, 0, 10, 10, "range")
    inside = Place(
        id="fac", kind="army_post", basis="jsdf", name={}, authority={}, lat=35.05, lon=138.05
    )  # type: ignore[arg-type]
    outside = Place(
        id="far", kind="army_post", basis="jsdf", name={}, authority={}, lat=36.0, lon=139.5
    )  # type: ignore[arg-type]
    assert places_overlap(area, inside) and places_overlap(inside, area)
    assert not places_overlap(area, outside)
    tied = Place(id="range2", kind="range", basis="other", name={}, authority={}, lat=0, lon=0,  # type: ignore[arg-type]
                 polygon=area.polygon, facility_id="far")  # fmt: skip
    assert places_overlap(tied, outside)  # an area of that facility
    assert places_overlap(outside, outside)  # the same facility


def test_polygons_are_checked() -> None:
    assert polygon_problems([[35, 138], [35, 139], [36, 139]]) == []
    assert polygon_problems([[35, 138], [36, 139], [35, 139], [36, 138]])  # a bow tie
    assert polygon_problems([[35, 138], [35, 139], [35, 140]])  # collinear
    assert polygon_problems([[95, 138], [35, 139], [36, 139]])  # out of range
    assert polygon_problems([[35, 138], [35, 138], [36, 139]])  # too few distinct


def test_bands_in_metres_feet_and_flight_levels() -> None:
    assert rules.band_of(0, 100, "FL") == (0.0, 3048.0)
    assert rules.band_of(1000, 5000, "ft") == (304.8, 1524.0)
    assert rules.band_of(0, None, "m") == (0.0, None)
    with pytest.raises(ValueError, match="ceiling"):
        rules.band_of(3000, 3000, "m")


def test_lead_times_and_weeks() -> None:
    table = {"sea_area": 48.0}
    now = 1_000_000.0
    assert rules.late_notice("sea_area", now + 47 * 3600, now, table) == 48.0
    assert rules.late_notice("sea_area", now + 48 * 3600, now, table) is None
    assert rules.late_notice("range", now + 60, now, table) is None  # no rule for a range
    assert rules.late_notice("range", now + 60, now, {"default": 24.0}) == 24.0
    start, end = rules.week_bounds("2026-W10")
    assert start.isoformat() == "2026-03-02T00:00:00+09:00"
    assert end - start == dt.timedelta(days=7)
    assert rules.week_of(start.timestamp()) == "2026-W10"
    assert rules.week_of(start.timestamp() - 1) == "2026-W09"  # Sunday 23:59:59 JST
    for bad in ("2026-10", "2026-W54", "W10"):
        with pytest.raises(ValueError):
            rules.week_bounds(bad)


def test_the_domains_share_one_vocabulary() -> None:
    from kizuna.access.models import BASES as ACCESS_BASES

    assert ACTIVITIES == ACCESS_ACTIVITIES
    assert BASES == ACCESS_BASES
