from __future__ import annotations

from kizuna.mda.detect.encounter import EncounterDetector
from kizuna.mda.detect.geo import offset
from kizuna.mda.detect.ports import PortIndex
from tests.mda.helpers import T0, drift, steam

H = 3600.0
SEA = (50.50, -1.30)
PORTS = PortIndex([(50.76, -1.30)])


def run(det, *tracks):
    fixes = sorted((f for tr in tracks for f in tr), key=lambda f: f.t)
    out = []
    for f in fixes:
        out += det.tick(f.t)
        out += det.feed(f)
    out += det.tick(fixes[-1].t + 2 * H)
    return out


def test_rendezvous_is_one_encounter_with_a_deterministic_id() -> None:
    a = drift(636092345, T0, 3 * H, SEA, every=10)
    b = drift(273412345, T0, 3 * H, offset(*SEA, 0, 300), every=180)  # class B-ish rate
    out = run(EncounterDetector(ports=PORTS), a, b)
    assert [e.status for e in out] == ["open", "closed"]
    e = out[-1]
    assert e.vessels == ("273412345", "636092345")
    assert e.start - T0 <= 600 and T0 + 3 * H - e.end <= 600  # one grid step
    assert 280 < e.detail["min_distance_m"] < 320 and e.detail["median_speed_kn"] < 2
    again = run(EncounterDetector(ports=PORTS), b, a)
    assert [x.id for x in again] == [x.id for x in out]


def test_interpolates_across_short_gaps_not_long_ones() -> None:
    a = drift(1 + 235000000, T0, 3 * H, SEA, every=60)
    b = drift(2 + 235000000, T0, 3 * H, offset(*SEA, 0, 200), every=60)
    hole = [f for f in b if not (T0 + H <= f.t < T0 + H + 25 * 60)]  # 25 min: bridged
    assert [e.status for e in run(EncounterDetector(ports=PORTS), a, hole)] == ["open", "closed"]
    hole = [f for f in b if not (T0 + H <= f.t < T0 + H + 45 * 60)]  # 45 min: not
    assert run(EncounterDetector(ports=PORTS), a, hole) == []


def test_no_encounter_too_far_too_short_too_fast_or_near_port() -> None:
    det = lambda: EncounterDetector(ports=PORTS)  # noqa: E731
    a = drift(235000001, T0, 3 * H, SEA)
    assert run(det(), a, drift(235000002, T0, 3 * H, offset(*SEA, 0, 700))) == []
    assert run(det(), a[: len(a) // 2], drift(235000002, T0, 1.5 * H, offset(*SEA, 0, 100))) == []
    s1 = steam(235000001, T0, 3 * H, SEA, 3.0)
    s2 = steam(235000002, T0, 3 * H, offset(*SEA, 100, 0), 3.0)
    assert run(det(), s1, s2) == []
    cowes = (50.77, -1.30)
    assert (
        run(
            det(),
            drift(235000001, T0, 3 * H, cowes),
            drift(235000002, T0, 3 * H, offset(*cowes, 0, 100)),
        )
        == []
    )


def test_two_segments_of_one_mmsi_are_not_a_pair() -> None:
    a = drift(235000001, T0, 3 * H, SEA)
    b = [
        f.__class__(**{**{k: getattr(f, k) for k in f.__struct_fields__}, "segment": 1})
        for f in drift(235000001, T0 + 1, 3 * H, offset(*SEA, 0, 100))
    ]
    assert run(EncounterDetector(ports=PORTS), a, b) == []
