"""The COP picture: ingest tracks, hold hot state, answer release-filtered reads.

Sources (the AIS ingestor, the CoT server, ``POST /api/v1/tracks``) hand
batches of :class:`Track` to :meth:`PictureService.ingest`. Each report is one
*observation*; observations about one object (same ``Track.id``) form one
picture entry, merged by :mod:`kizuna.picture.rules` (newest per source key,
late reports never roll back). The entries live in memory for fast reads and in
the backend's spatial index (``ctx.backend.spatial_index(Track)``; with SQLite,
:mod:`kizuna.store.tracks`) for persistence, the R*Tree and history.

Within a batch, only the newest report per (object, source) is merged; every
valid report of a changed object is offered to history. History (trails) is
thinned per object and source (see :mod:`kizuna.store.tracks`): at most one
point per ``history_interval`` seconds (default 10) unless it jumped more
than ``history_distance`` metres (500), and while it moves less than
``history_min_move`` metres (25) one point per ``history_heartbeat`` seconds
(60). The latest state is never thinned. The R*Tree holds boxes padded by
``box_margin`` degrees (0.02, about 2 km), rewritten when a track leaves them.

Persistence is group-committed: a batch updates memory, live views and
listeners at once; its entries and history go to SQLite with the batches
after it, at most ``persist_interval`` seconds later (1) or once
``persist_max`` reports are pending (8192), in one transaction. Reads that go
to the store (bounding-box candidates, history, the change feed), the sweep
and :meth:`close` persist what is pending first. A busy feed thus costs one
transaction per interval instead of one per datagram; a crash loses at most
the last interval of track updates, which the next reports restore.

Stale handling: a view is flagged ``stale`` once its ``stale_at`` has passed;
an observation ``grace`` seconds past its ``stale_at`` is dropped (from memory,
store and live views — subscribers get ``track_removed``) by :meth:`sweep`,
which runs at most every ``sweep_interval`` seconds from ingest, from the live
feed and from :meth:`run`.

Federation (tracks are NOT written to the event log — too heavy at AIS rates;
:class:`kizuna.picture.stream.TrackStream` offers them as the ``track`` stream):

* :meth:`on_tracks` — ``callback(observations)`` after each committed batch,
  with the observations that changed the picture (each a :class:`Track` with
  its own label and a single provenance entry). Callbacks run on the ingesting
  thread, must be quick and must not raise (exceptions are logged). A peer
  feeds them to its own :meth:`ingest`; replay is harmless (idempotent merge).
* :meth:`changes_since` — a resumable, coalesced change feed: ``(observations,
  next_cursor)`` of every entry changed after ``cursor`` (a per-node version
  counter persisted with the entries). Start at 0; store the returned cursor.
  Entries swept as stale are not reported (peers sweep their own).

Several workers of one node (ADR 0011): with a spatial index other processes write too
(:class:`~kizuna.store.base.RemoteEntries`, PostgreSQL), the picture follows it. The
entries another worker wrote are merged into memory by the same rules as any report
(newest per source key; a late observation never rolls back a newer one), then the live
feed and the track listeners hear of them as of local changes, so bounding-box queries,
pushes and federation see every worker's tracks. An entry this worker holds more of than
the stored row (the other worker wrote before it saw this one's observation) is written
again at the next commit, so the stored picture converges too.

Every egress filters each observation with ``may_release``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable

import msgspec
import structlog

from kizuna.core.label_view import label_fields
from kizuna.core.release import Principal, may_release
from kizuna.core.time import iso
from kizuna.kernel.context import NodeContext
from kizuna.picture import rules
from kizuna.picture.live import PictureFeed
from kizuna.picture.models import HistoryOut, SourceOut, Track, TrackOut
from kizuna.picture.rules import BBox, Observations
from kizuna.picture.shown import Shown, ShownViews
from kizuna.picture.sidc import exercise_context
from kizuna.store.base import EntryRow, HistoryPoint, RemoteEntries, SpatialIndex

log = structlog.get_logger("kizuna.picture")

TracksListener = Callable[[list[Track]], None]


class IngestResult(msgspec.Struct):
    accepted: int = 0  # observations that changed the picture
    unchanged: int = 0  # late or repeated reports
    rejected: int = 0  # invalid reports
    problems: list[str] = []


class IngestStats:
    __slots__ = ("accepted", "rejected", "swept", "unchanged")

    def __init__(self) -> None:
        self.accepted = 0
        self.unchanged = 0
        self.rejected = 0
        self.swept = 0


def track_view(track: Track, now: float) -> TrackOut:
    """A track as the API shows it (``track`` is already a fused, visible view)."""
    return TrackOut(
        id=track.id,
        source=track.source,
        source_id=track.source_id,
        callsign=track.callsign,
        name=track.name,
        lat=track.lat,
        lon=track.lon,
        course=track.course,
        speed=track.speed,
        hae=track.hae,
        sidc=exercise_context(track.sidc) if track.exercise or track.label.exercise else track.sidc,
        cot_type=track.cot_type,
        affiliation=track.affiliation,
        observed_at=iso(track.observed_at),
        stale_at=iso(track.stale_at),
        stale=rules.is_stale(track, now),
        ship_type=track.ship_type,
        mmsi=track.mmsi,
        remarks=track.remarks,
        sources=[
            SourceOut(
                source=p.source,
                source_id=p.source_id,
                observed_at=iso(p.observed_at),
                connection=p.connection,
            )
            for p in track.sources
        ],
        **label_fields(track.label),
    )


def history_view(point: HistoryPoint) -> HistoryOut:
    return HistoryOut(
        lat=point.lat,
        lon=point.lon,
        observed_at=iso(point.observed_at),
        course=point.course,
        speed=point.speed,
    )


class PictureService:
    """Hot picture state + persistence + live feed. See the module docstring.

    Opens its spatial index through ``ctx.backend``; the live feed
    (:attr:`feed`) joins the node's push bus when the plugin starts."""

    def __init__(
        self,
        ctx: NodeContext,
        *,
        clock: Callable[[], float] = time.time,
        grace: float = 300.0,
        sweep_interval: float = 5.0,
        max_future: float = 300.0,
        max_sources: int = rules.MAX_SOURCES,
        history_points: int = 500,
        history_seconds: float = 24 * 3600.0,
        history_interval: float = 10.0,
        history_heartbeat: float = 60.0,
        history_min_move: float = 25.0,
        history_distance: float = 500.0,
        box_margin: float = 0.02,
        persist_interval: float = 1.0,
        persist_max: int = 8192,
    ) -> None:
        self.ctx = ctx
        self.clock = clock
        self.grace = grace
        self.sweep_interval = sweep_interval
        self.max_future = max_future
        self.max_sources = max_sources
        self.history_points = history_points
        self.history_seconds = history_seconds
        self.history_interval = history_interval
        self.history_heartbeat = history_heartbeat
        self.history_min_move = history_min_move
        self.history_distance = history_distance
        self.box_margin = box_margin
        self.persist_interval = persist_interval
        self.persist_max = persist_max
        self.stats = IngestStats()
        self.feed = PictureFeed(self, ctx.bus)
        self._shown = ShownViews(track_view)
        self._lock = threading.RLock()
        self._entries: dict[str, Observations] = {}
        self._version = 0
        self._store: SpatialIndex[Track] | None = None
        self._listeners: list[TracksListener] = []
        self._report_listeners: list[TracksListener] = []
        self._quarantine: list[Callable[[Track], bool]] = []
        self._last_sweep = 0.0
        # changed since the last commit: entries (latest observations) and history reports
        self._dirty: dict[str, Observations] = {}
        self._pending: list[Track] = []
        self._persisted_at = time.monotonic()

    # -- lifecycle ------------------------------------------------------------
    @property
    def store(self) -> SpatialIndex[Track]:
        """Opened (and the entries loaded) on first use, so CLI commands stay cheap."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    store = self.ctx.backend.spatial_index(
                        Track,
                        history_points=self.history_points,
                        history_interval=self.history_interval,
                        history_heartbeat=self.history_heartbeat,
                        history_min_move=self.history_min_move,
                        history_distance=self.history_distance,
                        box_margin=self.box_margin,
                    )
                    if isinstance(store, RemoteEntries):
                        # Listen first, then load: what falls between comes twice (harmless).
                        store.on_remote_change(self._remote)
                    for tid, observations, _version in store.load():
                        self._entries[tid] = tuple(observations)
                    self._version = store.max_version()
                    self._store = store
                    self._gauge()
        return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self.persist()
                self._store.close()
                self._store = None

    async def run(self) -> None:
        """Periodic commit of pending changes and sweep; the node runs this beside
        the API (the plugin's job)."""
        while True:
            await asyncio.sleep(min(self.persist_interval, self.sweep_interval))
            await asyncio.to_thread(self._tick)

    def _tick(self) -> None:
        self.persist()
        self.maybe_sweep()

    # -- federation hooks -----------------------------------------------------
    def on_tracks(self, callback: TracksListener) -> None:
        """Call ``callback(observations)`` after each committed change (see module doc)."""
        self._listeners.append(callback)

    def on_reports(self, callback: TracksListener) -> None:
        """Call ``callback(reports)`` with every valid report of each batch, in the order
        they came, before coalescing: analytics that need each position (MDA) see the
        same reports whether a file is replayed in large batches or arrives live."""
        self._report_listeners.append(callback)

    def quarantine(self, predicate: Callable[[Track], bool]) -> None:
        """Leave out of every view (queries, the live feed, exports) the fused tracks
        ``predicate`` holds quarantined (an exercise's after ENDEX): the entries are kept,
        not deleted, and :meth:`view_of` with ``quarantined=True`` still shows them."""
        self._quarantine.append(predicate)

    def requarantine(self) -> None:
        """Announce every entry again, so live sessions drop what is quarantined now."""
        with self._lock:
            entries: dict[str, Observations | None] = dict(self._entries)
        self.feed.publish_entries(entries)

    def changes_since(self, cursor: int, limit: int = 1000) -> tuple[list[Track], int]:
        """Observations of entries changed after ``cursor`` and the cursor to resume from."""
        self.persist()
        rows = self.store.changed_since(cursor, limit)
        out = [obs for _tid, observations, _v in rows for obs in observations]
        return out, (rows[-1][2] if rows else cursor)

    # -- ingest ---------------------------------------------------------------
    def ingest(self, tracks: Iterable[Track]) -> None:
        """The sink for AIS, CoT and other sources: merge a batch into the picture."""
        self.apply(tracks)

    def apply(self, tracks: Iterable[Track]) -> IngestResult:
        """Like :meth:`ingest`, returning what happened to each report."""
        result = IngestResult()
        _ = self.store  # opened, and the entries loaded, on first use
        now = self.clock()
        max_future = self.max_future
        report_problem = rules.report_problem
        newer = rules.newer
        accepted: list[Track] = []
        with self._lock:
            # Coalesce first: only the newest report per (object, source) is merged;
            # the others still go to history. AIS files carry many reports per vessel.
            latest: dict[tuple[str, str, str], Track] = {}
            valid: list[Track] = []
            for track in tracks:
                problem = report_problem(track, now, max_future)
                if problem is not None:
                    result.rejected += 1
                    if len(result.problems) < 20:
                        result.problems.append(f"{track.id or '?'}: {problem}")
                    continue
                valid.append(track)
                key = (track.id, track.source, track.source_id)
                held = latest.get(key)
                # same source key: the observation time decides, ties go to newer()
                if (
                    held is None
                    or track.observed_at > held.observed_at
                    or (track.observed_at == held.observed_at and newer(track, held))
                ):
                    latest[key] = track
            result.unchanged += len(valid) - len(latest)
            changed: dict[str, Observations] = {}
            entries = self._entries
            for track in latest.values():
                obs = rules.normalise(track)
                current = changed.get(obs.id)
                if current is None:
                    current = entries.get(obs.id, ())
                new = rules.merge(current, obs, self.max_sources)
                if new is None:
                    result.unchanged += 1
                    continue
                changed[obs.id] = new
                accepted.append(obs)
            if changed:
                entries.update(changed)
                self._dirty.update(changed)
                pending = self._pending
                if len(valid) > len(accepted):
                    pending.extend(t for t in valid if t.id in changed)
                else:
                    pending.extend(accepted)
                if (
                    len(pending) >= self.persist_max
                    or time.monotonic() - self._persisted_at >= self.persist_interval
                ):
                    self.persist()
        result.accepted = len(accepted)
        self.stats.accepted += result.accepted
        self.stats.unchanged += result.unchanged
        self.stats.rejected += result.rejected
        if result.rejected:
            self.ctx.metrics.bad_input.labels("picture", "track").inc(result.rejected)
        if changed:
            self._gauge()
            self.feed.publish_entries(changed)
            self._notify(accepted)
        if valid:
            self._notify_reports(valid)
        self.maybe_sweep(now)
        return result

    def persist(self) -> bool:
        """Commit pending entries and history now (one transaction); False if that failed.

        On failure the error is logged and counted, the entries stay pending
        (retried on the next commit) and the pending history is dropped, so
        memory stays bounded while the disk is unwell."""
        store = self.store
        with self._lock:
            dirty, history = self._dirty, self._pending
            self._persisted_at = time.monotonic()
            if not (dirty or history):
                return True
            self._pending = []
            rows = []
            for tid, observations in dirty.items():
                self._version += 1
                rows.append(EntryRow(tid, observations, rules.box_of(observations), self._version))
            try:
                store.write(rows, history=history)
            except Exception:
                log.exception("picture.persist_failed", entries=len(rows), history=len(history))
                self.ctx.metrics.persist_failures.labels("picture").inc()
                return False
            self._dirty = {}
            return True

    def _remote(self, rows: list[tuple[str, list[Track], int]]) -> None:
        """Entries other workers wrote (on the backend's thread): merge, then announce."""
        now = self.clock()
        changed: dict[str, Observations] = {}
        accepted: list[Track] = []
        with self._lock:
            entries = self._entries
            for tid, observations, version in rows:
                self._version = max(self._version, version)
                stored = rules.expire(tuple(observations), now, self.grace)
                current = changed.get(tid)
                if current is None:
                    current = entries.get(tid, ())
                new = current
                for obs in stored:
                    merged = rules.merge(new, obs, self.max_sources)
                    if merged is not None:
                        new = merged
                        accepted.append(obs)
                if new is not current:
                    changed[tid] = new
                if new and rules.expire(new, now, self.grace) != stored:
                    # We hold observations the stored row lacks: write them again.
                    self._dirty[tid] = new
            entries.update(changed)
        if changed:
            self._gauge()
            self.feed.publish_entries(changed)
            self._notify(accepted)

    def _notify_reports(self, reports: list[Track]) -> None:
        for listener in self._report_listeners:
            try:
                listener(reports)
            except Exception:
                log.exception("picture.report_listener_failed")

    def _notify(self, accepted: list[Track]) -> None:
        for listener in self._listeners:
            try:
                listener(accepted)
            except Exception:
                log.exception("picture.listener_failed")

    def _gauge(self) -> None:
        self.ctx.metrics.tracks.set(len(self._entries))

    # -- stale sweep ----------------------------------------------------------
    def sweep_due(self, now: float | None = None) -> bool:
        now = self.clock() if now is None else now
        return now - self._last_sweep >= self.sweep_interval

    def maybe_sweep(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        if self.sweep_due(now):
            self.sweep(now)

    def sweep(self, now: float | None = None) -> int:
        """Drop observations past stale + grace; announce entries that just went stale."""
        store = self.store
        now = self.clock() if now is None else now
        with self._lock:
            last, self._last_sweep = self._last_sweep, now
            updated: dict[str, Observations] = {}
            removed: list[str] = []
            flipped: dict[str, Observations] = {}
            for tid, observations in self._entries.items():
                kept = rules.expire(observations, now, self.grace)
                if kept is not observations:
                    if kept:
                        updated[tid] = kept
                    else:
                        removed.append(tid)
                elif any(last < o.stale_at <= now for o in observations):
                    flipped[tid] = observations
            if updated or removed:
                if not self.persist():  # pending changes first, then this sweep's
                    self._last_sweep = last  # the disk is unwell: sweep again later
                    return 0
                rows = []
                for tid, observations in updated.items():
                    self._version += 1
                    rows.append(
                        EntryRow(tid, observations, rules.box_of(observations), self._version)
                    )
                store.write(rows, removed=removed)
                self._entries.update(updated)
                for tid in removed:
                    del self._entries[tid]
                    self._shown.discard(tid)
        self.stats.swept += len(removed)
        if updated or removed or flipped:
            self._gauge()
            changes: dict[str, Observations | None] = {**flipped, **updated}
            changes.update(dict.fromkeys(removed))
            self.feed.publish_entries(changes)
        return len(removed)

    # -- reads ----------------------------------------------------------------
    def view_of(
        self,
        observations: Observations,
        principal: Principal,
        now: float,
        *,
        quarantined: bool = False,
    ) -> Track | None:
        """What ``principal`` sees of an entry (``None``: nothing releasable, expired, or
        quarantined unless ``quarantined``)."""
        view = rules.fuse(observations, lambda label: may_release(label, principal))
        if view is None or self._withheld(view, now, quarantined):
            return None
        return view

    def _withheld(self, view: Track, now: float, quarantined: bool = False) -> bool:
        """Expired past the grace period, or quarantined (unless ``quarantined``)."""
        if view.stale_at + self.grace < now:
            return True
        return not quarantined and any(q(view) for q in self._quarantine)

    def shown(
        self, tid: str, observations: Observations, principal: Principal, now: float
    ) -> Shown | None:
        """:meth:`view_of`, with the view's JSON, from views shared by every session
        (``shown.py``): what the live feed sends."""
        mask = tuple(may_release(o.label, principal) for o in observations)
        if not any(mask):
            return None
        shown = self._shown.get(tid, observations, mask)
        if shown is None or self._withheld(shown.view, now):
            return None
        return shown

    def entry(self, track_id: str) -> Observations | None:
        _ = self.store
        return self._entries.get(track_id)

    def visible(self, principal: Principal, track_id: str) -> Track | None:
        observations = self.entry(track_id)
        if observations is None:
            return None
        return self.view_of(observations, principal, self.clock())

    def candidates(self, bbox: BBox | None) -> list[tuple[str, Observations]]:
        """Entries that may lie in ``bbox`` (R*Tree), or all entries."""
        store = self.store
        with self._lock:
            if bbox is None:
                return list(self._entries.items())
            self.persist()  # the R*Tree holds committed boxes
            ids = store.query_bbox(bbox.parts())
            return [(tid, self._entries[tid]) for tid in ids if tid in self._entries]

    def query(self, principal: Principal, bbox: BBox | None = None) -> list[Track]:
        """Tracks ``principal`` may see, inside ``bbox`` if given, ordered by id."""
        now = self.clock()
        out = []
        hidden = 0
        for _tid, observations in self.candidates(bbox):
            view = self.view_of(observations, principal, now)
            if view is None:
                hidden += 1
                continue
            if bbox is None or bbox.contains(view.lat, view.lon):
                out.append(view)
        if hidden:
            self.ctx.metrics.released_denied.labels("picture").inc(hidden)
        out.sort(key=lambda t: t.id)
        return out

    def history(self, principal: Principal, track_id: str, limit: int = 500) -> list[HistoryPoint]:
        """Releasable points of a track the caller may see (the caller checks visibility)."""
        since = self.clock() - self.history_seconds
        self.persist()
        points = self.store.history(track_id, since, min(limit, self.history_points))
        return [p for p in points if may_release(p.label, principal)]

    def __len__(self) -> int:
        _ = self.store
        return len(self._entries)
