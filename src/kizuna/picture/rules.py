"""Pure rules of the picture: merging observations, fusing a view, expiry, bounding boxes.

A *picture entry* is everything known about one object (one ``Track.id``): the
newest observation from each source, keyed by ``(source, source_id)``. An
observation is a whole :class:`Track` as one source reported it, with its own
security label.

Merge (:func:`merge`) — last observation wins per source key, ordered by
observation time; a late report never rolls an entry back. Ties on
``(observed_at, source, source_id)`` are broken by the report's content, so the
result does not depend on arrival order: :func:`merge` is commutative,
associative and idempotent over a set of reports (property-tested). At most
``max_sources`` source keys are kept, the newest ones.

Fuse (:func:`fuse`) — what one principal sees of an entry: the newest
observation among those *it may see*, carrying the provenance of every source
it may see. Keeping observations separate (rather than one fused track under
one label) means a SECRET report about a ship never leaks into, or hides, the
UNCLASSIFIED AIS view of the same ship.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import msgspec
from msgspec.structs import replace

from kizuna.core.catalog import Catalog
from kizuna.core.labels import Label
from kizuna.picture.models import Provenance, Track

MESSAGES = Catalog("kizuna.picture")

Observations = tuple[Track, ...]  # sorted by (source, source_id), one per key

MAX_SOURCES = 16


def source_key(track: Track) -> tuple[str, str]:
    return (track.source, track.source_id)


def _content(track: Track) -> bytes:
    """A deterministic rendering of a report's content, for tie-breaks only."""
    conn = track.sources[0].connection if track.sources else ""
    return msgspec.json.encode(
        [
            track.lat,
            track.lon,
            track.stale_at,
            track.label.render(),
            track.sidc,
            track.cot_type,
            track.affiliation,
            track.callsign,
            track.name,
            track.course,
            track.speed,
            track.hae,
            track.exercise,
            track.ship_type,
            track.mmsi,
            track.remarks,
            conn,
        ]
    )


def newer(a: Track, b: Track) -> bool:
    """True if observation ``a`` comes strictly after ``b`` in the total order."""
    ka = (a.observed_at, a.source, a.source_id)
    kb = (b.observed_at, b.source, b.source_id)
    if ka != kb:
        return ka > kb
    return _content(a) > _content(b)


def newest(observations: Iterable[Track]) -> Track | None:
    best: Track | None = None
    for obs in observations:
        if best is None or newer(obs, best):
            best = obs
    return best


def normalise(track: Track) -> Track:
    """One observation as stored: exactly one provenance entry, its own.

    A report already in that form (as sources such as AIS build them) is
    returned as is, not copied."""
    sources = track.sources
    if len(sources) == 1 and (track.exercise or not track.label.exercise):
        p = sources[0]
        if (
            p.observed_at == track.observed_at
            and p.source_id == track.source_id
            and p.source == track.source
        ):
            return track
    connection = next(
        (p.connection for p in track.sources if (p.source, p.source_id) == source_key(track)), ""
    )
    prov = Provenance(
        source=track.source,
        source_id=track.source_id,
        observed_at=track.observed_at,
        connection=connection,
    )
    return replace(track, sources=[prov], exercise=track.exercise or track.label.exercise)


def merge(
    current: Observations, report: Track, max_sources: int = MAX_SOURCES
) -> Observations | None:
    """The entry after ``report``; ``None`` if the report changes nothing (late or repeated)."""
    key = source_key(report)
    for i, obs in enumerate(current):
        if source_key(obs) == key:
            if not newer(report, obs):
                return None
            return (*current[:i], report, *current[i + 1 :])
    merged = (*current, report)
    if len(merged) > max_sources:
        oldest = min(merged, key=_order)
        if oldest is report:
            return None
        merged = tuple(o for o in merged if o is not oldest)
    return tuple(sorted(merged, key=source_key))


class _Order:
    """Sort key wrapper implementing :func:`newer` as ``<``."""

    __slots__ = ("track",)

    def __init__(self, track: Track) -> None:
        self.track = track

    def __lt__(self, other: _Order) -> bool:
        return newer(other.track, self.track)


def _order(track: Track) -> _Order:
    return _Order(track)


def merge_all(
    reports: Iterable[Track], current: Observations = (), max_sources: int = MAX_SOURCES
) -> Observations:
    for report in reports:
        new = merge(current, report, max_sources)
        if new is not None:
            current = new
    return current


def fuse(observations: Sequence[Track], visible: Callable[[Label], bool]) -> Track | None:
    """The view of an entry for someone who may see the labels ``visible`` accepts."""
    return fuse_seen([o for o in observations if visible(o.label)])


def fuse_seen(seen: Sequence[Track]) -> Track | None:
    """The view of an entry's observations that its viewer may see (all of ``seen``)."""
    best = newest(seen)
    if best is None:
        return None
    return replace(best, sources=[o.sources[0] for o in seen if o.sources])


