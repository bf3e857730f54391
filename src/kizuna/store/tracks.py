"""Track storage in SQLite: latest state per entry, an R*Tree of boxes, bounded history.

Uses the node's database file through its own connection. Tables:

* ``tracks`` — one row per picture entry: integer ``rid`` (also the R*Tree key),
  the entry id, a change ``version``, newest position/time columns and the
  observations as a msgpack blob.
* ``track_boxes`` — ``rtree(id, minlon, maxlon, minlat, maxlat)``: a box
  covering an entry's observations (R*Tree coordinates are 32-bit floats
  rounded outwards, so a query returns a superset; callers check exactly).
  With ``box_margin`` (degrees) the stored box is padded by that much and
  rewritten only once the entry leaves it: a moving track costs an R*Tree
  update every few kilometres instead of every report, and queries return a
  few more candidates near their edges.
* ``track_history`` — (rid, observed_at, source, lat, lon, course, speed,
  label): accepted observations, at most ``history_points`` (+ a small
  slack before pruning) per entry; reads return the last ``history_seconds``.

History thinning (trails; ``history_interval`` seconds, 0 = off), per entry
*and source*, against the last point kept:

* not later than it: dropped (a late report never enters a trail);
* less than ``history_interval`` later: kept only if more than
  ``history_distance`` metres away (a jump is never thinned away);
* less than ``history_heartbeat`` later: kept only if it moved more than
  ``history_min_move`` metres (a moored ship gets one point per heartbeat,
  not one per report);
* otherwise kept.

Thinning per source keeps each source's trail — and so each label's —
intact: a frequent SECRET source never thins out the UNCLASSIFIED trail of
the same object. The latest state (``tracks``) is never thinned.

Every write is one transaction.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from operator import attrgetter
from pathlib import Path

import msgspec

from kizuna.core.labels import Label
from kizuna.picture.models import Track
from kizuna.store.sqlite import connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tracks (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    observed_at REAL NOT NULL,
    stale_at REAL NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS tracks_version ON tracks (version);
CREATE VIRTUAL TABLE IF NOT EXISTS track_boxes USING rtree(id, minlon, maxlon, minlat, maxlat);
CREATE TABLE IF NOT EXISTS track_history (
    rid INTEGER NOT NULL,
    observed_at REAL NOT NULL,
    source TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    course REAL,
    speed REAL,
    label BLOB NOT NULL,
    PRIMARY KEY (rid, observed_at, source)
) WITHOUT ROWID;
"""

_enc = msgspec.msgpack.Encoder()
_obs_dec = msgspec.msgpack.Decoder(list[Track])
_label_dec = msgspec.msgpack.Decoder(Label)

Box = tuple[float, float, float, float]  # minlon, maxlon, minlat, maxlat
_METRES_PER_DEGREE = 111_195.0  # of latitude (and of longitude at the equator)
_observed_at = attrgetter("observed_at")
_Point = tuple[float, float, float, float]  # observed_at, lat, lon, cos(lat)


class EntryRow(msgspec.Struct, frozen=True):
    """An entry to write: its observations, the box covering them, its version."""

    id: str
    observations: Sequence[Track]
    box: Box
    version: int


class HistoryPoint(msgspec.Struct, frozen=True):
    observed_at: float
    lat: float
    lon: float
    course: float | None
    speed: float | None
    label: Label


