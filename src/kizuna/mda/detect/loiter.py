"""Loitering: mean implied speed below ``max_speed_kn`` (2 kn) for ``min_duration_s`` (2 h),
at least ``port_distance_m`` (default 5 km) from any port.

Each vessel segment's track is thinned to points at least ``sample_s`` (5 min) apart, so
GNSS jitter at anchor (metres per fix) does not read as speed. A *run* is a stretch of
consecutive steps each slower than ``max_speed_kn`` (so its mean is too), every point of it
away from port, no step longer than ``max_step_s`` (a silence breaks it). A run becomes a
loitering event (open) when it has lasted ``min_duration_s``: start = its first point; it
closes at its last slow point when a fast step, a port approach or a silence
(``max_step_s`` of data time, decided by :meth:`LoiterDetector.tick`) ends it.

5 km from port: the Solent's ports (Southampton, Portsmouth, Cowes) and their berths and
inner anchorages lie within it; an anchorage further out (St Helens Roads, the Nab) is
what an analyst calls loitering by this definition.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from kizuna.core.labels import Label
from kizuna.mda.detect.base import KNOT, Emission, Evidence, Fix, event_id
from kizuna.mda.detect.clean import combine_labels
from kizuna.mda.detect.geo import flat_m, speed_kn
from kizuna.mda.detect.ports import PortIndex


class LoiterConfig(msgspec.Struct, frozen=True, kw_only=True):
    max_speed_kn: float = 2.0
    min_duration_s: float = 2 * 3600.0
    port_distance_m: float = 5000.0
    sample_s: float = 300.0
    max_step_s: float = 3600.0


def _ev(f: Fix) -> Evidence:
    return Evidence(mmsi=str(f.mmsi), t=f.t, lat=f.lat, lon=f.lon, sog=f.sog, source=f.source)  # type: ignore[arg-type]


class _State:
    __slots__ = ("away", "dist", "first", "label", "last", "n", "open", "slat", "slon")

    def __init__(self, fix: Fix, away: bool) -> None:
        self.last = fix  # the last thinned point
        self.away = away  # it is away from port
        self.first: Fix | None = None  # the run's first point (None: no run)
        self.dist = 0.0
        self.n = 0
        self.slat = 0.0
        self.slon = 0.0
        self.label: Label = fix.label
        self.open = False


class LoiterDetector:
    """Implements the Detector protocol (fixes in time order per segment)."""

    def __init__(self, config: LoiterConfig | None = None, ports: PortIndex | None = None) -> None:
        self.cfg = config or LoiterConfig()
        self.ports = ports or PortIndex()
        self._s: dict[tuple[int, int], _State] = {}
        self._open: dict[tuple[int, int], _State] = {}
        self._max_mps = self.cfg.max_speed_kn * KNOT

    def __len__(self) -> int:
        return len(self._s)

    def feed(self, fix: Fix) -> Sequence[Emission]:
        key = (fix.mmsi, fix.segment)
        st = self._s.get(key)
        cfg = self.cfg
        if st is None:
            self._s[key] = _State(fix, not self.ports.near(fix.lat, fix.lon, cfg.port_distance_m))  # type: ignore[arg-type]
            return ()
        prev = st.last
        dt = fix.t - prev.t
        if dt < cfg.sample_s:
            return ()
        away = not self.ports.near(fix.lat, fix.lon, cfg.port_distance_m)  # type: ignore[arg-type]
        d = flat_m(prev.lat, prev.lon, fix.lat, fix.lon)  # type: ignore[arg-type]
        out: Sequence[Emission] = ()
        if away and st.away and dt <= cfg.max_step_s and d < self._max_mps * dt:
            if st.first is None:
                st.first, st.dist, st.n = prev, 0.0, 1
                st.slat, st.slon, st.label = prev.lat, prev.lon, prev.label  # type: ignore[assignment]
            st.dist += d
            st.n += 1
            st.slat += fix.lat  # type: ignore[operator]
            st.slon += fix.lon  # type: ignore[operator]
            st.label = combine_labels(st.label, fix.label)
            st.last = fix
            if not st.open and fix.t - st.first.t >= cfg.min_duration_s:
                st.open = True
                self._open[key] = st
                out = [self._emit(st, "open")]
        else:
            if st.open:
                out = [self._close(key, st)]
            st.first = None
            st.last = fix
        st.away = away
        return out

    def tick(self, now: float) -> Sequence[Emission]:
        if not self._open:
            return ()
        gap = self.cfg.max_step_s
        out = []
        for key, st in list(self._open.items()):
            if now - st.last.t > gap:
                out.append(self._close(key, st))
                st.first = None
        return out

    def _close(self, key: tuple[int, int], st: _State) -> Emission:
        st.open = False
        self._open.pop(key, None)
        return self._emit(st, "closed")

    def _emit(self, st: _State, status: str) -> Emission:
        first, last = st.first, st.last
        assert first is not None
        dur = last.t - first.t
        mmsi = str(first.mmsi)
        return Emission(
            id=event_id("loitering", (mmsi,), first.t),
            type="loitering",
            status=status,  # type: ignore[arg-type]
            start=first.t,
            end=None if status == "open" else last.t,
            vessels=(mmsi,),
            lat=st.slat / st.n,
            lon=st.slon / st.n,
            evidence=[_ev(first), _ev(last)],
            label=st.label,
            detail={
                "duration_s": dur,
                "mean_speed_kn": round(speed_kn(st.dist, dur), 3),
                "distance_m": round(st.dist, 1),
                "segment": first.segment,
            },
        )
