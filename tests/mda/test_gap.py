from __future__ import annotations

from kizuna.mda.detect.gap import GapConfig, GapDetector
from tests.mda.helpers import T0, fix, steam

H = 3600.0
M = 235069877


def feed(det: GapDetector, fixes) -> list:
    out = []
    for f in fixes:
        out += det.tick(f.t)
        out += det.feed(f)
    return out


def test_gap_opens_live_and_closes_with_distance_speed_and_sources() -> None:
    det = GapDetector()
    before = steam(M, T0, 600, (50.7, -1.1), 10.0, every=60)
    # a second source saw it within the hour before; a third long before does not count
    before[0] = fix(M, before[0].t, before[0].lat, before[0].lon, source="jjoc")
    out = feed(det, before)
    last = before[-1]
    assert not out and not det.tick(last.t + 6 * H - 1)
    opened = det.tick(last.t + 6 * H)
    assert [(e.status, e.start, e.end) for e in opened] == [("open", last.t, None)]
    assert opened[0].detail["sources_before"] == 2
    back = fix(M, last.t + 7 * H, 50.8, -1.1)
    closed = det.feed(back)
    e = closed[0]
    assert (e.id, e.status, e.start, e.end) == (opened[0].id, "closed", last.t, back.t)
    assert 11_000 < e.detail["distance_m"] < 12_500
    assert abs(e.detail["implied_speed_kn"] - e.detail["distance_m"] / 7 / 1852) < 0.01
    assert [ev.t for ev in e.evidence] == [last.t, back.t]


def test_no_gap_for_a_vessel_seen_too_little_or_too_briefly_silent() -> None:
    det = GapDetector(GapConfig(min_fixes=5))
    feed(det, [fix(M, T0 + i, 50.0, -1.0) for i in range(4)])  # 4 fixes: noise
    assert not det.tick(T0 + 10 * H)
    det2 = GapDetector()
    feed(det2, [fix(M, T0 + i * 60, 50.0, -1.0) for i in range(10)])
    assert not det2.tick(T0 + 5 * H) and not det2.feed(fix(M, T0 + 5.5 * H, 50.0, -1.0))


def test_late_message_retracts_an_open_gap() -> None:
    det = GapDetector()
    feed(det, [fix(M, T0 + i * 60, 50.0, -1.0) for i in range(10)])
    last_t = T0 + 9 * 60
    opened = det.tick(last_t + 6.5 * H)
    assert opened[0].status == "open"
    late = fix(M, last_t + 3 * H, 50.01, -1.0, source="jjoc")  # arrives late, fills it
    out = det.feed(late)
    assert [(e.id, e.status) for e in out] == [(opened[0].id, "retracted")]
    # the vessel is still silent since the late fix: a new gap from it, once due
    again = det.tick(last_t + 9.5 * H)
    assert [(e.status, e.start) for e in again] == [("open", late.t)]


def test_late_message_inside_a_closed_gap_splits_or_retracts_it() -> None:
    det = GapDetector()
    feed(det, [fix(M, T0 + i * 60, 50.0, -1.0) for i in range(10)])
    s = T0 + 9 * 60
    det.tick(s + 6 * H)
    [closed] = det.feed(fix(M, s + 13 * H, 50.0, -1.0))
    assert closed.status == "closed"
    out = det.feed(fix(M, s + 7 * H, 50.0, -1.0))  # late, in the middle
    assert [(e.status, e.start, e.end) for e in out] == [
        ("closed", s, s + 7 * H),  # the first part is still a gap (same id, shorter)
        ("closed", s + 7 * H, s + 13 * H),  # and so is the second
    ]
    assert out[0].id == closed.id


def test_twelve_hour_setting() -> None:
    det = GapDetector(GapConfig(threshold_s=12 * H))
    feed(det, [fix(M, T0 + i * 60, 50.0, -1.0) for i in range(10)])
    assert not det.tick(T0 + 9 * 60 + 11 * H)
    assert det.tick(T0 + 9 * 60 + 12 * H)[0].status == "open"
