"""Zones (entry, exit, dwell) and watchlist sightings.

Point in polygon is a bounding-box prefilter and even-odd ray casting over every ring of
the zone (holes and separate parts alike) in pure Python on a local metric plane: shapely
would be a new dependency for a few dozen vertices. Zones are indexed in a grid of
``cell_deg`` cells covering each zone's box plus the buffer, so a fix far from every zone
costs two dict lookups.

Hysteresis: a fix within ``buffer_m`` of a zone's edge says nothing; a vessel changes
side only after ``confirm_fixes`` consecutive fixes clearly on the other side spanning at
least ``confirm_s`` (defaults: 2 fixes, 0 s, 100 m). The crossing time is the first fix
on the new side (the edge band included), not the confirmation. A vessel sailing along an
edge therefore never flaps.

Events (type ``zone``, ``detail.zone`` = zone id): ``entry`` and ``exit`` are instants
(closed at once; the exit carries ``detail.dwell_s``, the time inside); ``dwell`` is opened
once a vessel has been inside ``dwell_update_s``, updated at most that often and closed on
exit (``detail.dwell_s``), or on ``lost_s`` of silence inside (``detail.lost``), so a
short transit is an entry and an exit only. ``watchlist`` (``detail.watchlist`` = entry id, ``detail.matched``):
one per vessel per entry per UTC day, open while seen, closed after ``watch_quiet_s``.
Every label is the restriction of the zone's (or entry's) label and its fixes' labels.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from kizuna.core.labels import Label
from kizuna.mda.detect.base import Emission, Evidence, Fix, event_id
from kizuna.mda.detect.clean import combine_labels as _restrict
from kizuna.mda.detect.geo import M_PER_DEG

DAY = 86_400.0


class Zone(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    label: Label
    rings: tuple[tuple[tuple[float, float], ...], ...]  # (lat, lon) rings; even-odd rule
    name: str = ""


class WatchEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A vessel of interest: any of MMSI, IMO or name (case- and space-insensitive)."""

    id: str
    label: Label
    mmsi: int | None = None
    imo: int | None = None
    name: str = ""


class ZoneConfig(msgspec.Struct, frozen=True, kw_only=True):
    confirm_fixes: int = 2  # consecutive fixes clearly on the other side
    confirm_s: float = 0.0  # ... spanning at least this long
    buffer_m: float = 100.0  # edge band where a fix decides nothing
    dwell_update_s: float = 600.0  # dwell opened after, and updated at most every, this
    lost_s: float = 21_600.0  # silence inside a zone that ends a dwell (the gap default)
    watch_quiet_s: float = 3600.0  # silence that closes a watchlist sighting
    report_initial_inside: bool = True  # a vessel first seen inside: an entry
    cell_deg: float = 0.05
    sweep_s: float = 60.0  # time-based closing at most this often (data time)
    max_evidence: int = 20


def name_key(name: str) -> str:
    return "".join(name.split()).upper()


def _ev(fix: Fix) -> Evidence:
    assert fix.lat is not None and fix.lon is not None
    return Evidence(
        mmsi=str(fix.mmsi), t=fix.t, lat=fix.lat, lon=fix.lon, sog=fix.sog, source=fix.source
    )


class _Shape:
    """A zone on a local plane (metres about its box centre): edges and box."""

    __slots__ = ("edges", "kx", "lat0", "lon0", "max_lat", "max_lon", "min_lat", "min_lon", "zone")

    def __init__(self, zone: Zone, buffer_m: float) -> None:
        pts = [p for ring in zone.rings for p in ring]
        if not pts:
            raise ValueError(f"zone {zone.id} has no vertices")
        lats, lons = [p[0] for p in pts], [p[1] for p in pts]
        self.zone = zone
        self.lat0 = (min(lats) + max(lats)) / 2
        self.lon0 = (min(lons) + max(lons)) / 2
        self.kx = M_PER_DEG * math.cos(math.radians(self.lat0))
        pad_lat = buffer_m / M_PER_DEG
        pad_lon = buffer_m / self.kx
        self.min_lat, self.max_lat = min(lats) - pad_lat, max(lats) + pad_lat
        self.min_lon, self.max_lon = min(lons) - pad_lon, max(lons) + pad_lon
        edges = []
        for ring in zone.rings:
            xy = [self.xy(lat, lon) for lat, lon in ring]
            if len(xy) < 3:
                raise ValueError(f"zone {zone.id}: a ring needs at least 3 vertices")
            for i in range(len(xy)):
                (x1, y1), (x2, y2) = xy[i - 1], xy[i]
                if (x1, y1) != (x2, y2):
                    edges.append((x1, y1, x2, y2))
        self.edges = tuple(edges)

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * M_PER_DEG

    def locate(self, x: float, y: float) -> tuple[bool, float]:
        """Inside (even-odd) and the distance to the nearest edge, in metres."""
        inside = False
        best = math.inf
        for x1, y1, x2, y2 in self.edges:
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
            dx, dy = x2 - x1, y2 - y1
            seg = dx * dx + dy * dy
            u = ((x - x1) * dx + (y - y1) * dy) / seg
            u = 0.0 if u < 0.0 else 1.0 if u > 1.0 else u
            ex, ey = x1 + u * dx - x, y1 + u * dy - y
            d2 = ex * ex + ey * ey
            if d2 < best:
                best = d2
        return inside, math.sqrt(best)


