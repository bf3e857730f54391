"""One object that cleans, segments and runs every detector over a stream of fixes.

``Pipeline(config, ports, zones=(), watchlist=())``; :meth:`Pipeline.feed` (one fix),
:meth:`Pipeline.feed_many` (the fast path: the same loop with everything bound locally) and
:meth:`Pipeline.tick` return :class:`Emission` lists. The data's clock is the newest fix
time seen; whenever it crosses a multiple of ``tick_s`` the detectors are ticked *before*
the fix that moved it is processed, so the same fixes in the same order give the same
emissions however they are batched, and a replay gives the same ids.

Routing, per cleaned fix:

- no position (a static report, or nulled): spoofing and zone detectors only (names);
- an invalid or placeholder MMSI, or a station that is not a vessel (coast, AtoN, SART,
  aircraft…): spoofing and zone only;
- late (older than its identity segment's newest fix): the gap detector only (it may
  retract or shorten a gap); the others expect time order per segment;
- otherwise: gap and zone (every fix), loitering and encounter (at most one fix per
  segment per ``thin_s``), spoofing (at most one per MMSI per ``spoof_thin_s`` while its
  segment is unchanged; a fix that switches or splits the segment and the next
  ``spoof_first_fixes`` - 1, a new name, a step its reported speed cannot explain, and
  every fix of a vessel the detector is keen on, :attr:`SpoofDetector.keen`, always go
  through: the detector decides in its tick, every ``check_s`` = 60 s of data time, so
  between two decisions only these fixes and the latest position matter).

The zone detector is skipped while it has no zones, watch entries or state
(:meth:`ZoneDetector.active`). The spoofing and zone detectors (:mod:`.spoof`,
:mod:`.zone`) are imported when present.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from math import floor
from typing import Any

import msgspec

from kizuna.core.labels import Label
from kizuna.mda.detect.base import KNOT, Emission, Fix
from kizuna.mda.detect.clean import VESSEL_KINDS, CleanConfig, Cleaner, mmsi_flag, mmsi_kind
from kizuna.mda.detect.encounter import EncounterConfig, EncounterDetector
from kizuna.mda.detect.gap import GapConfig, GapDetector
from kizuna.mda.detect.loiter import LoiterConfig, LoiterDetector
from kizuna.mda.detect.ports import PortIndex


class PipelineConfig(msgspec.Struct, frozen=True, kw_only=True):
    clean: CleanConfig = msgspec.field(default_factory=CleanConfig)
    gap: GapConfig = msgspec.field(default_factory=GapConfig)
    loiter: LoiterConfig = msgspec.field(default_factory=LoiterConfig)
    encounter: EncounterConfig = msgspec.field(default_factory=EncounterConfig)
    spoof: Any = None  # spoof.SpoofConfig, None for its defaults
    zone: Any = None  # zone.ZoneConfig, None for its defaults
    tick_s: float = 60.0  # data seconds between detector ticks
    # Fast path: loitering (5 min steps) and encounter (10 min grid) see at most one fix per
    # vessel segment per this many seconds; gap and zone see every fix.
    thin_s: float = 30.0
    # Spoofing sees at most one fix per MMSI per this many seconds of an unchanged segment;
    # a segment switch or split (and the next ``spoof_first_fixes`` - 1 fixes), a new name,
    # a step the reported speed cannot explain, or a vessel it is keen on always goes
    # through (see the module docstring). Its own check_s (60 s) is the natural bound.
    spoof_thin_s: float = 60.0
    spoof_first_fixes: int = 3
    detectors: frozenset[str] = frozenset({"gap", "loitering", "encounter", "spoofing", "zone"})


def config_from(settings: Any) -> PipelineConfig:
    """The domain's ``MdaSettings`` (duck-typed) mapped onto the detectors' configs."""
    g = lambda name, default: getattr(settings, name, default)  # noqa: E731
    loiter, enc = LoiterConfig(), EncounterConfig()
    spoof_cfg = zone_cfg = None
    try:
        from kizuna.mda.detect import zone

        z = zone.ZoneConfig()
        zone_cfg = zone.ZoneConfig(
            buffer_m=g("zone_hysteresis_m", z.buffer_m),
            dwell_update_s=g("zone_dwell_s", z.dwell_update_s),
        )
    except ImportError:
        pass
    return PipelineConfig(
        clean=CleanConfig(max_speed_kn=g("split_speed_kn", CleanConfig().max_speed_kn)),
        gap=GapConfig(threshold_s=g("gap_s", GapConfig().threshold_s)),
        loiter=LoiterConfig(
            max_speed_kn=g("loiter_speed_kn", loiter.max_speed_kn),
            min_duration_s=g("loiter_s", loiter.min_duration_s),
            port_distance_m=g("loiter_port_distance_m", loiter.port_distance_m),
        ),
        encounter=EncounterConfig(
            max_distance_m=g("encounter_distance_m", enc.max_distance_m),
            min_duration_s=g("encounter_s", enc.min_duration_s),
            max_median_speed_kn=g("encounter_speed_kn", enc.max_median_speed_kn),
            port_distance_m=g("port_distance_m", enc.port_distance_m),
        ),
        spoof=spoof_cfg,
        zone=zone_cfg,
    )


@lru_cache(maxsize=1 << 18)
def behaves(mmsi: int) -> bool:
    """Whether the behaviour detectors judge this MMSI: a valid vessel identity."""
    return mmsi_flag(mmsi) == "" and mmsi_kind(mmsi) in VESSEL_KINDS


def fix_from_track(track: Any, label: Label | None = None) -> Fix:
    """A picture Track (duck-typed: mmsi, observed_at, lat, lon, speed m/s, course, name,
    sources) as a Fix; the source is the first provenance's connection or source."""
    try:  # the picture's Track: plain attribute reads (the hot path)
        sources = track.sources
        speed = track.speed
        course = track.course
        name = track.name
        if sources:
            src = sources[0]
            source = src.connection or src.source
        else:
            source = ""
    except AttributeError:
        return _fix_from_any(track, label)
    mmsi, t = track.mmsi, track.observed_at
    return Fix(
        mmsi=mmsi if mmsi.__class__ is int else int(mmsi),
        t=t if t.__class__ is float else float(t),
        lat=track.lat,
        lon=track.lon,
        sog=None if speed is None else speed / KNOT,
        cog=course,
        name=name or "",
        source=source or track.source,
        label=label or track.label,
    )


