"""AIS gaps: an MMSI with no position for at least ``threshold_s`` (default 6 h).

- Opened live by :meth:`GapDetector.tick` once the data's clock passes the last fix plus
  the threshold (start = the last fix's time). A lazy deadline heap holds one entry per
  vessel, so a tick costs nothing when nothing is due.
- Closed by the first position after it (end = that fix's time), with the distance and
  implied speed across the gap and ``sources_before``: the distinct sources (receivers,
  partner nodes) that had the vessel in the ``sources_window_s`` before the gap.
- Retracted when late positions (older than the vessel's newest) show the silence was
  shorter than the threshold; a late position inside a closed gap shortens it (the part
  before stays a gap if long enough, the part after becomes a gap of its own if it is).
- Only vessels with at least ``min_fixes`` positions since they were first seen (or since
  their last gap) open gaps: one stray position is not a vessel that went silent.

Gaps are per MMSI, across identity segments: a vessel is silent when no segment reports.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import msgspec

from kizuna.mda.detect.base import Emission, Evidence, Fix, event_id
from kizuna.mda.detect.clean import combine_labels
from kizuna.mda.detect.geo import haversine_m, speed_kn


class GapConfig(msgspec.Struct, frozen=True, kw_only=True):
    threshold_s: float = 6 * 3600.0  # Global Fishing Watch: 12 h for likely disabling
    min_fixes: int = 5
    sources_window_s: float = 3600.0
    max_sources: int = 8  # remembered per vessel
    keep_closed_s: float = 48 * 3600.0  # a closed gap may be shortened by late data this long


def _ev(f: Fix) -> Evidence:
    return Evidence(mmsi=str(f.mmsi), t=f.t, lat=f.lat, lon=f.lon, sog=f.sog, source=f.source)  # type: ignore[arg-type]


class _Vessel:
    __slots__ = ("closed", "last", "n", "open", "queued", "src")

    def __init__(self, fix: Fix) -> None:
        self.last = fix  # newest positioned fix
        self.n = 1  # positions since first seen or since the last gap
        self.src: str | dict[str, float] = fix.source  # one source, or source -> last seen
        self.open: tuple[Fix, int] | None = None  # (last fix before, sources before)
        self.closed: tuple[Fix, Fix, int] | None = None  # the latest closed gap
        self.queued = False


class GapDetector:
    """Implements the Detector protocol; fed every positioned fix, in or out of order."""

    def __init__(self, config: GapConfig | None = None) -> None:
        self.cfg = config or GapConfig()
        self._v: dict[int, _Vessel] = {}
        self._heap: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self._v)

    def feed(self, fix: Fix) -> Sequence[Emission]:
        v = self._v.get(fix.mmsi)
        t = fix.t
        if v is None:
            v = self._v[fix.mmsi] = _Vessel(fix)
            self._queue(v, fix)
            return ()
        src = v.src
        if src.__class__ is not str or src != fix.source:  # usually one source: nothing to do
            self._source(v, fix)
        if t >= v.last.t:
            out: Sequence[Emission] = ()
            if v.open is not None:
                out = self._end_open(v, fix)
            v.last = fix
            v.n += 1
            if not v.queued:
                self._queue(v, fix)
            return out
        return self._late(v, fix)

    def _queue(self, v: _Vessel, fix: Fix) -> None:
        v.queued = True
        heapq.heappush(self._heap, (fix.t + self.cfg.threshold_s, fix.mmsi))

    def _source(self, v: _Vessel, fix: Fix) -> None:
        src = v.src
        if src.__class__ is str:
            if src == fix.source:
                return
            v.src = src = {src: v.last.t}  # type: ignore[dict-item]
        assert isinstance(src, dict)
        if fix.t >= src.get(fix.source, -1e300):
            src[fix.source] = fix.t
        if len(src) > self.cfg.max_sources:
            del src[min(src, key=src.__getitem__)]

    def _sources_before(self, v: _Vessel, t: float) -> int:
        src = v.src
        if isinstance(src, str):
            return 1
        since = t - self.cfg.sources_window_s
        return sum(1 for seen in src.values() if since <= seen <= t) or 1

    def _end_open(self, v: _Vessel, fix: Fix) -> list[Emission]:
        before, nsrc = v.open  # type: ignore[misc]
        v.open = None
        if fix.t - before.t >= self.cfg.threshold_s:
            v.closed = (before, fix, nsrc)
            v.n = 1
            return [self._closed(before, fix, nsrc)]
        return [self._retracted(before, fix, nsrc)]  # a late fix filled it

    def _late(self, v: _Vessel, fix: Fix) -> list[Emission]:
        """A position older than the vessel's newest: may shorten or retract a gap."""
        out: list[Emission] = []
        thr = self.cfg.threshold_s
        t = fix.t
        if v.open is not None and t > v.open[0].t:  # cannot happen in order; kept for safety
            before, nsrc = v.open
            v.open = None
            out.append(self._retracted(before, fix, nsrc))
        elif v.closed is not None and v.closed[0].t < t < v.closed[1].t:
            before, after, nsrc = v.closed
            v.closed = None
            if t - before.t >= thr:
                v.closed = (before, fix, nsrc)
                out.append(self._closed(before, fix, nsrc))
            else:
                out.append(self._retracted(before, fix, nsrc))
            if after.t - t >= thr:
                nsrc2 = self._sources_before(v, t)
                v.closed = (fix, after, nsrc2)
                out.append(self._closed(fix, after, nsrc2))
        return out

    def tick(self, now: float) -> Sequence[Emission]:
        heap = self._heap
        if not heap or heap[0][0] > now:
            return ()
        out: list[Emission] = []
        thr, keep = self.cfg.threshold_s, self.cfg.keep_closed_s
        vessels = self._v
        while heap and heap[0][0] <= now:
            _, mmsi = heapq.heappop(heap)
            v = vessels.get(mmsi)
            if v is None:
                continue
            due = v.last.t + thr
            if due > now:
                heapq.heappush(heap, (due, mmsi))
                continue
            v.queued = False
            if v.closed is not None and now - v.closed[1].t > keep:
                v.closed = None
            if v.open is None and v.n >= self.cfg.min_fixes:
                nsrc = self._sources_before(v, v.last.t)
                v.open = (v.last, nsrc)
                out.append(self._opened(v.last, nsrc))
        return out

    # -- emissions -------------------------------------------------------------------

    def _opened(self, before: Fix, nsrc: int) -> Emission:
        return Emission(
            id=event_id("gap", (str(before.mmsi),), before.t),
            type="gap",
            status="open",
            start=before.t,
            end=None,
            vessels=(str(before.mmsi),),
            lat=before.lat,  # type: ignore[arg-type]
            lon=before.lon,  # type: ignore[arg-type]
            evidence=[_ev(before)],
            label=before.label,
            detail={"sources_before": nsrc, "threshold_s": self.cfg.threshold_s},
        )

    def _closed(self, before: Fix, after: Fix, nsrc: int) -> Emission:
        e = self._opened(before, nsrc)
        dist = haversine_m(before.lat, before.lon, after.lat, after.lon)  # type: ignore[arg-type]
        dt = after.t - before.t
        e.status, e.end = "closed", after.t
        e.lat = (before.lat + after.lat) / 2  # type: ignore[operator]
        e.lon = (before.lon + after.lon) / 2  # type: ignore[operator]
        e.evidence.append(_ev(after))
        e.label = combine_labels(before.label, after.label)
        e.detail.update(
            duration_s=dt, distance_m=round(dist, 1), implied_speed_kn=round(speed_kn(dist, dt), 2)
        )
        return e

    def _retracted(self, before: Fix, filler: Fix, nsrc: int) -> Emission:
        e = self._opened(before, nsrc)
        e.status = "retracted"
        e.evidence.append(_ev(filler))
        e.detail["filled_by"] = {"t": filler.t, "source": filler.source}
        return e