OUT, IN = 1, 2


class _Presence:
    """One vessel and one zone: the confirmed side and the run towards the other."""

    __slots__ = (
        "dwell_emit",
        "edge",
        "entered",
        "evidence",
        "label",
        "last",
        "ref",
        "run_n",
        "run_t0",
        "side",
        "trail",
    )

    def __init__(self) -> None:
        self.side = 0  # 0 unknown, OUT, IN
        self.run_n = 0
        self.run_t0 = 0.0
        self.edge: Fix | None = None  # first fix on the other side since the last clear one
        self.entered: Fix | None = None
        self.dwell_emit = 0.0
        self.last: Fix | None = None
        self.label: Label | None = None  # restriction of the fixes since the crossing
        self.evidence: deque[Evidence] = deque(maxlen=8)  # the current crossing
        self.trail: list[Evidence] = []  # the stay: entry, samples inside, exit
        self.ref: tuple[float, float, float, int] | None = None  # x, y, clear margin, side


def _dwelling(st: _Presence) -> bool:
    """Inside, with a dwell event opened (inside at least ``dwell_update_s``)."""
    return st.side == IN and st.entered is not None and st.dwell_emit > st.entered.t


class _Sighting:
    __slots__ = ("day", "end", "evidence", "id", "label", "last_t", "matched", "start")

    def __init__(self, entry: WatchEntry, fix: Fix, matched: str, max_ev: int) -> None:
        self.start = fix.t
        self.day = int(fix.t // DAY)
        self.id = event_id("zone", [str(fix.mmsi)], fix.t, extra=f"watchlist|{entry.id}")
        self.end: float | None = None
        self.last_t = fix.t
        self.matched = matched
        self.label = _restrict(entry.label, fix.label)
        self.evidence: deque[Evidence] = deque([_ev(fix)], maxlen=max_ev)


class ZoneDetector:
    """Zone and watchlist events (see the module docstring). A Detector."""

    def __init__(
        self,
        zones: Iterable[Zone] = (),
        watchlist: Iterable[WatchEntry] = (),
        config: ZoneConfig | None = None,
    ) -> None:
        self.cfg = config or ZoneConfig()
        self._inv = 1.0 / self.cfg.cell_deg
        self._cols = round(360.0 * self._inv) + 2
        self._shapes: dict[str, _Shape] = {}
        self._grid: dict[int, tuple[_Shape, ...]] = {}
        self._big: tuple[_Shape, ...] = ()  # zones too large for the grid: box test only
        self._presence: dict[int, dict[str, _Presence]] = {}
        self._by_mmsi: dict[int, list[WatchEntry]] = {}
        self._by_imo: dict[int, list[WatchEntry]] = {}
        self._by_name: dict[str, list[WatchEntry]] = {}
        self._entries: dict[str, WatchEntry] = {}
        self._known: dict[int, dict[str, str]] = {}  # MMSI -> entry id -> how (static only)
        self._sightings: dict[tuple[int, str], _Sighting] = {}
        self._next_sweep = -math.inf
        self.set_zones(zones)
        self.set_watchlist(watchlist)

    # -- configuration at run time -------------------------------------------------------

    def set_zones(self, zones: Iterable[Zone]) -> list[Emission]:
        """Replace the zones; vessel state for zones kept (by id) survives. Closes the rest."""
        buf = self.cfg.buffer_m
        shapes = {z.id: _Shape(z, buf) for z in zones}
        grid: dict[int, list[_Shape]] = {}
        big = []
        inv, cols = self._inv, self._cols
        for shape in shapes.values():
            r0, r1 = int((shape.min_lat + 90) * inv), int((shape.max_lat + 90) * inv)
            c0, c1 = int((shape.min_lon + 180) * inv), int((shape.max_lon + 180) * inv)
            if (r1 - r0 + 1) * (c1 - c0 + 1) > 40_000:
                big.append(shape)
                continue
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    grid.setdefault(r * cols + c, []).append(shape)
        out: list[Emission] = []
        for mmsi in sorted(self._presence):
            states = self._presence[mmsi]
            for zid in sorted(states):
                st = states[zid]
                if zid not in shapes:
                    if _dwelling(st) and st.last is not None:
                        old = self._shapes[zid].zone
                        out.append(self._dwell(old, st, st.last.t, closed=True, removed=True))
                    del states[zid]
                else:
                    st.ref = None  # the geometry may have changed
            if not states:
                del self._presence[mmsi]
        self._shapes = shapes
        self._grid = {k: tuple(v) for k, v in grid.items()}
        self._big = tuple(big)
        return out

    def set_watchlist(self, entries: Iterable[WatchEntry]) -> list[Emission]:
        """Replace the watchlist; sightings of entries kept (by id) survive. Closes the rest."""
        self._entries = {e.id: e for e in entries}
        self._by_mmsi, self._by_imo, self._by_name = {}, {}, {}
        for e in self._entries.values():
            if e.mmsi is not None:
                self._by_mmsi.setdefault(e.mmsi, []).append(e)
            if e.imo is not None:
                self._by_imo.setdefault(e.imo, []).append(e)
            if name_key(e.name):
                self._by_name.setdefault(name_key(e.name), []).append(e)
        out = []
        for key in sorted(self._sightings):
            if key[1] not in self._entries:
                s = self._sightings.pop(key)
                if s.end is None:
                    s.end = s.last_t
                    out.append(self._sighting_emission(key[0], key[1], s, removed=True))
        for known in self._known.values():
            for eid in [k for k in known if k not in self._entries]:
                del known[eid]
        return out

    # -- feeding -------------------------------------------------------------------------

    def active(self) -> bool:
        """Whether a fix can matter: zones, watch entries or state to follow exist."""
        return bool(self._shapes or self._entries or self._presence or self._sightings)

    def feed(self, fix: Fix) -> Sequence[Emission]:
        out: list[Emission] = []
        if self._entries:
            self._watch(fix, out)
        lat, lon = fix.lat, fix.lon
        if lat is None or lon is None:
            return out
        here = self._grid.get(
            int((lat + 90.0) * self._inv) * self._cols + int((lon + 180.0) * self._inv), ()
        )
        states = self._presence.get(fix.mmsi)
        if not here and states is None and not self._big:
            return out
        shapes = list(here)
        for shape in self._big:
            if shape.min_lat <= lat <= shape.max_lat and shape.min_lon <= lon <= shape.max_lon:
                shapes.append(shape)
        if states is not None:
            have = {s.zone.id for s in shapes}
            shapes.extend(self._shapes[z] for z in states if z not in have)
        for shape in shapes:
            self._zone(shape, fix, out)
        return out

    def _zone(self, shape: _Shape, fix: Fix, out: list[Emission]) -> None:
        assert fix.lat is not None and fix.lon is not None
        cfg = self.cfg
        states = self._presence.get(fix.mmsi)
        st = states.get(shape.zone.id) if states is not None else None
        in_box = (
            shape.min_lat <= fix.lat <= shape.max_lat and shape.min_lon <= fix.lon <= shape.max_lon
        )
        if not in_box:
            inside, clear = False, True
        else:
            x, y = shape.xy(fix.lat, fix.lon)
            ref = st.ref if st is not None else None
            if ref is not None and math.hypot(x - ref[0], y - ref[1]) < ref[2]:
                inside, clear = ref[3] == IN, True  # still well clear of every edge
            else:
                inside, d = shape.locate(x, y)
                clear = d >= cfg.buffer_m
                if st is not None:
                    st.ref = (x, y, d - cfg.buffer_m, IN if inside else OUT) if clear else None
        target = IN if inside else OUT
        if st is None:
            if target == OUT and (clear or not in_box):
                return  # outside and never tracked: nothing to remember
            st = self._presence.setdefault(fix.mmsi, {})[shape.zone.id] = _Presence()
        st.last = fix
        if st.side == 0 and target == OUT:
            if clear:
                st.side, st.edge, st.run_n, st.label = OUT, None, 0, None
                self._drop_if_far(fix.mmsi, shape, st, in_box)
            return
        if target == st.side:  # on the confirmed side
            if target == IN:
                st.label = _restrict(st.label or fix.label, fix.label)
            if clear:
                st.run_n, st.edge = 0, None  # any run towards the other side is over
                if target == IN:
                    self._dwell_update(shape.zone, st, fix, out)
                else:
                    st.label = None
                    self._drop_if_far(fix.mmsi, shape, st, in_box)
            return
        # On the other side: the crossing is the first such fix, confirmed by clear ones.
        if st.edge is None:
            st.edge = fix
            if target == IN:
                st.label = fix.label
        st.label = _restrict(st.label or fix.label, fix.label)
        if not clear:
            return
        if st.run_n == 0:
            st.run_t0 = fix.t
            st.evidence.clear()
            st.evidence.append(_ev(st.edge))
        st.run_n += 1
        if st.evidence[-1].t != fix.t:
            st.evidence.append(_ev(fix))
        if st.run_n < cfg.confirm_fixes or fix.t - st.run_t0 < cfg.confirm_s:
            return
        crossing = st.edge
        st.run_n, st.edge = 0, None
        if target == IN:
            initial = st.side == 0
            st.side, st.entered, st.dwell_emit = IN, crossing, crossing.t
            st.trail = list(st.evidence)
            if not initial or cfg.report_initial_inside:
                out.append(self._instant("entry", shape.zone, fix.mmsi, crossing, st, initial))
        else:
            out.append(self._instant("exit", shape.zone, fix.mmsi, crossing, st, False))
            if _dwelling(st):
                st.trail.extend(st.evidence)  # a dwell was opened: it closes now
                out.append(self._dwell(shape.zone, st, crossing.t, closed=True))
            st.side, st.entered, st.label, st.trail = OUT, None, None, []
            self._drop_if_far(fix.mmsi, shape, st, in_box)

    def _drop_if_far(self, mmsi: int, shape: _Shape, st: _Presence, in_box: bool) -> None:
        if not in_box and st.side == OUT and st.run_n == 0:
            states = self._presence[mmsi]
            del states[shape.zone.id]
            if not states:
                del self._presence[mmsi]

    # -- emissions -----------------------------------------------------------------------

    def _instant(
        self, kind: str, zone: Zone, mmsi: int, at: Fix, st: _Presence, initial: bool
    ) -> Emission:
        ev = list(st.evidence)
        label = _restrict(zone.label, st.label or at.label)
        detail: dict[str, Any] = {"kind": kind, "zone": zone.id, "zone_name": zone.name}
        if initial:
            detail["first_seen_inside"] = True
        if kind == "exit" and st.entered is not None:
            detail["dwell_s"] = round(at.t - st.entered.t, 1)
        return Emission(
            id=event_id("zone", [str(mmsi)], at.t, extra=f"{kind}|{zone.id}"),
            type="zone",
            status="closed",
            start=at.t,
            end=at.t,
            vessels=(str(mmsi),),
            lat=sum(e.lat for e in ev) / len(ev),
            lon=sum(e.lon for e in ev) / len(ev),
            evidence=ev,
            label=label,
            detail=detail,
        )

    def _dwell_update(self, zone: Zone, st: _Presence, fix: Fix, out: list[Emission]) -> None:
        step = self.cfg.dwell_update_s
        if st.entered is not None and fix.t - st.dwell_emit >= step:
            st.dwell_emit = fix.t
            if len(st.trail) >= self.cfg.max_evidence:
                del st.trail[1]  # keep the crossing, thin the samples after it
            st.trail.append(_ev(fix))
            out.append(self._dwell(zone, st, fix.t, closed=False))

    def _dwell(
        self, zone: Zone, st: _Presence, until: float, *, closed: bool, **extra: bool
    ) -> Emission:
        assert st.entered is not None
        start = st.entered.t
        ev = list(st.trail) or [_ev(st.entered)]
        detail: dict[str, Any] = {
            "kind": "dwell",
            "zone": zone.id,
            "zone_name": zone.name,
            "dwell_s": round(until - start, 1),
        }
        detail.update(extra)
        return Emission(
            id=event_id("zone", [str(st.entered.mmsi)], start, extra=f"dwell|{zone.id}"),
            type="zone",
            status="closed" if closed else "open",
            start=start,
            end=until if closed else None,
            vessels=(str(st.entered.mmsi),),
            lat=sum(e.lat for e in ev) / len(ev),
            lon=sum(e.lon for e in ev) / len(ev),
            evidence=ev,
            label=_restrict(zone.label, st.label or st.entered.label),
            detail=detail,
        )

    # -- watchlist -----------------------------------------------------------------------

    def _watch(self, fix: Fix, out: list[Emission]) -> None:
        by_mmsi = self._by_mmsi.get(fix.mmsi)
        static = fix.name or fix.imo is not None
        if by_mmsi is None and not static and fix.mmsi not in self._known:
            return  # the usual case: nobody of interest
        hits: dict[str, str] = {e.id: "mmsi" for e in by_mmsi or ()}
        if static:
            known: dict[str, str] = {}
            if fix.imo is not None:
                for e in self._by_imo.get(fix.imo, ()):
                    known[e.id] = "imo"
            if fix.name and self._by_name:
                for e in self._by_name.get(name_key(fix.name), ()):
                    known.setdefault(e.id, "name")
            if known:
                self._known[fix.mmsi] = known
            else:
                self._known.pop(fix.mmsi, None)  # a new identity: forget the old match
        for eid, how in self._known.get(fix.mmsi, {}).items():  # matched by IMO or name
            hits.setdefault(eid, how)
        if not hits or fix.lat is None:
            return
        for eid in sorted(hits):
            key = (fix.mmsi, eid)
            s = self._sightings.get(key)
            if s is None or (s.end is not None and int(fix.t // DAY) != s.day):
                s = self._sightings[key] = _Sighting(
                    self._entries[eid], fix, hits[eid], self.cfg.max_evidence
                )
                out.append(self._sighting_emission(fix.mmsi, eid, s))
                continue
            s.last_t = fix.t
            s.label = _restrict(s.label, fix.label)
            if s.end is not None:  # seen again the same day: the same sighting reopens
                s.end = None
                s.evidence.append(_ev(fix))
                out.append(self._sighting_emission(fix.mmsi, eid, s))
            elif fix.t - s.evidence[-1].t >= 600.0:
                s.evidence.append(_ev(fix))  # a sparse trail

    def _sighting_emission(self, mmsi: int, eid: str, s: _Sighting, **extra: bool) -> Emission:
        ev = list(s.evidence)
        detail: dict[str, Any] = {"kind": "watchlist", "watchlist": eid, "matched": s.matched}
        detail.update(extra)
        return Emission(
            id=s.id,
            type="zone",
            status="open" if s.end is None else "closed",
            start=s.start,
            end=s.end,
            vessels=(str(mmsi),),
            lat=sum(e.lat for e in ev) / len(ev),
            lon=sum(e.lon for e in ev) / len(ev),
            evidence=ev,
            label=s.label,
            detail=detail,
        )

    # -- the clock -----------------------------------------------------------------------

    def tick(self, now: float) -> Sequence[Emission]:
        if now < self._next_sweep:
            return []
        step = self.cfg.sweep_s
        self._next_sweep = (math.floor(now / step) + 1) * step
        out: list[Emission] = []
        quiet = self.cfg.watch_quiet_s
        for key in sorted(self._sightings):
            s = self._sightings[key]
            if s.end is None and now - s.last_t >= quiet:
                s.end = s.last_t
                out.append(self._sighting_emission(key[0], key[1], s))
            elif s.end is not None and int(now // DAY) > s.day:
                del self._sightings[key]  # a new day: a new sighting next time
        lost = self.cfg.lost_s
        for mmsi in sorted(self._presence):
            states = self._presence[mmsi]
            for zid in sorted(states):
                st = states[zid]
                if st.last is not None and now - st.last.t >= lost:
                    if _dwelling(st):
                        zone = self._shapes[zid].zone
                        out.append(self._dwell(zone, st, st.last.t, closed=True, lost=True))
                    del states[zid]
            if not states:
                del self._presence[mmsi]
        return out