def expire(observations: Observations, now: float, grace: float) -> Observations:
    """Drop observations stale for longer than ``grace`` seconds."""
    if all(o.stale_at + grace >= now for o in observations):
        return observations
    return tuple(o for o in observations if o.stale_at + grace >= now)


def is_stale(track: Track, now: float) -> bool:
    return now >= track.stale_at


def box_of(observations: Sequence[Track]) -> tuple[float, float, float, float]:
    """(minlon, maxlon, minlat, maxlat) covering every observation of an entry."""
    lons = [o.lon for o in observations]
    lats = [o.lat for o in observations]
    return (min(lons), max(lons), min(lats), max(lats))


def report_problem(track: Track, now: float, max_future: float) -> str | None:
    """Why a report cannot enter the picture (``None`` when it can)."""
    # One pass for the common case (comparisons are False for NaN, so only
    # finite, in-range values pass); the checks below name the problem.
    tid = track.id
    if (
        tid
        and len(tid) <= 200
        and track.source
        and track.source_id
        and -90.0 <= track.lat <= 90.0
        and -180.0 <= track.lon <= 180.0
        and -math.inf < track.observed_at <= now + max_future
        and -math.inf < track.stale_at < math.inf
    ):
        return None
    if not track.id or len(track.id) > 200 or not track.source or not track.source_id:
        return "missing or oversized id, source or source_id"
    if not (math.isfinite(track.lat) and math.isfinite(track.lon)):
        return "position is not a number"
    if not (-90.0 <= track.lat <= 90.0 and -180.0 <= track.lon <= 180.0):
        return "position out of range"
    if not (math.isfinite(track.observed_at) and math.isfinite(track.stale_at)):
        return "time is not a number"
    if track.observed_at > now + max_future:
        return "observed in the future"
    return None


# -- bounding boxes ------------------------------------------------------------


class BBox(msgspec.Struct, frozen=True):
    """``minlon, minlat, maxlon, maxlat`` (RFC 7946 order). ``minlon > maxlon``
    crosses the antimeridian (e.g. ``170,10,-170,20``)."""

    minlon: float
    minlat: float
    maxlon: float
    maxlat: float

    @property
    def crosses_antimeridian(self) -> bool:
        return self.minlon > self.maxlon

    def parts(self) -> list[tuple[float, float, float, float]]:
        """Non-wrapping boxes (minlon, minlat, maxlon, maxlat) that cover this one."""
        if self.crosses_antimeridian:
            return [
                (self.minlon, self.minlat, 180.0, self.maxlat),
                (-180.0, self.minlat, self.maxlon, self.maxlat),
            ]
        return [(self.minlon, self.minlat, self.maxlon, self.maxlat)]

    def contains(self, lat: float, lon: float) -> bool:
        if not self.minlat <= lat <= self.maxlat:
            return False
        if self.crosses_antimeridian:
            return lon >= self.minlon or lon <= self.maxlon
        return self.minlon <= lon <= self.maxlon

    def intersects(self, box: tuple[float, float, float, float]) -> bool:
        """Whether an entry box (minlon, maxlon, minlat, maxlat) meets this bbox."""
        minlon, maxlon, minlat, maxlat = box
        if maxlat < self.minlat or minlat > self.maxlat:
            return False
        return any(maxlon >= a and minlon <= c for a, _, c, _ in self.parts())


def bbox_from_values(values: Sequence[object]) -> BBox:
    """Validate four numbers; raises ``ValueError`` with a readable reason."""
    if len(values) != 4:
        raise ValueError("bbox needs exactly four numbers: minlon,minlat,maxlon,maxlat")
    nums: list[float] = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise ValueError(f"bbox value {v!r} is not a number")
        try:
            num = float(v)
        except ValueError:
            raise ValueError(f"bbox value {v!r} is not a number") from None
        if not math.isfinite(num):
            raise ValueError(f"bbox value {v!r} is not a finite number")
        nums.append(num)
    minlon, minlat, maxlon, maxlat = nums
    for lon in (minlon, maxlon):
        if not -180.0 <= lon <= 180.0:
            raise ValueError(f"bbox longitude {lon} outside -180..180")
    for lat in (minlat, maxlat):
        if not -90.0 <= lat <= 90.0:
            raise ValueError(f"bbox latitude {lat} outside -90..90")
    if minlat > maxlat:
        raise ValueError("bbox minlat is greater than maxlat")
    return BBox(minlon, minlat, maxlon, maxlat)


def parse_bbox(text: str) -> BBox:
    """``"minlon,minlat,maxlon,maxlat"`` → :class:`BBox`; raises ``ValueError``."""
    if len(text) > 200:
        raise ValueError("bbox is too long")
    return bbox_from_values([p.strip() for p in text.split(",")])
