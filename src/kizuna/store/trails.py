"""Track history (trails) in SQLite: thinned per entry and source, bounded per entry.

A *trail* is the history of one source about one picture entry: one row in
``track_trails`` (``trail`` id, entry ``rid``, ``source`` as
``"source:source_id"``). Its points live in ``track_segments``: the points a
trail gained in one write, packed (msgpack rows of observed_at, lat, lon,
course, speed and label, the label an integer into ``track_labels``), keyed
by ``(trail, first point's time)``. A live feed writes about one point per
trail per commit, so a segment is a point; a bulk import writes tens of
points per row instead of one row per point. A trail only moves forward in
time: a point not after its last kept point is dropped (so replays are
idempotent).

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

import sqlite3
from collections.abc import Collection, Mapping, Sequence
from operator import itemgetter

import msgspec

from kizuna.core.labels import Label
from kizuna.store.base import HistoryPoint, Positioned
from kizuna.store.thinning import Thinning, TrailState, thin

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
CREATE TABLE IF NOT EXISTS track_segments (
    trail INTEGER NOT NULL,
    first_at REAL NOT NULL,
    last_at REAL NOT NULL,
    n INTEGER NOT NULL,
    points BLOB NOT NULL,
    PRIMARY KEY (trail, first_at)
) WITHOUT ROWID;
DROP TABLE IF EXISTS track_history;
DROP TABLE IF EXISTS track_points;
"""
# (track_history, track_points: one row per point, in earlier builds)

_Row = tuple[
    float, float, float, float | None, float | None, int
]  # when, lat, lon, cog, sog, label
_seg_enc = msgspec.msgpack.Encoder()
_seg_dec = msgspec.msgpack.Decoder(list[_Row])
_when = itemgetter(0)

_enc = msgspec.msgpack.Encoder()
_label_dec = msgspec.msgpack.Decoder(Label)
_OF_ENTRY = "SELECT trail FROM track_trails WHERE rid = ?"


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
        self._trails: dict[tuple[str, str, str], TrailState] = {}
        self._counts: dict[int, int] = {}  # rid → points held

    # -- writes (inside the caller's transaction) -----------------------------
    def append(
        self,
        conn: sqlite3.Connection,
        history: Sequence[Positioned],
        rid_of: Mapping[str, int],
        new_ids: Collection[str],
    ) -> list[int]:
        """Thin ``history`` and write what is kept, one segment per trail;
        returns the rids now over their limit."""
        trails = self._trails

        def trail_of(t: Positioned) -> TrailState | None:
            key = (t.id, t.source, t.source_id)
            trail = trails.get(key)
            return trail if trail is not None else self._open(conn, key, rid_of, new_ids)

        rule = Thinning(self.interval, self.heartbeat, self.min_move, self.distance)
        gained: dict[TrailState, list[_Row]] = {}
        label: Label | None = None
        label_id = 0
        for trail, kept in thin(history, trail_of, rule).items():
            points = gained[trail] = []
            for t in kept:
                if t.label is not label:  # sources share label objects: look up once
                    label = t.label
                    label_id = self._label_id(conn, label)
                points.append((t.observed_at, t.lat, t.lon, t.course, t.speed, label_id))
        if not gained:
            return []
        encode = _seg_enc.encode
        conn.executemany(
            "INSERT INTO track_segments (trail, first_at, last_at, n, points)"
            " VALUES (?, ?, ?, ?, ?)",
            [(tr.id, pts[0][0], pts[-1][0], len(pts), encode(pts)) for tr, pts in gained.items()],
        )
        added: dict[int, int] = {}
        for tr, pts in gained.items():
            added[tr.rid] = added.get(tr.rid, 0) + len(pts)
        over = []
        limit = self.points + self.slack
        counts = self._counts
        for rid, n in added.items():
            count = counts.get(rid)
            count = self.count(conn, rid) if count is None else count + n
            counts[rid] = count
            if count > limit:
                over.append(rid)
        return over

    def prune(self, conn: sqlite3.Connection, rids: Sequence[int]) -> None:
        """Keep the newest ``points`` points of each entry in ``rids``."""
        for rid in rids:
            segments = [
                (trail, first, _seg_dec.decode(blob))
                for trail, first, blob in conn.execute(
                    f"SELECT trail, first_at, points FROM track_segments WHERE trail IN ({_OF_ENTRY})",
                    (rid,),
                )
            ]
            times = sorted(p[0] for _, _, pts in segments for p in pts)
            if len(times) > self.points:
                cutoff = times[-self.points]
                for trail, first, pts in segments:
                    if pts[0][0] >= cutoff:
                        continue
                    conn.execute(
                        "DELETE FROM track_segments WHERE trail = ? AND first_at = ?",
                        (trail, first),
                    )
                    kept = [p for p in pts if p[0] >= cutoff]
                    if kept:
                        conn.execute(
                            "INSERT INTO track_segments (trail, first_at, last_at, n, points)"
                            " VALUES (?, ?, ?, ?, ?)",
                            (trail, kept[0][0], kept[-1][0], len(kept), _seg_enc.encode(kept)),
                        )
            self._counts[rid] = self.count(conn, rid)

    def remove(self, conn: sqlite3.Connection, rids: Sequence[int]) -> None:
        args = [(r,) for r in rids]
        conn.executemany(f"DELETE FROM track_segments WHERE trail IN ({_OF_ENTRY})", args)
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
        points = [
            p
            for (blob,) in conn.execute(
                "SELECT s.points FROM track_trails t JOIN track_segments s ON s.trail = t.trail"
                " WHERE t.rid = ? AND s.last_at >= ?",
                (rid, since),
            )
            for p in _seg_dec.decode(blob)
            if p[0] >= since
        ]
        points.sort(key=_when)
        return [
            HistoryPoint(when, lat, lon, course, speed, self._label(conn, lid))
            for when, lat, lon, course, speed, lid in points[-limit:]
        ]

    # -- helpers --------------------------------------------------------------
    def _open(
        self,
        conn: sqlite3.Connection,
        key: tuple[str, str, str],
        rid_of: Mapping[str, int],
        new_ids: Collection[str],
    ) -> TrailState | None:
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
            trail = TrailState(int(cur.lastrowid or 0), rid)
        else:
            trail = TrailState(int(row[0]), rid)
            newest = conn.execute(
                "SELECT points FROM track_segments WHERE trail = ? ORDER BY first_at DESC LIMIT 1",
                (trail.id,),
            ).fetchone()
            if newest is not None:
                when, lat, lon, *_ = _seg_dec.decode(newest[0])[-1]
                trail.keep(when, lat, lon)
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
    def count(conn: sqlite3.Connection, rid: int) -> int:
        """Points held for one entry."""
        row = conn.execute(
            f"SELECT coalesce(sum(n), 0) FROM track_segments WHERE trail IN ({_OF_ENTRY})", (rid,)
        ).fetchone()
        return int(row[0])
