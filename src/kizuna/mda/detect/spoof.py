"""Spoofing: identity conflicts, impossible movements, invalid identities, GNSS interference.

Per MMSI the detector keeps up to ``max_tracks`` short *tracks* (last fix of each place
the MMSI has been seen at). A fix continues the most recent track it could physically
follow (``max_speed_kn`` plus ``position_slack_m`` for noise and clock jitter); otherwise it
starts a new track. From that:

- ``impossible_movement``: a new track whose old one then stays silent
  (``jump_confirm_s``, and the new track has ``jump_confirm_fixes`` fixes): one event per
  jump. A lone outlier that returns to the old track is a glitch, not a jump.
- ``identity_conflict``: an MMSI that keeps switching between two self-consistent tracks
  (``conflict_min_switches`` within ``conflict_window_s``: a cloned MMSI), or that
  alternates between names (A → B → A within ``name_window_s``; a single rename is fine).
- ``invalid_identity``: an MMSI outside the ITU-R M.585 formats or a known placeholder,
  once per MMSI per UTC day, open while it transmits, closed after ``invalid_quiet_s``.
- ``gnss_interference``: ≥ ``area_min_vessels`` vessels whose latest positions lie on one
  circle (algebraic circle fit, trimmed; each radius within ``area_radius_tol`` × radius;
  ≥ ``area_min_arc_deg`` of arc), found again ``area_persist_s`` later: one area-level
  event, position = the centre, open while its vessels stay on the circle. Searched among
  all vessels of a changed ``area_cell_deg`` cell (≥ ``area_min_fraction`` of them on the
  circle: a whole area displaced) and among the *displaced* vessels of each 3 × 3 block
  of cells (jumped, switched, new after warm-up, or moving ``displaced_m`` more than
  twice their reported speed allows). Jumps and switches of its vessels are its
  evidence, not events of their own.

Events other than ``invalid_identity`` are decided in :meth:`SpoofDetector.tick`, at most
every ``check_s`` of data time (aligned to multiples of it, so replays decide alike); the
pipeline must tick at least that often. Per fix the cost is a dict lookup and one
flat-earth distance.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from math import cos, radians, sqrt
from typing import Any

import msgspec

from kizuna.core.labels import Label
from kizuna.mda.detect.base import KNOT, Emission, Evidence, Fix, event_id
from kizuna.mda.detect.clean import combine_labels as _restrict
from kizuna.mda.detect.clean import mmsi_flag
from kizuna.mda.detect.geo import M_PER_DEG, flat_m, haversine_m

DAY = 86_400.0


class SpoofConfig(msgspec.Struct, frozen=True, kw_only=True):
    max_speed_kn: float = 100.0  # above this no ship moves: two places at once
    position_slack_m: float = 500.0  # GNSS noise and receiver clock jitter
    displaced_m: float = 300.0  # moved this much more than twice its reported speed allows
    max_tracks: int = 3  # places remembered per MMSI
    jump_confirm_s: float = 300.0  # old track silent this long after a jump
    jump_confirm_fixes: int = 3  # fixes on the new track before a jump counts
    conflict_window_s: float = 900.0
    conflict_min_switches: int = 3  # switches between self-consistent tracks
    conflict_quiet_s: float = 1800.0  # close a conflict after this long without evidence
    name_window_s: float = 3600.0
    name_min_changes: int = 2  # A → B → A
    invalid_quiet_s: float = 3600.0  # close an invalid identity after this silence
    extra_placeholders: frozenset[int] = frozenset()  # beyond clean.PLACEHOLDERS
    area_cell_deg: float = 0.1
    area_min_vessels: int = 5
    area_window_s: float = 900.0  # positions older than this do not count
    area_radius_tol: float = 0.02  # radius spread (each side) relative to the radius
    area_persist_s: float = 300.0  # the same circle found again this much later
    area_min_radius_m: float = 200.0
    area_max_radius_m: float = 10_000.0
    area_min_arc_deg: float = 180.0
    area_min_fraction: float = 0.8  # of an area's vessels on the circle (all-vessel fit)
    area_quiet_s: float = 900.0  # close an interference event after this long unseen
    check_s: float = 60.0  # decide time-based events at most this often (data time)
    max_evidence: int = 20


# ---------------------------------------------------------------------------- helpers


def mmsi_problem(mmsi: int, extra: frozenset[int] = frozenset()) -> str | None:
    """ "invalid" (no ITU-R M.585 format), "placeholder", or None for a usable identity."""
    if mmsi in extra:
        return "placeholder"
    return mmsi_flag(mmsi) or None


def _ev(fix: Fix) -> Evidence:
    assert fix.lat is not None and fix.lon is not None
    return Evidence(
        mmsi=str(fix.mmsi), t=fix.t, lat=fix.lat, lon=fix.lon, sog=fix.sog, source=fix.source
    )


def _mean(evidence: Sequence[Evidence]) -> tuple[float, float]:
    n = len(evidence)
    return sum(e.lat for e in evidence) / n, sum(e.lon for e in evidence) / n


def _name_key(name: str) -> str:
    return "".join(name.split()).upper()


class _Track:
    """One place an MMSI has been seen at: its latest fix and how many fixes it has."""

    __slots__ = ("first", "last", "n")

    def __init__(self, fix: Fix) -> None:
        self.first = fix
        self.last = fix
        self.n = 1


class _Event:
    """An event this detector has opened (mutable while open)."""

    __slots__ = ("detail", "end", "evidence", "id", "kind", "label", "last_t", "start", "vessels")

    def __init__(
        self, kind: str, vessels: Iterable[str], start: float, label: Label, max_ev: int
    ) -> None:
        self.kind = kind
        self.vessels = tuple(sorted(vessels))
        self.start = start
        self.id = event_id("spoofing", self.vessels, start, extra=kind)
        self.end: float | None = None
        self.last_t = start
        self.evidence: deque[Evidence] = deque(maxlen=max_ev)
        self.label = label
        self.detail: dict[str, Any] = {"kind": kind}

    def emission(self, lat: float | None = None, lon: float | None = None) -> Emission:
        ev = list(self.evidence)
        if lat is None or lon is None:
            lat, lon = _mean(ev)
        return Emission(
            id=self.id,
            type="spoofing",
            status="open" if self.end is None else "closed",
            start=self.start,
            end=self.end,
            vessels=self.vessels,
            lat=lat,
            lon=lon,
            evidence=ev,
            label=self.label,
            detail=dict(self.detail),
        )


class _Vessel:
    __slots__ = (
        "cell",
        "cleared",
        "conflict",
        "conflict_t",
        "first_t",
        "invalid",
        "last",
        "mmsi",
        "moved_t",
        "name",
        "name_changes",
        "names",
        "pair",
        "pending",
        "problem",
        "raw",
        "raw_key",
        "switches",
        "tracks",
    )

    def __init__(self, mmsi: int, problem: str | None, t: float) -> None:
        self.mmsi = mmsi
        self.problem = problem
        self.tracks: list[_Track] = []  # most recently used last
        self.switches: deque[float] | None = None
        self.pair: tuple[Fix, Fix] | None = None  # the latest switch: from, to
        self.pending: tuple[Fix, _Track] | None = None  # jump: last fix before, new track
        self.conflict: _Event | None = None
        self.conflict_t = 0.0  # last evidence of the conflict (switch or name change)
        self.cleared = -math.inf  # end of the last closed conflict
        self.invalid: _Event | None = None
        self.name = ""
        self.raw = ""  # the last reported name, as reported, and its _name_key
        self.raw_key = ""
        self.names: dict[str, float] | None = None
        self.name_changes: deque[float] | None = None
        self.cell = -1
        self.first_t = t
        self.moved_t = t  # when the current track began (a jump or first sighting)
        self.last: Fix | None = None  # latest positioned fix


class _Ring:
    """A circle of positions: a candidate until seen again, then an open event."""

    __slots__ = ("event", "first", "lat", "lon", "radius", "seen", "start", "vessels")

    def __init__(
        self, lat: float, lon: float, radius: float, vessels: set[str], start: float, now: float
    ) -> None:
        self.lat = lat
        self.lon = lon
        self.radius = radius
        self.vessels = vessels
        self.start = start
        self.first = now
        self.seen = now
        self.event: _Event | None = None


# ---------------------------------------------------------------------------- circle fit


def _kasa(pts: Sequence[tuple[float, float]]) -> tuple[float, float, float] | None:
    """Least-squares circle (Kåsa): centre x, y and radius, or None when degenerate.

    Solved on coordinates centred on the points' mean: the 3 × 3 normal equations of
    x² + y² + Dx + Ey + F = 0 reduce to a 2 × 2 system there (the same circle, fewer
    operations, better conditioned); degenerate (collinear) points as before, when the
    3 × 3 determinant, n × that of the 2 × 2, is below 1e-9 of its scale.
    """
    n = len(pts)
    mx = my = 0.0
    for x, y in pts:
        mx += x
        my += y
    mx /= n
    my /= n
    suu = svv = suv = suuu = svvv = suvv = svuu = 0.0
    for x, y in pts:
        u = x - mx
        v = y - my
        uu = u * u
        vv = v * v
        suu += uu
        svv += vv
        suv += u * v
        suuu += uu * u
        svvv += vv * v
        suvv += u * vv
        svuu += v * uu
    det = suu * svv - suv * suv
    if abs(n * det) < 1e-9 * max(1.0, abs(suu * svv * n)):
        return None
    bu = 0.5 * (suuu + suvv)
    bv = 0.5 * (svvv + svuu)
    uc = (bu * svv - bv * suv) / det
    vc = (suu * bv - suv * bu) / det
    r2 = uc * uc + vc * vc + (suu + svv) / n
    if r2 <= 0:
        return None
    return uc + mx, vc + my, math.sqrt(r2)


def fit_ring(
    pts: Sequence[tuple[float, float]], cfg: SpoofConfig, min_fraction: float
) -> tuple[float, float, float, list[int]] | None:
    """A circle most of ``pts`` (metres, local plane) lie on: centre, radius, inlier indexes."""
    n = len(pts)
    if n < cfg.area_min_vessels:
        return None
    idx = list(range(n))
    hypot = math.hypot
    for _ in range(4):
        fit = _kasa([pts[i] for i in idx])
        if fit is None:
            return None
        cx, cy, r = fit
        if not cfg.area_min_radius_m <= r <= cfg.area_max_radius_m:
            return None
        tol = cfg.area_radius_tol * r
        keep = [i for i, (x, y) in enumerate(pts) if abs(hypot(x - cx, y - cy) - r) <= tol]
        if len(keep) < cfg.area_min_vessels or len(keep) < min_fraction * n:
            return None
        if keep == idx:
            break
        idx = keep
    else:
        return None
    angles = sorted(math.atan2(pts[i][1] - cy, pts[i][0] - cx) for i in idx)
    gap = max(
        [angles[0] + 2 * math.pi - angles[-1]]
        + [angles[k + 1] - angles[k] for k in range(len(angles) - 1)]
    )
    if 360.0 - math.degrees(gap) < cfg.area_min_arc_deg:
        return None
    return cx, cy, r, idx


# ---------------------------------------------------------------------------- detector


class SpoofDetector:
    """Spoofing events (see the module docstring). Implements the Detector protocol."""

    def __init__(self, config: SpoofConfig | None = None) -> None:
        self.cfg = config or SpoofConfig()
        c = self.cfg
        self._max_mps = c.max_speed_kn * KNOT
        self._inv_cell = 1.0 / c.area_cell_deg
        self._cols = round(360.0 * self._inv_cell) + 2
        self._vessels: dict[int, _Vessel] = {}
        self._cells: dict[int, set[int]] = {}  # cell -> MMSIs whose latest fix is there
        self._dirty: set[int] = set()
        self._rings: list[_Ring] = []
        self._watch: set[int] = set()  # MMSIs with something to decide in tick
        self._invalid_open: set[int] = set()
        self._fresh: dict[int, float] = {}  # MMSI -> when it jumped, switched or appeared
        # MMSIs under scrutiny (something to decide, recently displaced or new, on a
        # circle): a caller that thins the fixes it feeds should feed all of theirs.
        # Updated in place.
        self.keen: set[int] = set()
        self._started: float | None = None
        self._next_check = -math.inf

    # -- feeding -----------------------------------------------------------------------

    def feed(self, fix: Fix) -> Sequence[Emission]:
        mmsi = fix.mmsi
        v = self._vessels.get(mmsi)
        if v is None:
            if self._started is None:
                self._started = fix.t
            v = self._vessels[mmsi] = _Vessel(
                mmsi, mmsi_problem(mmsi, self.cfg.extra_placeholders), fix.t
            )
            if fix.t - self._started >= self.cfg.area_window_s:
                self._fresh[mmsi] = fix.t  # a newcomer (after warm-up)
                self.keen.add(mmsi)
        if fix.name:
            self._name(v, fix)
        lat, lon = fix.lat, fix.lon
        if lat is None or lon is None:
            return ()
        out: Sequence[Emission] = ()
        if v.problem is not None:
            out = self._invalid(v, fix)
        else:
            tracks = v.tracks
            cur = tracks[-1] if tracks else None
            if cur is None:
                self._move(v, fix)
            else:  # the usual case, inline: it continues the current track
                last = cur.last
                plat, plon = last.lat, last.lon  # a track holds positioned fixes only
                assert plat is not None and plon is not None
                dt = fix.t - last.t
                if dt < 0:
                    dt = -dt
                x = (lon - plon) * cos(radians((plat + lat) / 2))  # flat_m
                y = lat - plat
                d = M_PER_DEG * sqrt(x * x + y * y)
                if d <= self._max_mps * dt + self.cfg.position_slack_m:
                    cur.last = fix
                    cur.n += 1
                    sog = fix.sog
                    if sog is not None and d > self.cfg.displaced_m + 2.0 * KNOT * dt * max(
                        sog, last.sog or 0.0
                    ):
                        # Possible for a ship, but not at the speed it reports: displaced.
                        if fix.t - v.moved_t > self.cfg.area_window_s:
                            v.moved_t = fix.t
                        self._fresh[mmsi] = fix.t
                        self.keen.add(mmsi)
                else:
                    self._move(v, fix)
        v.last = fix
        inv = self._inv_cell
        cell = int((lat + 90.0) * inv) * self._cols + int((lon + 180.0) * inv)
        if cell != v.cell:
            if v.cell >= 0:
                old = self._cells.get(v.cell)
                if old is not None:
                    old.discard(mmsi)
                    if not old:
                        del self._cells[v.cell]
            self._cells.setdefault(cell, set()).add(mmsi)
            v.cell = cell
        self._dirty.add(cell)
        return out

    def _name(self, v: _Vessel, fix: Fix) -> None:
        raw = fix.name
        if raw == v.raw:
            key = v.raw_key  # the same report as last time: no need to normalise it again
        else:
            key = v.raw_key = _name_key(raw)
            v.raw = raw
        if not key or key == v.name:
            if key and v.names is not None:
                v.names[key] = fix.t
            return
        if v.names is None:
            v.names = {}
        if v.name:
            if v.name_changes is None:
                v.name_changes = deque(maxlen=8)
            v.name_changes.append(fix.t)
            self._watch.add(v.mmsi)
            self.keen.add(v.mmsi)
        v.name = key
        v.names[key] = fix.t
        if len(v.names) > 6:  # keep the most recent few
            for old in sorted(v.names, key=v.names.__getitem__)[:-6]:
                del v.names[old]

    def _consistent(self, track: _Track, fix: Fix) -> bool:
        last = track.last
        assert last.lat is not None and last.lon is not None
        assert fix.lat is not None and fix.lon is not None
        d = flat_m(last.lat, last.lon, fix.lat, fix.lon)
        return d <= self._max_mps * abs(fix.t - last.t) + self.cfg.position_slack_m

    def _move(self, v: _Vessel, fix: Fix) -> None:
        tracks = v.tracks
        if tracks:
            cur = tracks[-1]
            last = cur.last
            dt = abs(fix.t - last.t)
            d = flat_m(last.lat, last.lon, fix.lat, fix.lon)  # type: ignore[arg-type]
            if d <= self._max_mps * dt + self.cfg.position_slack_m:
                cur.last = fix
                cur.n += 1
                sog = fix.sog
                if sog is not None and d > self.cfg.displaced_m + 2.0 * KNOT * dt * max(
                    sog, last.sog or 0.0
                ):
                    # Possible for a ship, but not at the speed it reports: displaced.
                    if fix.t - v.moved_t > self.cfg.area_window_s:
                        v.moved_t = fix.t
                    self._fresh[v.mmsi] = fix.t
                    self.keen.add(v.mmsi)
                return
        prev = tracks[-1] if tracks else None
        for i in range(len(tracks) - 2, -1, -1):
            if self._consistent(tracks[i], fix):
                back = tracks.pop(i)
                back.last = fix
                back.n += 1
                tracks.append(back)
                if v.pending is not None and v.pending[1] is not back:
                    v.pending = None  # the old place answered again: no jump
                if prev is not None and prev.n >= 2 and back.n >= 2:
                    if v.switches is None:
                        v.switches = deque(maxlen=8)
                    v.switches.append(fix.t)
                    v.pair = (prev.last, fix)
                    self._watch.add(v.mmsi)
                    self.keen.add(v.mmsi)
                self._moved(v, fix.t)
                return
        new = _Track(fix)
        tracks.append(new)
        if len(tracks) > self.cfg.max_tracks:
            del tracks[0]
        if prev is not None:
            v.pending = (prev.last, new)
            self._watch.add(v.mmsi)
            self.keen.add(v.mmsi)
            self._moved(v, fix.t)

    def _moved(self, v: _Vessel, t: float) -> None:
        v.moved_t = t
        self._fresh[v.mmsi] = t
        self.keen.add(v.mmsi)

    def _invalid(self, v: _Vessel, fix: Fix) -> list[Emission]:
        ev = v.invalid
        day = int(fix.t // DAY)
        if ev is None or (ev.end is not None and int(ev.start // DAY) != day):
            ev = v.invalid = _Event(
                "invalid_identity", [str(v.mmsi)], fix.t, fix.label, self.cfg.max_evidence
            )
            ev.detail["reason"] = v.problem
            ev.evidence.append(_ev(fix))
            ev.last_t = fix.t
            self._invalid_open.add(v.mmsi)
            return [ev.emission()]
        ev.last_t = fix.t
        ev.label = _restrict(ev.label, fix.label)
        if ev.end is not None:  # transmitting again the same day: the same event reopens
            ev.end = None
            ev.evidence.append(_ev(fix))
            self._invalid_open.add(v.mmsi)
            return [ev.emission()]
        if len(ev.evidence) < 2 or fix.t - ev.evidence[-1].t >= 600.0:
            ev.evidence.append(_ev(fix))  # a sparse trail, not every fix
        return []

    # -- the clock ---------------------------------------------------------------------

    def tick(self, now: float) -> Sequence[Emission]:
        if now < self._next_check:
            return []
        step = self.cfg.check_s
        self._next_check = (math.floor(now / step) + 1) * step
        out: list[Emission] = []
        self._close_invalid(now, out)
        self._check_areas(now, out)
        self._decide_vessels(now, out)
        keen = self.keen
        keen.clear()
        keen.update(self._watch, self._fresh)
        for ring in self._rings:
            keen.update(int(m) for m in (ring.event.vessels if ring.event else ring.vessels))
        return out

    def _close_invalid(self, now: float, out: list[Emission]) -> None:
        quiet = self.cfg.invalid_quiet_s
        for mmsi in sorted(self._invalid_open):
            ev = self._vessels[mmsi].invalid
            if ev is not None and now - ev.last_t >= quiet:
                ev.end = ev.last_t
                self._invalid_open.discard(mmsi)
                out.append(ev.emission())

    def _decide_vessels(self, now: float, out: list[Emission]) -> None:
        c = self.cfg
        in_area = {m for r in self._rings if r.event is not None for m in r.event.vessels}
        maybe = {m for r in self._rings if r.event is None for m in r.vessels}
        for mmsi in sorted(self._watch):
            v = self._vessels[mmsi]
            keep = False
            if v.pending is not None:
                before, new = v.pending
                if str(mmsi) in in_area:
                    v.pending = None  # displaced by interference: its evidence
                elif str(mmsi) in maybe:
                    keep = True  # wait: a circle is forming here
                elif new.n >= c.jump_confirm_fixes and now - before.t >= c.jump_confirm_s:
                    if v.tracks and v.tracks[-1] is new:
                        out.append(self._jump(v, before, new.first))
                    v.pending = None
                else:
                    keep = True
            cleared = v.cleared  # evidence of a closed conflict does not open another
            recent_sw = [
                t for t in v.switches or () if now - t <= c.conflict_window_s and t > cleared
            ]
            recent_nm = [
                t for t in v.name_changes or () if now - t <= c.name_window_s and t > cleared
            ]
            pos = len(recent_sw) >= c.conflict_min_switches and str(mmsi) not in in_area
            names = len(recent_nm) >= c.name_min_changes
            if pos or names:
                out.extend(self._conflict(v, pos, names, recent_sw, recent_nm))
                keep = True
            if v.conflict is not None and v.conflict.end is None:
                if now - v.conflict_t >= c.conflict_quiet_s:
                    v.conflict.end = v.cleared = v.conflict_t
                    out.append(v.conflict.emission())
                    v.conflict = None
                else:
                    keep = True
            if recent_sw or recent_nm:
                keep = True
            if not keep:
                self._watch.discard(mmsi)

    def _jump(self, v: _Vessel, before: Fix, after: Fix) -> Emission:
        assert before.lat is not None and before.lon is not None
        assert after.lat is not None and after.lon is not None
        ev = _Event(
            "impossible_movement",
            [str(v.mmsi)],
            before.t,
            _restrict(before.label, after.label),
            self.cfg.max_evidence,
        )
        dist = haversine_m(before.lat, before.lon, after.lat, after.lon)
        dt = max(after.t - before.t, 1.0)
        ev.end = after.t
        ev.evidence.extend([_ev(before), _ev(after)])
        ev.detail.update(
            distance_m=round(dist, 1), implied_speed_kn=round(dist / dt / KNOT, 1), dt_s=dt
        )
        return ev.emission()

    def _conflict(
        self,
        v: _Vessel,
        pos: bool,
        names: bool,
        switches: list[float],
        changes: list[float],
    ) -> list[Emission]:
        last_t = max(switches[-1:] + changes[-1:])
        if v.conflict is not None and last_t <= v.conflict_t:
            return []  # nothing new since the last emission
        v.conflict_t = last_t
        ev = v.conflict
        is_new = ev is None
        if ev is None:
            if pos:
                one, two = v.tracks[-1], v.tracks[-2]
                start = max(one.first.t, two.first.t)  # when the second place appeared
            else:
                start = changes[0]
            label = v.last.label if v.last is not None else v.tracks[-1].last.label
            ev = v.conflict = _Event(
                "identity_conflict", [str(v.mmsi)], start, label, self.cfg.max_evidence
            )
            ev.detail["reasons"] = []
        reasons: list[str] = ev.detail["reasons"]
        changed = is_new
        if pos and "positions" not in reasons:
            reasons.append("positions")
            changed = True
        if names and "names" not in reasons:
            reasons.append("names")
            changed = True
        if pos and v.pair is not None:
            b, a = v.pair
            assert a.lat is not None and a.lon is not None
            assert b.lat is not None and b.lon is not None
            sep = haversine_m(a.lat, a.lon, b.lat, b.lon)
            ev.detail["separation_m"] = round(sep, 1)
            ev.detail["implied_speed_kn"] = round(sep / max(abs(a.t - b.t), 1.0) / KNOT, 1)
            for f in (b, a):
                if not ev.evidence or ev.evidence[-1].t != f.t:
                    ev.evidence.append(_ev(f))
                ev.label = _restrict(ev.label, f.label)
        if names:
            ev.detail["names"] = sorted(v.names or ())
        if not ev.evidence and v.last is not None:
            ev.evidence.append(_ev(v.last))
        if not ev.evidence:
            return []  # names only, never a position yet: wait for one
        ev.last_t = last_t
        return [ev.emission()] if changed or is_new else []

    # -- GNSS interference -------------------------------------------------------------

    def _check_areas(self, now: float, out: list[Emission]) -> None:
        c = self.cfg
        window = c.area_window_s
        # Every vessel of a changed cell (an area where all vessels are displaced) ...
        dirty, self._dirty = self._dirty, set()
        for cell in sorted(dirty):
            members = self._cells.get(cell)
            if members is not None and len(members) >= c.area_min_vessels:
                self._try_ring(self._points(members, now), now, c.area_min_fraction, out)
        # ... and the recently displaced or new vessels of each 3 x 3 block of cells.
        fresh = self._fresh
        for m in [m for m, t in fresh.items() if now - t > window]:
            del fresh[m]
        if len(fresh) >= c.area_min_vessels:
            by_cell: dict[int, list[int]] = {}
            for m in fresh:
                by_cell.setdefault(self._vessels[m].cell, []).append(m)
            cols = self._cols
            for cell in sorted(by_cell):
                near = [
                    m
                    for dr in (-cols, 0, cols)
                    for dc in (-1, 0, 1)
                    for m in by_cell.get(cell + dr + dc, ())
                ]
                if len(near) >= c.area_min_vessels:
                    self._try_ring(self._points(near, now), now, 0.6, out)
        self._follow_rings(now)
        self._close_areas(now, out)

    def _follow_rings(self, now: float) -> None:
        """An open event's vessels still on its circle keep it open."""
        c = self.cfg
        for ring in self._rings:
            ev = ring.event
            if ev is None:
                continue
            on = []
            for m in ev.vessels:
                f = self._vessels[int(m)].last if int(m) in self._vessels else None
                if f is None or f.t <= ev.last_t or now - f.t > c.area_window_s:
                    continue
                assert f.lat is not None and f.lon is not None
                r = haversine_m(ring.lat, ring.lon, f.lat, f.lon)
                if abs(r - ring.radius) <= c.area_radius_tol * ring.radius:
                    on.append(f)
            if len(on) >= c.area_min_vessels:
                ev.last_t = max(f.t for f in on)

    def _points(self, mmsis: Iterable[int], now: float) -> list[Fix]:
        window = self.cfg.area_window_s
        pts = []
        for m in sorted(mmsis):
            last = self._vessels[m].last
            if last is not None and now - last.t <= window:
                pts.append(last)
        return pts

    def _try_ring(
        self, fixes: list[Fix], now: float, min_fraction: float, out: list[Emission]
    ) -> None:
        c = self.cfg
        if len(fixes) < c.area_min_vessels:
            return
        lat0 = sum(f.lat for f in fixes) / len(fixes)  # type: ignore[misc]
        lon0 = sum(f.lon for f in fixes) / len(fixes)  # type: ignore[misc]
        kx = M_PER_DEG * math.cos(math.radians(lat0))
        pts = [((f.lon - lon0) * kx, (f.lat - lat0) * M_PER_DEG) for f in fixes]  # type: ignore[operator]
        ring = fit_ring(pts, c, min_fraction)
        if ring is None:
            return
        cx, cy, r, idx = ring
        lat, lon = lat0 + cy / M_PER_DEG, lon0 + cx / kx
        on = [fixes[i] for i in idx]
        mmsis = {str(f.mmsi) for f in on}
        start = min(max(self._vessels[f.mmsi].moved_t, now - c.area_window_s) for f in on)
        for ring_ in self._rings:
            if flat_m(ring_.lat, ring_.lon, lat, lon) <= 0.5 * max(ring_.radius, r):
                break
        else:
            self._rings.append(_Ring(lat, lon, r, mmsis, start, now))
            return
        ev = ring_.event
        if ev is None:
            same = mmsis & ring_.vessels
            if len(same) < c.area_min_vessels:  # another circle here: start over
                self._rings[self._rings.index(ring_)] = _Ring(lat, lon, r, mmsis, start, now)
                return
            ring_.seen = now
            ring_.start = min(ring_.start, start)
            if now - ring_.first < c.area_persist_s:
                return
            ev = ring_.event = _Event(
                "gnss_interference", mmsis, ring_.start, on[0].label, max(c.max_evidence, 64)
            )
            ring_.lat, ring_.lon, ring_.radius = lat, lon, r
            ev.detail.update(radius_m=round(r, 1), centre={"lat": lat, "lon": lon})
            ev.last_t = max(f.t for f in on)
            self._ring_evidence(ev, on)
            out.append(ev.emission(lat, lon))
            return
        ring_.seen = now
        ev.last_t = max(ev.last_t, max(f.t for f in on))
        grown = mmsis - set(ev.vessels)
        if grown:
            ev.vessels = tuple(sorted(set(ev.vessels) | grown))
            self._ring_evidence(ev, on)
            out.append(ev.emission(ring_.lat, ring_.lon))

    def _ring_evidence(self, ev: _Event, on: list[Fix]) -> None:
        seen = {e.mmsi for e in ev.evidence}
        for f in on:
            ev.label = _restrict(ev.label, f.label)
            if str(f.mmsi) not in seen:
                ev.evidence.append(_ev(f))

    def _close_areas(self, now: float, out: list[Emission]) -> None:
        keep = []
        for ring in self._rings:
            ev = ring.event
            if ev is None:
                if now - ring.seen <= self.cfg.area_window_s:
                    keep.append(ring)
            elif now - ev.last_t >= self.cfg.area_quiet_s:
                ev.end = ev.last_t
                out.append(ev.emission(ring.lat, ring.lon))
            else:
                keep.append(ring)
        self._rings = keep

    # -- bounded state -----------------------------------------------------------------

    def forget(self, before: float) -> int:
        """Drop vessels last seen before ``before`` with nothing open; how many."""
        gone = [
            m
            for m, v in self._vessels.items()
            if (v.last is None or v.last.t < before)
            and m not in self._watch
            and m not in self._invalid_open
        ]
        for m in gone:
            v = self._vessels.pop(m)
            cell = self._cells.get(v.cell)
            if cell is not None:
                cell.discard(m)
                if not cell:
                    del self._cells[v.cell]
        return len(gone)