def _fix_from_any(track: Any, label: Label | None) -> Fix:
    """:func:`fix_from_track` for anything with fewer attributes (defaults for the rest)."""
    sources = getattr(track, "sources", None) or ()
    src = sources[0] if sources else None
    source = (getattr(src, "connection", "") or getattr(src, "source", "")) if src else ""
    speed = getattr(track, "speed", None)
    return Fix(
        mmsi=int(track.mmsi),
        t=float(track.observed_at),
        lat=track.lat,
        lon=track.lon,
        sog=None if speed is None else speed / KNOT,
        cog=getattr(track, "course", None),
        name=getattr(track, "name", "") or "",
        source=source or getattr(track, "source", "ais"),
        label=label or track.label,
    )


def _zone_objects(zones: Iterable[Any], watchlist: Iterable[Any]) -> tuple[list, list]:
    """The domain's zones (``polygon``) and watch entries as :mod:`.zone` takes them."""
    from kizuna.mda.detect import zone

    zs = []
    for z in zones:
        if isinstance(z, zone.Zone):
            zs.append(z)
        else:
            rings = getattr(z, "rings", None) or (tuple(tuple(p) for p in z.polygon),)
            zs.append(
                zone.Zone(id=z.id, label=z.label, rings=rings, name=getattr(z, "name", "") or "")
            )
    ws = []
    for w in watchlist:
        if isinstance(w, zone.WatchEntry):
            ws.append(w)
        else:
            ws.append(
                zone.WatchEntry(
                    id=w.id,
                    label=w.label,
                    mmsi=getattr(w, "mmsi", None),
                    imo=getattr(w, "imo", None),
                    name=getattr(w, "name", "") or "",
                )
            )
    return zs, ws


