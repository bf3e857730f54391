from __future__ import annotations

from kizuna.mda.detect.loiter import LoiterDetector
from kizuna.mda.detect.ports import PortIndex
from tests.mda.helpers import T0, drift, steam

H = 3600.0
OFFSHORE = (50.50, -1.30)  # the Channel, 29 km south of Cowes
PORTS = PortIndex([(50.76, -1.30), (50.80, -1.11)])


def run(det, fixes):
    out = []
    for f in fixes:
        out += det.tick(f.t)
        out += det.feed(f)
    return out


def test_loiter_opens_after_two_hours_and_closes_when_under_way() -> None:
    det = LoiterDetector(ports=PORTS)
    slow = drift(1, T0, 3 * H, OFFSHORE)
    away = steam(1, slow[-1].t + 10, 1800, (slow[-1].lat, slow[-1].lon), 10.0)
    out = run(det, slow + away)
    assert [e.status for e in out] == ["open", "closed"]
    opened, closed = out
    assert opened.id == closed.id and closed.start == T0
    assert abs(opened.detail["duration_s"] - 2 * H) <= 300  # decided at the 2 h mark
    assert abs(closed.end - slow[-1].t) <= 300
    assert closed.detail["mean_speed_kn"] < 0.5


def test_no_loitering_in_port_or_under_two_hours_or_under_way() -> None:
    near_cowes = (50.765, -1.30)
    assert run(LoiterDetector(ports=PORTS), drift(1, T0, 4 * H, near_cowes)) == []
    assert run(LoiterDetector(ports=PORTS), drift(1, T0, 1.9 * H, OFFSHORE)) == []
    assert run(LoiterDetector(ports=PORTS), steam(1, T0, 4 * H, OFFSHORE, 3.0)) == []


def test_silence_closes_an_open_loiter() -> None:
    det = LoiterDetector(ports=PORTS)
    slow = drift(1, T0, 3 * H, OFFSHORE)
    out = run(det, slow)
    assert [e.status for e in out] == ["open"]
    closed = det.tick(slow[-1].t + 1.1 * H)
    assert [(e.status, e.end) for e in closed] == [
        ("closed", out[0].start + (closed[0].end - out[0].start))
    ]
    assert abs(closed[0].end - slow[-1].t) <= 300
