"""Track history (trails) in SQLite: thinned per entry and source, bounded per entry.

A *trail* is the history of one source about one picture entry: one row in
``track_trails`` (``trail`` id, entry ``rid``, ``source`` as
``"source:source_id"``). Its points live in ``track_points``, keyed by
``(trail, observed_at)``, with the point's label as an integer into
``track_labels`` (labels are few and repeat on every point: interned, a row
stays narrow and inserts stay cheap at AIS rates).

Thinning (``interval`` seconds, 0 = off), per trail, against the last point
kept:

* not later than it: dropped (a late report never enters a trail);
* less than ``interval`` later: kept only if more than ``distance`` metres
  away (a jump is never thinned away);
* less than ``heartbeat`` later: kept only if it moved more than
  ``min_move`` metres (a moored ship gets one point per heartbeat, not one
  per report);
* otherwise kept.

Thinning per source keeps each source's trail — and so each label's — intact:
a frequent SECRET source never thins out the UNCLASSIFIED trail of the same
object. At most ``points`` (+ ``slack`` before pruning) points are kept per
entry, across its trails. All writes run inside the caller's transaction; on
rollback the caller calls :meth:`Trails.reset`.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Collection, Mapping, Sequence

import msgspec

from kizuna.core.labels import Label
from kizuna.picture.models import Track

SCHEMA = """
CREATE TABLE IF NOT EXISTS track_labels (
    id INTEGER PRIMARY KEY,
    body BLOB NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS track_trails (
    trail INTEGER PRIMARY KEY,
    rid INTEGER NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (rid, source)
);
CREATE TABLE IF NOT EXISTS track_points (
    trail INTEGER NOT NULL,
    observed_at REAL NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    course REAL,
    speed REAL,
    label INTEGER NOT NULL,
    PRIMARY KEY (trail, observed_at)
) WITHOUT ROWID;
DROP TABLE IF EXISTS track_history;
"""
# (track_history: the one wide table of earlier builds, one encoded label per point)

_enc = msgspec.msgpack.Encoder()
_label_dec = msgspec.msgpack.Decoder(Label)
METRES_PER_DEGREE = 111_195.0  # of latitude (and of longitude at the equator)
_OF_ENTRY = "SELECT trail FROM track_trails WHERE rid = ?"


class HistoryPoint(msgspec.Struct, frozen=True):
    observed_at: float
    lat: float
    lon: float
    course: float | None
    speed: float | None
    label: Label


class _Trail:
    """One trail's id, entry, and last kept point (for thinning)."""

    __slots__ = ("cos", "id", "lat", "lon", "rid", "when")

    def __init__(self, trail: int, rid: int) -> None:
        self.id = trail
        self.rid = rid
        self.when = -math.inf
        self.lat = 0.0
        self.lon = 0.0
        self.cos = 1.0

    def keep(self, when: float, lat: float, lon: float) -> None:
        self.when = when
        self.lat = lat
        self.lon = lon
        self.cos = math.cos(math.radians(lat))


class Trails:
    """Trail state of one :class:`~kizuna.store.tracks.TrackStore` (its lock held)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        points: int,
        slack: int,
        interval: float,
        heartbeat: float,
        min_move: float,
        distance: float,
    ) -> None:
        conn.executescript(SCHEMA)
        self.points = points
        self.slack = slack
        self.interval = interval
        self.heartbeat = heartbeat
        self.min_move = min_move
        self.distance = distance
        self._labels: dict[int, Label] = {}
        self._label_ids: dict[bytes, int] = {}
        for lid, body in conn.execute("SELECT id, body FROM track_labels"):
            self._label_ids[body] = lid
        # (entry id, source, source_id) → trail, loaded on first use
        self._trails: dict[tuple[str, str, str], _Trail] = {}
        self._counts: dict[int, int] = {}  # rid → points held

    # -- writes (inside the caller's transaction) -----------------------------
    def append(
        self,
        conn: sqlite3.Connection,
        history: Sequence[Track],
        rid_of: Mapping[str, int],
        new_ids: Collection[str],
    ) -> list[int]:
        """Thin and insert ``history``; returns the rids now over their limit."""
        rows = []
        added: dict[int, int] = {}
        trails = self._trails
        thin = self.interval > 0.0
        interval = self.interval
        heartbeat = self.heartbeat
        # distance thresholds in degrees of latitude, squared
        move2 = (self.min_move / METRES_PER_DEGREE) ** 2
        far2 = (self.distance / METRES_PER_DEGREE) ** 2
        label: Label | None = None
        label_id = 0
        for t in history:
            key = (t.id, t.source, t.source_id)
            trail = trails.get(key)
            if trail is None:
                trail = self._open(conn, key, rid_of, new_ids)
                if trail is None:
                    continue
            when, lat, lon = t.observed_at, t.lat, t.lon
            if thin:
                age = when - trail.when
                if age <= 0.0:
                    continue  # not after the last kept point
                if age < heartbeat:
                    dlon = lon - trail.lon
                    if dlon > 180.0:
                        dlon -= 360.0
                    elif dlon < -180.0:
                        dlon += 360.0
                    dlon *= trail.cos
                    dlat = lat - trail.lat
                    if dlat * dlat + dlon * dlon <= (far2 if age < interval else move2):
                        continue
                trail.keep(when, lat, lon)
            if t.label is not label:  # sources share label objects: look up once
                label = t.label
                label_id = self._label_id(conn, label)
            rows.append((trail.id, when, lat, lon, t.course, t.speed, label_id))
            rid = trail.rid
            added[rid] = added.get(rid, 0) + 1
        conn.executemany(
            "INSERT OR IGNORE INTO track_points"
            " (trail, observed_at, lat, lon, course, speed, label) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        over = []
        limit = self.points + self.slack
        counts = self._counts
        for rid, n in added.items():
            count = counts.get(rid)
            count = self._count(conn, rid) if count is None else count + n
            counts[rid] = count
            if count > limit:
                over.append(rid)
        return over

    def prune(self, conn: sqlite3.Connection, rids: Sequence[int]) -> None:
        """Keep the newest ``points`` points of each entry in ``rids``."""
        for rid in rids:
            row = conn.execute(
                f"SELECT observed_at FROM track_points WHERE trail IN ({_OF_ENTRY})"
                " ORDER BY observed_at DESC LIMIT 1 OFFSET ?",
                (rid, self.points - 1),
            ).fetchone()
            if row is not None:
                conn.execute(
                    f"DELETE FROM track_points WHERE trail IN ({_OF_ENTRY}) AND observed_at < ?",
                    (rid, row[0]),
                )
            self._counts[rid] = self._count(conn, rid)

    def remove(self, conn: sqlite3.Connection, rids: Sequence[int]) -> None:
        args = [(r,) for r in rids]
        conn.executemany(f"DELETE FROM track_points WHERE trail IN ({_OF_ENTRY})", args)
        conn.executemany("DELETE FROM track_trails WHERE rid = ?", args)

    # -- in-memory state ------------------------------------------------------
    def forget(self, ids: Collection[str], rids: Collection[int]) -> None:
        """After a committed removal: drop the state of removed entries."""
        for rid in rids:
            self._counts.pop(rid, None)
        trails = self._trails
        for key in [k for k in trails if k[0] in ids]:
            del trails[key]

    def reset(self) -> None:
        """After a rollback: state may be ahead of the database; reload lazily."""
        self._trails.clear()
        self._counts.clear()
        self._label_ids.clear()

    # -- reads ----------------------------------------------------------------
    def read(
        self, conn: sqlite3.Connection, rid: int, since: float, limit: int
    ) -> list[HistoryPoint]:
        """The newest ``limit`` points of an entry at or after ``since``, oldest first."""
        rows = conn.execute(
            "SELECT p.observed_at, p.lat, p.lon, p.course, p.speed, p.label"
            " FROM track_trails t JOIN track_points p ON p.trail = t.trail"
            " WHERE t.rid = ? AND p.observed_at >= ? ORDER BY p.observed_at DESC LIMIT ?",
            (rid, since, limit),
        ).fetchall()
        return [
            HistoryPoint(when, lat, lon, course, speed, self._label(conn, lid))
            for when, lat, lon, course, speed, lid in reversed(rows)
        ]

    def count(self, conn: sqlite3.Connection, rid: int) -> int:
        return self._count(conn, rid)

    # -- helpers --------------------------------------------------------------
    def _open(
        self,
        conn: sqlite3.Connection,
        key: tuple[str, str, str],
        rid_of: Mapping[str, int],
        new_ids: Collection[str],
    ) -> _Trail | None:
        """The trail of ``key``: loaded with its last point, or created."""
        rid = rid_of.get(key[0])
        if rid is None:
            return None  # no entry: history without a picture entry is not kept
        source = key[1] + ":" + key[2]
        fresh = key[0] in new_ids
        if fresh:
            self._counts.setdefault(rid, 0)
        row = (
            None
            if fresh
            else conn.execute(
                "SELECT trail FROM track_trails WHERE rid = ? AND source = ?", (rid, source)
            ).fetchone()
        )
        if row is None:
            cur = conn.execute(
                "INSERT INTO track_trails (rid, source) VALUES (?, ?)", (rid, source)
            )
            trail = _Trail(int(cur.lastrowid or 0), rid)
        else:
            trail = _Trail(int(row[0]), rid)
            last = conn.execute(
                "SELECT observed_at, lat, lon FROM track_points WHERE trail = ?"
                " ORDER BY observed_at DESC LIMIT 1",
                (trail.id,),
            ).fetchone()
            if last is not None:
                trail.keep(float(last[0]), float(last[1]), float(last[2]))
        self._trails[key] = trail
        return trail

    def _label_id(self, conn: sqlite3.Connection, label: Label) -> int:
        body = _enc.encode(label)
        lid = self._label_ids.get(body)
        if lid is None:
            row = conn.execute("SELECT id FROM track_labels WHERE body = ?", (body,)).fetchone()
            if row is None:
                row = conn.execute(
                    "INSERT INTO track_labels (body) VALUES (?) RETURNING id", (body,)
                ).fetchone()
            lid = self._label_ids[body] = int(row[0])
        return lid

    def _label(self, conn: sqlite3.Connection, lid: int) -> Label:
        label = self._labels.get(lid)
        if label is None:
            row = conn.execute("SELECT body FROM track_labels WHERE id = ?", (lid,)).fetchone()
            label = self._labels[lid] = _label_dec.decode(row[0])
        return label

    @staticmethod
    def _count(conn: sqlite3.Connection, rid: int) -> int:
        row = conn.execute(
            f"SELECT count(*) FROM track_points WHERE trail IN ({_OF_ENTRY})", (rid,)
        ).fetchone()
        return int(row[0])