class Pipeline:
    """Cleaning, segmentation and all detectors (see the module docstring)."""

    def __init__(
        self,
        config: PipelineConfig | None = None,
        ports: Iterable[tuple[float, float]] = (),
        zones: Iterable[Any] = (),
        watchlist: Iterable[Any] = (),
    ) -> None:
        self.cfg = cfg = config or PipelineConfig()
        on = cfg.detectors
        self.ports = PortIndex(ports)
        self.cleaner = Cleaner(cfg.clean)
        self.gap = GapDetector(cfg.gap) if "gap" in on else None
        self.loiter = LoiterDetector(cfg.loiter, self.ports) if "loitering" in on else None
        self.encounter = EncounterDetector(cfg.encounter, self.ports) if "encounter" in on else None
        self.spoof: Any = None
        self.zone: Any = None
        if "spoofing" in on:
            try:
                from kizuna.mda.detect.spoof import SpoofDetector
            except ImportError:
                pass
            else:
                self.spoof = SpoofDetector(cfg.spoof)
        if "zone" in on:
            try:
                from kizuna.mda.detect.zone import ZoneDetector
            except ImportError:
                pass
            else:
                zs, ws = _zone_objects(zones, watchlist)
                self.zone = ZoneDetector(zs, ws, cfg.zone)
        self.clock = float("-inf")
        self._next_tick = float("-inf")
        # MMSI -> [when spoofing wants a fix, current segment, fixes since it became
        # current, name, when loitering/encounter want a fix of that segment]
        self._hot: dict[int, list[Any]] = {}
        # segment key (segment × 10⁹ + MMSI) -> when loitering/encounter want a fix of a
        # segment that is not its MMSI's current one
        self._due: dict[int, float] = {}
        self._judged: dict[int, bool] = {}  # MMSI -> behaves(MMSI)
        self._spoof_first = cfg.spoof_first_fixes
        self._displaced_m = self.spoof.cfg.displaced_m if self.spoof is not None else 0.0
        self.fixes = 0  # fed (counter)
        self.late = 0  # older than their segment's newest (counter)

    # -- zones and watchlist at run time ---------------------------------------------

    def set_zones(self, zones: Sequence[Any]) -> list[Emission]:
        if self.zone is None:
            return []
        zs, _ = _zone_objects(zones, ())
        return list(self.zone.set_zones(zs) or ())

    def set_watchlist(self, watchlist: Sequence[Any]) -> list[Emission]:
        if self.zone is None:
            return []
        _, ws = _zone_objects((), watchlist)
        return list(self.zone.set_watchlist(ws) or ())

    # -- the stream --------------------------------------------------------------------

    def feed(self, fix: Fix) -> list[Emission]:
        return self.feed_many((fix,))

    def feed_many(self, fixes: Iterable[Fix]) -> list[Emission]:
        out: list[Emission] = []
        extend = out.extend
        segmenter = self.cleaner.segmenter
        clean = segmenter.clean
        gap, loiter, enc = self.gap, self.loiter, self.encounter
        gap_feed = gap.feed if gap is not None else None
        loiter_feed = loiter.feed if loiter is not None else None
        enc_feed = enc.feed if enc is not None else None
        spoof_feed = self.spoof.feed if self.spoof is not None else None
        zone = self.zone
        zone_feed = zone.feed if zone is not None and zone.active() else None
        judged = self._judged
        judged_get = judged.get
        due = self._due
        hot = self._hot
        hot_get = hot.get
        thin = self.cfg.thin_s
        sthin = self.cfg.spoof_thin_s
        first_n = self._spoof_first
        displaced = self._displaced_m
        kn2 = 2.0 * KNOT
        keen = self.spoof.keen if self.spoof is not None else set()
        clock = self.clock
        n = late = 0
        for fix in fixes:
            n += 1
            t = fix.t
            if t > clock:
                self.clock = clock = t
                if t >= self._next_tick:
                    extend(self._tick(t))
            f = clean(fix)
            mmsi = f.mmsi
            ok = judged_get(mmsi)
            if ok is None:
                if len(judged) >= 1 << 18:
                    judged.clear()
                ok = judged[mmsi] = behaves(mmsi)
            if ok and f.lat is not None:
                if segmenter.late:
                    late += 1
                    if gap_feed is not None:
                        extend(gap_feed(f))
                    continue
                if gap_feed is not None:
                    r = gap_feed(f)
                    if r:
                        extend(r)
                # Thinning, per MMSI: h = [when spoofing wants a fix, segment, fixes since
                # it became current, name, when loitering/encounter want a fix of it].
                # Loitering and encounter see at most one fix per segment per thin_s;
                # spoofing one per spoof_thin_s, except a fix that switches segment (and
                # the next few), renames, makes a step its reported speed cannot explain,
                # or is of a vessel the detector is keen on (spoof.keen).
                seg = f.segment
                h = hot_get(mmsi)
                if h is None:
                    hot[mmsi] = [t + sthin, seg, 1, f.name, t + thin]
                    go_spoof = go_slow = True
                elif seg != h[1]:
                    due[h[1] * 1_000_000_000 + mmsi] = h[4]  # the old segment's, kept
                    nxt = due.pop(seg * 1_000_000_000 + mmsi, -1e300)
                    go_slow = t >= nxt
                    h[0], h[1], h[2], h[3] = t + sthin, seg, 1, f.name
                    h[4] = t + thin if go_slow else nxt
                    go_spoof = True
                else:
                    go_slow = t >= h[4]
                    if go_slow:
                        h[4] = t + thin
                    go_spoof = True
                    if h[2] < first_n:
                        h[2] += 1
                    elif not (
                        t >= h[0]
                        or f.name != h[3]
                        or segmenter.step_m > displaced + kn2 * segmenter.step_s * (f.sog or 0.0)
                        or mmsi in keen
                    ):
                        go_spoof = False
                    if go_spoof:
                        h[0] = t + sthin
                        h[3] = f.name
                if go_slow:
                    if loiter_feed is not None:
                        r = loiter_feed(f)
                        if r:
                            extend(r)
                    if enc_feed is not None:
                        enc_feed(f)  # decides in tick
                if go_spoof and spoof_feed is not None:
                    r = spoof_feed(f)
                    if r:
                        extend(r)
                if zone_feed is not None:
                    r = zone_feed(f)
                    if r:
                        extend(r)
                continue
            if segmenter.late:
                late += 1
                continue
            if spoof_feed is not None:
                r = spoof_feed(f)
                if r:
                    extend(r)
            if zone_feed is not None:
                r = zone_feed(f)
                if r:
                    extend(r)
        self.fixes += n
        self.late += late
        return out

    def tick(self, now: float) -> list[Emission]:
        """The data's clock is ``now`` (e.g. the feed is quiet): time-based decisions."""
        if now > self.clock:
            self.clock = now
        return self._tick(self.clock)

    def _tick(self, now: float) -> list[Emission]:
        step = self.cfg.tick_s
        self._next_tick = (floor(now / step) + 1) * step
        out: list[Emission] = []
        for det in (self.gap, self.loiter, self.encounter, self.spoof, self.zone):
            if det is not None:
                out.extend(det.tick(now))
        return out

    def stats(self) -> dict[str, int]:
        return {
            "fixes": self.fixes,
            "late": self.late,
            "identities": len(self.cleaner.segmenter),
            "splits": self.cleaner.segmenter.splits,
            "gap_vessels": len(self.gap) if self.gap is not None else 0,
            "loiter_segments": len(self.loiter) if self.loiter is not None else 0,
            "encounter_segments": len(self.encounter) if self.encounter is not None else 0,
        }
