from __future__ import annotations

import pytest

from kizuna.mda.detect.clean import CleanConfig, Cleaner, mmsi_flag, mmsi_kind, null_values
from kizuna.mda.detect.geo import destination, haversine_m
from tests.mda.helpers import T0, fix


@pytest.mark.parametrize(
    ("mmsi", "kind"),
    [
        (235069877, "ship"),  # UK (MID 235)
        (431000123, "ship"),
        (199000001, "invalid"),  # no MID 199... leading 1 is not a ship
        (181000001, "invalid"),
        (2320001, "coast"),  # 002320001: 00MID coast station
        (23200001, "group"),  # 023200001: 0MID group
        (111232501, "sar_aircraft"),
        (823212345, "handheld"),
        (970123456, "sart"),
        (972123456, "mob"),
        (974123456, "epirb"),
        (982351234, "craft"),
        (992351234, "aton"),
        (991001234, "invalid"),  # 99 + MID 100: no such MID
        (123456789, "invalid"),  # leading 1 but not 111MID
        (0, "invalid"),
        (1_000_000_000, "invalid"),
        (200123456, "invalid"),  # MID 200 is unallocated
        (776000001, "invalid"),
    ],
)
def test_mmsi_kinds(mmsi: int, kind: str) -> None:
    assert mmsi_kind(mmsi) == kind


@pytest.mark.parametrize(
    "mmsi", [413000000, 416000000, 567000000, 666000001, 123456789, 0, 111111111, 999999999]
)
def test_placeholders_are_flagged(mmsi: int) -> None:
    assert mmsi_flag(mmsi) in ("placeholder", "invalid")
    assert mmsi_flag(mmsi) == "placeholder" or mmsi == 0


def test_real_ship_and_aton_are_usable() -> None:
    assert mmsi_flag(235069877) == mmsi_flag(992351234) == ""
    assert mmsi_flag(235000000) == "placeholder"  # a MID and zeros
    assert mmsi_flag(199000001) == "invalid"


def test_not_available_values_become_none() -> None:
    f = null_values(fix(235069877, T0, 91.0, 181.0, sog=102.3, cog=360.0, heading=511.0))
    assert (f.lat, f.lon, f.sog, f.cog, f.heading) == (None, None, None, None, None)
    f = null_values(fix(235069877, T0, 50.0, -1.0, sog=-1.0, cog=359.9, heading=359.0))
    assert (f.lat, f.lon, f.sog, f.cog, f.heading) == (50.0, -1.0, None, 359.9, 359.0)
    assert null_values(fix(235069877, T0, 0.0, 0.0)).lat is None  # null island
    clean = fix(235069877, T0, 50.0, -1.0, sog=5.0, cog=10.0, heading=12.0)
    assert null_values(clean) is clean  # nothing to change: no copy


def test_one_vessel_stays_one_segment_with_jitter() -> None:
    c = Cleaner()
    # 30 m of jitter one second apart is 58 kn "implied", but within the jitter tolerance
    segs = {
        c.clean(fix(1, T0 + i, 50.0 + (30e-5 if i % 2 else 0.0), -1.0)).segment for i in range(50)
    }
    assert segs == {0}


def test_jump_splits_and_return_rejoins() -> None:
    c = Cleaner(CleanConfig(max_speed_kn=50.0))
    a = c.clean(fix(1, T0, 50.7, -1.1))
    far = destination(50.7, -1.1, 180.0, 92_600.0)
    b = c.clean(fix(1, T0 + 300, *far))  # 50 NM in 5 min: 600 kn
    assert haversine_m(50.7, -1.1, *far) / 300 / 0.5144 > 550
    c2 = c.clean(fix(1, T0 + 310, far[0] + 1e-4, far[1]))
    back = c.clean(fix(1, T0 + 1800, 50.72, -1.1))  # 2.2 km in 30 min from the first: fine
    assert (a.segment, b.segment, c2.segment, back.segment) == (0, 1, 1, 0)
    assert c.segmenter.splits == 1


def test_clone_interleaves_two_segments_and_late_fix_is_marked() -> None:
    c = Cleaner()
    segs = []
    for i in range(10):
        segs.append(c.clean(fix(7, T0 + 2 * i, 50.78, -1.10)).segment)
        segs.append(c.clean(fix(7, T0 + 2 * i + 1, 50.62, -0.86)).segment)  # 25 km away
    assert segs == [0, 1] * 10
    c.clean(fix(7, T0 + 5, 50.78, -1.10))  # older than segment 0's newest
    assert c.late


def test_segments_are_bounded() -> None:
    c = Cleaner(CleanConfig(max_segments=3, max_vessels=5))
    for i in range(10):
        c.clean(fix(9, T0 + i, 10.0 * i - 40, 0.0))
    assert len(c.segmenter._ids[9].segs) == 3
    for m in range(20):
        c.clean(fix(235000000 + m + 1, T0, 50.0, -1.0))
    assert len(c.segmenter) == 5
