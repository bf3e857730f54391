"""Encounters: two vessels within ``max_distance_m`` (500 m) for more than
``min_duration_s`` (2 h) with median speed below ``max_median_speed_kn`` (2 kn), both at
least ``port_distance_m`` (10 km) from any port.

Tracks are resampled to a regular grid (``grid_s``, 10 min, aligned to multiples of it):
a vessel's position at grid time g is interpolated between its fixes either side of g
when they are at most ``max_interp_s`` (30 min) apart; across a longer silence there is
no sample. Speed at a sample is SOG interpolated the same way, or the implied speed
between the two fixes when SOG is not available. Grid time g is decided once the data's
clock passes g + ``max_interp_s`` (no later fix can add a sample to it): samples slower
than ``candidate_speed_kn`` and away from port go into a spatial grid of cells about
``max_distance_m`` wide, and only the 3 × 3 cells around each sample are compared.

A pair's run is the consecutive grid times it was within range; it opens as an event
once it spans more than ``min_duration_s`` with the median of both vessels' speeds below
the threshold, and closes at its last grid time when the pair is apart (or unseen) at the
next. Two segments of one MMSI never make a pair. Id: both MMSIs and the start.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from math import cos, floor, radians

import msgspec

from kizuna.core.labels import Label
from kizuna.mda.detect.base import Emission, Evidence, Fix, event_id
from kizuna.mda.detect.clean import combine_labels
from kizuna.mda.detect.geo import M_PER_DEG, flat_m, haversine_m, speed_kn
from kizuna.mda.detect.ports import PortIndex

Key = tuple[int, int]  # (MMSI, segment)
# (key, lat, lon, speed kn, label, source) of one vessel at one grid time
Sample = tuple[Key, float, float, float, Label, str]


class EncounterConfig(msgspec.Struct, frozen=True, kw_only=True):
    max_distance_m: float = 500.0
    min_duration_s: float = 2 * 3600.0
    max_median_speed_kn: float = 2.0
    port_distance_m: float = 10_000.0
    grid_s: float = 600.0
    max_interp_s: float = 1800.0
    candidate_speed_kn: float = 4.0  # samples faster than this cannot be in an encounter
    max_speeds: int = 2000  # speeds kept per run for the median (3 days of both vessels)


class _Run:
    __slots__ = (
        "a0",
        "a1",
        "b0",
        "b1",
        "first",
        "label",
        "last",
        "min_d",
        "n",
        "open",
        "sl",
        "so",
        "speeds",
    )

    def __init__(self, g: float, a: Sample, b: Sample, d: float) -> None:
        self.first = self.last = g
        self.a0 = self.a1 = a
        self.b0 = self.b1 = b
        self.speeds = [a[3], b[3]]
        self.label = combine_labels(a[4], b[4])
        self.sl = (a[1] + b[1]) / 2
        self.so = (a[2] + b[2]) / 2
        self.n = 1
        self.min_d = d
        self.open = False

    def extend(self, g: float, a: Sample, b: Sample, d: float, cap: int) -> None:
        self.last = g
        self.a1, self.b1 = a, b
        if len(self.speeds) < cap:
            self.speeds += (a[3], b[3])
        self.label = combine_labels(self.label, combine_labels(a[4], b[4]))
        self.sl += (a[1] + b[1]) / 2
        self.so += (a[2] + b[2]) / 2
        self.n += 1
        self.min_d = min(self.min_d, d)


def _sev(s: Sample, g: float) -> Evidence:
    return Evidence(mmsi=str(s[0][0]), t=g, lat=s[1], lon=s[2], sog=round(s[3], 2), source=s[5])


class EncounterDetector:
    """Implements the Detector protocol (fixes in time order per segment)."""

    def __init__(
        self, config: EncounterConfig | None = None, ports: PortIndex | None = None
    ) -> None:
        self.cfg = config or EncounterConfig()
        self.ports = ports or PortIndex()
        self._last: dict[Key, Fix] = {}
        self._buckets: dict[float, list[Sample]] = {}
        self._runs: dict[tuple[Key, Key], _Run] = {}
        self._cell = self.cfg.max_distance_m / M_PER_DEG  # degrees of latitude
        self._done = float("-inf")  # grid times up to this are decided

    def __len__(self) -> int:
        return len(self._last)

    def feed(self, fix: Fix) -> Sequence[Emission]:
        key = (fix.mmsi, fix.segment)
        prev = self._last.get(key)
        self._last[key] = fix
        if prev is None:
            return ()
        step = self.cfg.grid_s
        g = floor(fix.t / step) * step  # the latest grid time at or before this fix
        if g <= prev.t or fix.t - prev.t > self.cfg.max_interp_s or g <= self._done:
            return ()  # no grid time between the two, a silence, or already decided
        cfg = self.cfg
        t0, t1 = prev.t, fix.t
        span = t1 - t0
        implied = None
        done = self._done
        while g > t0 and g > done:
            f = (g - t0) / span
            lat = prev.lat + (fix.lat - prev.lat) * f  # type: ignore[operator]
            lon = prev.lon + (fix.lon - prev.lon) * f  # type: ignore[operator]
            if prev.sog is not None and fix.sog is not None:
                sog = prev.sog + (fix.sog - prev.sog) * f
            elif fix.sog is not None or prev.sog is not None:
                sog = fix.sog if fix.sog is not None else prev.sog
            else:
                if implied is None:
                    implied = speed_kn(flat_m(prev.lat, prev.lon, fix.lat, fix.lon), span)  # type: ignore[arg-type]
                sog = implied
            if sog < cfg.candidate_speed_kn and not self.ports.near(lat, lon, cfg.port_distance_m):  # type: ignore[operator]
                label = (
                    prev.label if prev.label is fix.label else combine_labels(prev.label, fix.label)
                )
                self._buckets.setdefault(g, []).append((key, lat, lon, sog, label, fix.source))  # type: ignore[arg-type]
            g -= step
        return ()

    def tick(self, now: float) -> Sequence[Emission]:
        cfg = self.cfg
        upto = floor((now - cfg.max_interp_s) / cfg.grid_s) * cfg.grid_s
        if upto <= self._done:
            return ()
        out: list[Emission] = []
        for g in sorted(b for b in self._buckets if b <= upto):
            self._decide(g, self._buckets.pop(g), out)
        # grid times with no bucket at all still end runs
        if self._runs:
            self._end_runs(upto, out)
        self._done = upto
        return out

    def _decide(self, g: float, samples: list[Sample], out: list[Emission]) -> None:
        cfg = self.cfg
        cell = self._cell
        grid: dict[tuple[int, int], list[Sample]] = {}
        for s in samples:
            ci = floor(s[1] / cell)
            cj = floor(s[2] * cos(radians(s[1])) / cell)
            grid.setdefault((ci, cj), []).append(s)
        near: dict[tuple[Key, Key], tuple[Sample, Sample, float]] = {}
        maxd = cfg.max_distance_m
        for (ci, cj), members in grid.items():
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    other = grid.get((ci + di, cj + dj))
                    if other is None:
                        continue
                    for a in members:
                        for b in other:
                            if a[0] >= b[0] or a[0][0] == b[0][0]:
                                continue
                            d = haversine_m(a[1], a[2], b[1], b[2])
                            if d <= maxd:
                                near[(a[0], b[0])] = (a, b, d)
        runs = self._runs
        for pair, (a, b, d) in sorted(near.items()):
            run = runs.get(pair)
            if run is not None and run.last < g - cfg.grid_s:
                if run.open:
                    out.append(self._emit(run, "closed"))
                run = None
            if run is None:
                runs[pair] = _Run(g, a, b, d)
                continue
            run.extend(g, a, b, d, cfg.max_speeds)
            if (
                not run.open
                and run.last - run.first > cfg.min_duration_s
                and statistics.median(run.speeds) < cfg.max_median_speed_kn
            ):
                run.open = True
                out.append(self._emit(run, "open"))
        self._end_runs(g, out)

    def _end_runs(self, g: float, out: list[Emission]) -> None:
        """Runs not extended at grid time ``g`` are over."""
        for pair in [p for p, r in self._runs.items() if r.last < g]:
            run = self._runs.pop(pair)
            if run.open:
                out.append(self._emit(run, "closed"))

    def _emit(self, run: _Run, status: str) -> Emission:
        vessels = (str(run.a0[0][0]), str(run.b0[0][0]))
        return Emission(
            id=event_id("encounter", vessels, run.first),
            type="encounter",
            status=status,  # type: ignore[arg-type]
            start=run.first,
            end=None if status == "open" else run.last,
            vessels=tuple(sorted(vessels)),
            lat=run.sl / run.n,
            lon=run.so / run.n,
            evidence=[
                _sev(run.a0, run.first),
                _sev(run.b0, run.first),
                _sev(run.a1, run.last),
                _sev(run.b1, run.last),
            ],
            label=run.label,
            detail={
                "duration_s": run.last - run.first,
                "median_speed_kn": round(statistics.median(run.speeds), 3),
                "min_distance_m": round(run.min_d, 1),
                "segments": [run.a0[0][1], run.b0[0][1]],
            },
        )

    def forget(self, before: float) -> int:
        """Drop vessels whose last fix is older than ``before``; how many."""
        gone = [k for k, f in self._last.items() if f.t < before]
        for k in gone:
            del self._last[k]
        return len(gone)