class TrackStore:
    """Tracks in the node's SQLite file. Thread-safe (one lock around the connection)."""

    def __init__(
        self,
        path: Path | str,
        *,
        history_points: int = 500,
        history_seconds: float = 24 * 3600.0,
        history_slack: int = 50,
        history_interval: float = 0.0,
        history_heartbeat: float = 60.0,
        history_min_move: float = 25.0,
        history_distance: float = 500.0,
        box_margin: float = 0.0,
    ) -> None:
        self.path = Path(path)
        self.history_points = history_points
        self.history_seconds = history_seconds
        self.history_slack = history_slack
        self.history_interval = history_interval
        self.history_heartbeat = history_heartbeat
        self.history_min_move = history_min_move
        self.history_distance = history_distance
        self.box_margin = box_margin
        self._conn: sqlite3.Connection = connect(self.path)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._rids: dict[str, int] = {
            tid: int(rid) for rid, tid in self._conn.execute("SELECT rid, id FROM tracks")
        }
        self._next_rid = max(self._rids.values(), default=0) + 1
        self._hist_count: dict[int, int] = {}
        # (id, source, source_id) → the last kept history point (for thinning)
        self._hist_last: dict[tuple[str, str, str], _Point] = {}
        self._labels: dict[bytes, Label] = {}
        self._boxes: dict[int, Box] = {}  # rid → box as stored in the R*Tree (this session)

    # -- reads ----------------------------------------------------------------
    def load(self) -> Iterator[tuple[str, list[Track], int]]:
        """Every stored entry: (id, observations, version)."""
        rows = self._conn.execute("SELECT id, body, version FROM tracks").fetchall()
        for tid, body, version in rows:
            yield str(tid), _obs_dec.decode(body), int(version)

    def max_version(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(version), 0) FROM tracks").fetchone()
        return int(row[0])

    def changed_since(self, version: int, limit: int) -> list[tuple[str, list[Track], int]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, body, version FROM tracks WHERE version > ? ORDER BY version LIMIT ?",
                (version, limit),
            ).fetchall()
        return [(str(t), _obs_dec.decode(b), int(v)) for t, b, v in rows]

    def query_bbox(self, parts: Sequence[tuple[float, float, float, float]]) -> list[str]:
        """Ids of entries whose box meets any of ``parts`` (minlon, minlat, maxlon, maxlat)."""
        ids: list[str] = []
        with self._lock:
            for minlon, minlat, maxlon, maxlat in parts:
                ids.extend(
                    r[0]
                    for r in self._conn.execute(
                        "SELECT t.id FROM track_boxes b JOIN tracks t ON t.rid = b.id"
                        " WHERE b.maxlon >= ? AND b.minlon <= ?"
                        " AND b.maxlat >= ? AND b.minlat <= ?",
                        (minlon, maxlon, minlat, maxlat),
                    )
                )
        return ids if len(parts) == 1 else list(dict.fromkeys(ids))

    def history(self, track_id: str, since: float, limit: int) -> list[HistoryPoint]:
        """The newest ``limit`` points at or after ``since``, oldest first."""
        with self._lock:
            rid = self._rids.get(track_id)
            if rid is None:
                return []
            rows = self._conn.execute(
                "SELECT observed_at, lat, lon, course, speed, label FROM track_history"
                " WHERE rid = ? AND observed_at >= ? ORDER BY observed_at DESC LIMIT ?",
                (rid, since, limit),
            ).fetchall()
        return [
            HistoryPoint(t, lat, lon, course, speed, self._label(blob))
            for t, lat, lon, course, speed, blob in reversed(rows)
        ]

    def _label(self, blob: bytes) -> Label:
        label = self._labels.get(blob)
        if label is None:
            label = _label_dec.decode(blob)
            if len(self._labels) < 10_000:
                self._labels[blob] = label
        return label

    # -- writes ---------------------------------------------------------------
    def write(
        self,
        entries: Sequence[EntryRow],
        history: Sequence[Track] = (),
        removed: Sequence[str] = (),
    ) -> None:
        """Upsert entries, append history, delete removed entries — one transaction."""
        if not (entries or history or removed):
            return
        with self._lock:
            conn = self._conn
            new_rids: dict[str, int] = {}
            next_rid = self._next_rid
            for e in entries:
                if e.id not in self._rids and e.id not in new_rids:
                    new_rids[e.id] = next_rid
                    next_rid += 1
            rid_of = self._rids
            rid_of.update(new_rids)
            conn.execute("BEGIN IMMEDIATE")
            try:
                boxes = self._upsert(conn, entries, rid_of) if entries else {}
                touched = self._append_history(conn, history, rid_of, new_rids) if history else []
                gone = [self._rids[t] for t in removed if t in self._rids]
                if gone:
                    args = [(r,) for r in gone]
                    conn.executemany("DELETE FROM tracks WHERE rid = ?", args)
                    conn.executemany("DELETE FROM track_boxes WHERE id = ?", args)
                    conn.executemany("DELETE FROM track_history WHERE rid = ?", args)
                self._prune(conn, touched)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                for tid in new_rids:
                    del self._rids[tid]
                self._hist_count.clear()  # counts may be off; recount lazily
                self._hist_last.clear()
                self._boxes.clear()  # rewritten on next change
                raise
            self._next_rid = next_rid
            self._boxes.update(boxes)
            for tid in removed:
                rid = self._rids.pop(tid, None)
                if rid is not None:
                    self._hist_count.pop(rid, None)
                    self._boxes.pop(rid, None)
            if removed and self._hist_last:
                gone_ids = set(removed)
                last_of = self._hist_last
                for key in [k for k in last_of if k[0] in gone_ids]:
                    del last_of[key]

    def _upsert(
        self, conn: sqlite3.Connection, entries: Sequence[EntryRow], rid_of: dict[str, int]
    ) -> dict[int, Box]:
        """Upsert entry rows; R*Tree boxes only where the stored (padded) box no
        longer covers the entry. Returns the boxes written, to remember after commit."""
        rows = []
        boxes: dict[int, Box] = {}
        held_boxes = self._boxes
        m = self.box_margin
        for e in entries:
            rid = rid_of[e.id]
            observations = e.observations
            if len(observations) == 1:
                top = observations[0]
                stale = top.stale_at
            else:
                top = max(observations, key=_observed_at)
                stale = max(o.stale_at for o in observations)
            rows.append(
                (
                    rid,
                    e.id,
                    e.version,
                    top.observed_at,
                    stale,
                    top.lat,
                    top.lon,
                    _enc.encode(list(observations)),
                )
            )
            minlon, maxlon, minlat, maxlat = e.box
            held = held_boxes.get(rid)
            if (
                held is None
                or minlon < held[0]
                or maxlon > held[1]
                or minlat < held[2]
                or maxlat > held[3]
            ):
                boxes[rid] = (minlon - m, maxlon + m, minlat - m, maxlat + m)
        conn.executemany(
            "INSERT INTO tracks (rid, id, version, observed_at, stale_at, lat, lon, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rid) DO UPDATE SET"
            " version = excluded.version, observed_at = excluded.observed_at,"
            " stale_at = excluded.stale_at, lat = excluded.lat, lon = excluded.lon,"
            " body = excluded.body",
            rows,
        )
        if boxes:
            conn.executemany(
                "INSERT OR REPLACE INTO track_boxes (id, minlon, maxlon, minlat, maxlat)"
                " VALUES (?, ?, ?, ?, ?)",
                [(rid, *box) for rid, box in boxes.items()],
            )
        return boxes

    def _append_history(
        self,
        conn: sqlite3.Connection,
        history: Sequence[Track],
        rid_of: dict[str, int],
        new_rids: dict[str, int],
    ) -> list[int]:
        rows = []
        added: dict[int, int] = {}
        interval = self.history_interval
        heartbeat = self.history_heartbeat
        # distance thresholds in degrees of latitude, squared
        move2 = (self.history_min_move / _METRES_PER_DEGREE) ** 2
        far2 = (self.history_distance / _METRES_PER_DEGREE) ** 2
        last_of = self._hist_last
        thin = interval > 0.0
        label = None
        blob = b""
        for t in history:
            when, lat, lon = t.observed_at, t.lat, t.lon
            if thin:
                key = (t.id, t.source, t.source_id)
                last = last_of.get(key)
                if last is not None:
                    age = when - last[0]
                    if age <= 0.0:
                        continue  # not after the last kept point
                    if age < heartbeat:
                        dlon = lon - last[2]
                        if dlon > 180.0:
                            dlon -= 360.0
                        elif dlon < -180.0:
                            dlon += 360.0
                        dlon *= last[3]  # cos(latitude)
                        dlat = lat - last[1]
                        if dlat * dlat + dlon * dlon <= (far2 if age < interval else move2):
                            continue
            tid = t.id
            rid = rid_of.get(tid)
            if rid is None:
                continue
            source = t.source + ":" + t.source_id
            if thin:
                if last is None and tid not in new_rids:  # first point since start-up
                    last = self._last_point(conn, rid, source)
                    if last is not None:
                        last_of[key] = last
                        if not self._keep(last, when, lat, lon):
                            continue
                last_of[key] = (when, lat, lon, math.cos(math.radians(lat)))
            if t.label is not label:  # sources share label objects: encode once
                label = t.label
                blob = _enc.encode(label)
            rows.append((rid, when, source, lat, lon, t.course, t.speed, blob))
            added[rid] = added.get(rid, 0) + 1
        conn.executemany(
            "INSERT OR IGNORE INTO track_history"
            " (rid, observed_at, source, lat, lon, course, speed, label)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        over = []
        limit = self.history_points + self.history_slack
        for rid, n in added.items():
            count = self._hist_count.get(rid)
            if count is None:
                row = conn.execute(
                    "SELECT count(*) FROM track_history WHERE rid = ?", (rid,)
                ).fetchone()
                count = int(row[0])
            else:
                count += n
            self._hist_count[rid] = count
            if count > limit:
                over.append(rid)
        return over

    @staticmethod
    def _last_point(conn: sqlite3.Connection, rid: int, source: str) -> _Point | None:
        row = conn.execute(
            "SELECT observed_at, lat, lon FROM track_history WHERE rid = ? AND source = ?"
            " ORDER BY observed_at DESC LIMIT 1",
            (rid, source),
        ).fetchone()
        if row is None:
            return None
        return (float(row[0]), float(row[1]), float(row[2]), math.cos(math.radians(row[1])))

    def _keep(self, last: _Point, when: float, lat: float, lon: float) -> bool:
        """The thinning rule (module docstring) for a point after ``last``; the
        loop in :meth:`_append_history` inlines it."""
        age = when - last[0]
        if age <= 0.0:
            return False
        if age >= self.history_heartbeat:
            return True
        dlon = abs(lon - last[2])
        if dlon > 180.0:
            dlon = 360.0 - dlon
        dlon *= last[3]
        dlat = lat - last[1]
        limit = self.history_distance if age < self.history_interval else self.history_min_move
        return dlat * dlat + dlon * dlon > (limit / _METRES_PER_DEGREE) ** 2

    def _prune(self, conn: sqlite3.Connection, rids: Sequence[int]) -> None:
        """Keep the newest ``history_points`` rows of each entry in ``rids``."""
        for rid in rids:
            row = conn.execute(
                "SELECT observed_at FROM track_history WHERE rid = ?"
                " ORDER BY observed_at DESC LIMIT 1 OFFSET ?",
                (rid, self.history_points - 1),
            ).fetchone()
            if row is not None:
                conn.execute(
                    "DELETE FROM track_history WHERE rid = ? AND observed_at < ?", (rid, row[0])
                )
            count = conn.execute(
                "SELECT count(*) FROM track_history WHERE rid = ?", (rid,)
            ).fetchone()
            self._hist_count[rid] = int(count[0])

    def history_rows(self, track_id: str) -> int:
        """Rows held for one entry (for tests and diagnostics)."""
        with self._lock:
            rid = self._rids.get(track_id)
            if rid is None:
                return 0
            return int(
                self._conn.execute(
                    "SELECT count(*) FROM track_history WHERE rid = ?", (rid,)
                ).fetchone()[0]
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
