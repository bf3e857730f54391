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
* ``track_trails``, ``track_segments``, ``track_labels`` — history, thinned per
  entry and source and bounded per entry (:mod:`kizuna.store.trails`).

Entries are lists of items of one msgspec Struct type, given as ``item_type``
(the picture's ``Track``); the store reads only the attributes of
:class:`~kizuna.store.trails.Positioned` and knows no domain.

Every write is one transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec

from kizuna.store.base import Box, EntryRow, HistoryPoint, Positioned
from kizuna.store.sqlite import connect
from kizuna.store.trails import Trails

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
"""

_enc = msgspec.msgpack.Encoder()

_observed_at = attrgetter("observed_at")


class TrackStore:
    """Entries in the node's SQLite file. Thread-safe (one lock around the connection).

    ``item_type`` is the msgspec Struct the entries hold (``Track`` for the picture)."""

    def __init__(
        self,
        path: Path | str,
        *,
        item_type: type[Any],
        history_points: int = 500,
        history_slack: int = 50,
        history_interval: float = 0.0,
        history_heartbeat: float = 60.0,
        history_min_move: float = 25.0,
        history_distance: float = 500.0,
        box_margin: float = 0.0,
    ) -> None:
        self.path = Path(path)
        self.item_type = item_type
        self.box_margin = box_margin
        self._obs_dec = msgspec.msgpack.Decoder(list[item_type])  # type: ignore[valid-type]
        self._conn: sqlite3.Connection = connect(self.path)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._rids: dict[str, int] = {
            tid: int(rid) for rid, tid in self._conn.execute("SELECT rid, id FROM tracks")
        }
        self._next_rid = max(self._rids.values(), default=0) + 1
        self._trails = Trails(
            self._conn,
            points=history_points,
            slack=history_slack,
            interval=history_interval,
            heartbeat=history_heartbeat,
            min_move=history_min_move,
            distance=history_distance,
        )
        self._boxes: dict[int, Box] = {}  # rid → box as stored in the R*Tree (this session)

    # -- reads ----------------------------------------------------------------
    def load(self) -> Iterator[tuple[str, list[Any], int]]:
        """Every stored entry: (id, observations, version)."""
        rows = self._conn.execute("SELECT id, body, version FROM tracks").fetchall()
        decode = self._obs_dec.decode
        for tid, body, version in rows:
            yield str(tid), decode(body), int(version)

    def max_version(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(version), 0) FROM tracks").fetchone()
        return int(row[0])

    def changed_since(self, version: int, limit: int) -> list[tuple[str, list[Any], int]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, body, version FROM tracks WHERE version > ? ORDER BY version LIMIT ?",
                (version, limit),
            ).fetchall()
        decode = self._obs_dec.decode
        return [(str(t), decode(b), int(v)) for t, b, v in rows]

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
            return [] if rid is None else self._trails.read(self._conn, rid, since, limit)

    # -- writes ---------------------------------------------------------------
    def write(
        self,
        rows: Sequence[EntryRow],
        removed: Sequence[str] = (),
        history: Sequence[Positioned] = (),
    ) -> None:
        """Upsert entries, append history, delete removed entries — one transaction."""
        entries = rows
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
                trails = self._trails
                touched = trails.append(conn, history, rid_of, new_rids) if history else []
                gone = [self._rids[t] for t in removed if t in self._rids]
                if gone:
                    args = [(r,) for r in gone]
                    conn.executemany("DELETE FROM tracks WHERE rid = ?", args)
                    conn.executemany("DELETE FROM track_boxes WHERE id = ?", args)
                    trails.remove(conn, gone)
                trails.prune(conn, touched)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                for tid in new_rids:
                    del self._rids[tid]
                self._trails.reset()  # trail state may be ahead; reloaded lazily
                self._boxes.clear()  # rewritten on next change
                raise
            self._next_rid = next_rid
            self._boxes.update(boxes)
            if removed:
                for tid in removed:
                    rid = self._rids.pop(tid, None)
                    if rid is not None:
                        self._boxes.pop(rid, None)
                self._trails.forget(set(removed), gone)

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

    def history_rows(self, track_id: str) -> int:
        """Rows held for one entry (for tests and diagnostics)."""
        with self._lock:
            rid = self._rids.get(track_id)
            return 0 if rid is None else self._trails.count(self._conn, rid)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
