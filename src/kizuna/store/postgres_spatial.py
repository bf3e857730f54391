"""The spatial index in PostgreSQL + PostGIS: latest items per entry, boxes under GiST,
a change feed and thinned, bounded history.

Tables (``postgres_migrations``):

* ``tracks`` — one row per entry: ``rid`` (identity), the entry id, its ``version``,
  newest position and time, the items as msgpack, and ``history_n`` (points held).
* ``track_boxes`` — ``rid`` → ``box geometry(Polygon, 4326)`` with a GiST index, and a
  copy of the entry's ``id``, so a bounding-box query reads this table alone. Boxes
  are planar lon/lat rectangles (the caller splits a query at the antimeridian), so
  ``&&`` on the index answers a bounding-box query without a geography's great-circle
  edges. Boxes live apart from ``tracks``: a report rewrites the entry's row (a new
  tuple and new entries in its b-tree indexes, as MVCC does), but the GiST entry only
  when the entry leaves its stored box. With ``box_margin`` the stored box is padded,
  so a moving entry costs a GiST update every few kilometres, not every report. (The id
  is not an ``INCLUDE`` column of the index: PostGIS's 2D opclass cannot return the
  box, so no scan is index-only, and the index would only grow.)
* ``track_trails`` — one per (entry, source), with its last kept point, so thinning
  needs no state in the process (several workers may write); ``track_segments`` — the
  points a trail gained in one write, packed; ``track_labels`` — labels interned.

Every write is one transaction that first locks the single ``track_head`` row, so writes
of several workers are serialised and entry versions are handed out, and become visible,
in commit order: a change feed (``version > cursor``) never steps over a write that
commits later. A row's version is the caller's, raised above every version committed
before if it is not. Rows of a trail are locked (``FOR UPDATE``) while it is extended,
so two writers never both append after the same last point.

Several workers (ADR 0011): each entry row names the backend instance that wrote it, and
a write sends ``pg_notify`` in its transaction. :meth:`PgSpatialIndex.on_remote_change`
listeners get the entries other writers wrote, from the feed's thread. An entry another
writer changed since this process last looked, and that this write replaces, is read in
the same transaction (under the head lock) and handed on too, so no one's observation is
overwritten unseen.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from operator import attrgetter, itemgetter
from typing import Any

import msgspec
import structlog
from psycopg import Connection
from psycopg.rows import TupleRow

from kizuna.core.labels import Label
from kizuna.store.base import EntriesListener, EntryRow, HistoryPoint, Positioned
from kizuna.store.postgres import Pool
from kizuna.store.postgres_feed import PgFeed, own_position
from kizuna.store.thinning import Thinning, TrailState, thin

_Row = tuple[
    float, float, float, float | None, float | None, int
]  # when, lat, lon, cog, sog, label
_enc = msgspec.msgpack.Encoder()
_seg_dec = msgspec.msgpack.Decoder(list[_Row])
_label_dec = msgspec.msgpack.Decoder(Label)
_when = itemgetter(0)
_observed_at = attrgetter("observed_at")

log = structlog.get_logger("kizuna.store")

FOLLOW_BATCH = 1000  # entries read per step when catching up with other workers

# The first parameter is the writer.
_UPSERT = (
    "INSERT INTO tracks AS t (writer, id, version, observed_at, stale_at, lat, lon, body)"
    " SELECT %s::bigint, * FROM unnest(%b::text[], %b::bigint[], %b::float8[], %b::float8[],"
    " %b::float8[], %b::float8[], %b::bytea[])"
    " ON CONFLICT (id) DO UPDATE SET writer = excluded.writer, version = excluded.version,"
    " observed_at = excluded.observed_at, stale_at = excluded.stale_at, lat = excluded.lat,"
    " lon = excluded.lon, body = excluded.body"
    " RETURNING id, rid"
)
# Moves the version head and wakes the other workers, in the writing transaction.
_MOVE_HEAD = (
    "WITH h AS (UPDATE track_head SET version = %s WHERE id = 1 RETURNING version)"
    " SELECT pg_notify(%s, %s) FROM h"
)
_OTHERS = (
    "SELECT id, version, CASE WHEN writer IS DISTINCT FROM %s THEN body END FROM tracks"
    " WHERE version > %s ORDER BY version"
)
# The padded box; an existing box is rewritten only when it no longer covers the entry.
_BOXES = (
    "INSERT INTO track_boxes AS b (rid, id, box)"
    " SELECT u.rid, u.id,"
    " ST_MakeEnvelope(u.x0 - %(m)s, u.y0 - %(m)s, u.x1 + %(m)s, u.y1 + %(m)s, 4326)"
    " FROM unnest(%(rid)b::bigint[], %(id)b::text[], %(x0)b::float8[], %(x1)b::float8[],"
    " %(y0)b::float8[], %(y1)b::float8[]) AS u (rid, id, x0, x1, y0, y1)"
    " ON CONFLICT (rid) DO UPDATE SET box = excluded.box"
    " WHERE NOT b.box ~ ST_Expand(excluded.box, -%(m)s)"
)


class PgSpatialIndex:
    """Entries of one item type (a msgspec Struct) in the node's schema; thread-safe."""

    def __init__(
        self,
        pool: Pool,
        *,
        item_type: type[Any],
        history_points: int = 500,
        history_slack: int = 50,
        history_interval: float = 0.0,
        history_heartbeat: float = 60.0,
        history_min_move: float = 25.0,
        history_distance: float = 500.0,
        box_margin: float = 0.0,
        writer: int = 0,
        feed: PgFeed | None = None,
        channel: str = "kizuna_tracks",
    ) -> None:
        self._pool = pool
        self.item_type = item_type
        self.box_margin = float(box_margin)
        self.points = history_points
        self.slack = history_slack
        self.thinning = Thinning(
            history_interval, history_heartbeat, history_min_move, history_distance
        )
        self._obs_dec = msgspec.msgpack.Decoder(list[item_type])  # type: ignore[valid-type]
        self._label_ids: dict[bytes, int] = {}  # committed labels only
        self._labels: dict[int, Label] = {}
        self._writer = writer
        self._feed = feed
        self._channel = channel
        self._listeners: list[EntriesListener] = []
        # Guards _seen and _stash; never held while listeners run (they take writers' locks).
        self._follow_lock = threading.Lock()
        self._stash: list[tuple[str, list[Any], int]] = []  # others' rows read by a write
        with pool.connection() as conn:
            row = conn.execute("SELECT version FROM track_head").fetchone()
        # Other writers' entries above this version are news to this process's listeners.
        self._seen = int(row[0]) if row else 0

    # -- other workers' writes --------------------------------------------------
    def on_remote_change(self, listener: EntriesListener) -> None:
        """See :class:`kizuna.store.base.RemoteEntries`."""
        first = not self._listeners
        self._listeners.append(listener)
        if first and self._feed is not None:
            self._feed.follow(self._channel, self._woken)

    def _woken(self, payloads: list[str] | None) -> None:
        """The feed's thread: other workers may have written (``None``: catch up)."""
        with self._follow_lock:
            rows, self._stash = self._stash, []
            top = None if payloads is None else own_position(payloads, self._writer)
            if top is not None:  # only our own writes: they read what they replaced
                self._seen = max(self._seen, top)
            else:
                rows += self._read_others()
        if rows:
            for listener in self._listeners:
                try:
                    listener(rows)
                except Exception:
                    log.exception("spatial listener failed (other worker's entries)")

    def _read_others(self) -> list[tuple[str, list[Any], int]]:
        """Other writers' entries above ``_seen`` (under the follow lock); moves ``_seen``."""
        decode = self._obs_dec.decode
        out: list[tuple[str, list[Any], int]] = []
        while True:
            with self._pool.connection() as conn:
                rows = conn.execute(
                    _OTHERS + " LIMIT %s", (self._writer, self._seen, FOLLOW_BATCH)
                ).fetchall()
            if not rows:
                return out
            self._seen = int(rows[-1][1])
            out += [(str(t), decode(b), int(v)) for t, v, b in rows if b is not None]
            if len(rows) < FOLLOW_BATCH:
                return out

    # -- reads ----------------------------------------------------------------
    def load(self) -> Iterator[tuple[str, list[Any], int]]:
        """Every stored entry: (id, observations, version)."""
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT id, body, version FROM tracks").fetchall()
        decode = self._obs_dec.decode
        for tid, body, version in rows:
            yield str(tid), decode(body), int(version)

    def max_version(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT coalesce(max(version), 0) FROM tracks").fetchone()
        return int(row[0]) if row else 0

    def changed_since(self, version: int, limit: int) -> list[tuple[str, list[Any], int]]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT id, body, version FROM tracks WHERE version > %s ORDER BY version LIMIT %s",
                (version, limit),
            ).fetchall()
        decode = self._obs_dec.decode
        return [(str(t), decode(b), int(v)) for t, b, v in rows]

    def query_bbox(self, parts: Sequence[tuple[float, float, float, float]]) -> list[str]:
        """Ids of entries whose box meets any of ``parts`` (minlon, minlat, maxlon, maxlat)."""
        if not parts:
            return []
        # One statement, each part its own index scan (OR becomes a BitmapOr): each id once.
        # The id sits beside its box: no join to the wide rows of ``tracks``.
        meets = " OR ".join(["box && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"] * len(parts))
        args = [float(c) for part in parts for c in part]
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT id FROM track_boxes WHERE " + meets, args).fetchall()
        return [str(r[0]) for r in rows]

    def history(self, track_id: str, since: float, limit: int) -> list[HistoryPoint]:
        """The newest ``limit`` points at or after ``since``, oldest first."""
        with self._pool.connection() as conn:
            blobs = conn.execute(
                "SELECT s.points FROM tracks k JOIN track_trails t ON t.rid = k.rid"
                " JOIN track_segments s ON s.trail = t.trail"
                " WHERE k.id = %s AND s.last_at >= %s",
                (track_id, since),
            ).fetchall()
            points = [p for (blob,) in blobs for p in _seg_dec.decode(blob) if p[0] >= since]
            points.sort(key=_when)
            points = points[-limit:]
            labels = self._label_objects(conn, {p[5] for p in points})
        return [
            HistoryPoint(when, lat, lon, course, speed, labels[lid])
            for when, lat, lon, course, speed, lid in points
        ]

    # -- writes ---------------------------------------------------------------
    def write(
        self,
        rows: Sequence[EntryRow],
        removed: Sequence[str] = (),
        history: Sequence[Positioned] = (),
    ) -> None:
        """Upsert entries, append history, delete removed entries — one transaction."""
        if not (rows or history or removed):
            return
        new_labels: dict[bytes, int] = {}
        following = bool(self._listeners)
        others: list[tuple[str, list[Any], int]] = []
        # The follow lock before a connection, as the feed's thread takes them; held until
        # the stash is filled, so the thread woken by this write's notification finds it.
        with self._follow_lock:
            with self._pool.connection() as conn, conn.transaction():
                head_row = conn.execute(
                    "SELECT version FROM track_head WHERE id = 1 FOR UPDATE"
                ).fetchone()
                assert head_row is not None, "track_head has no row (schema not migrated)"
                head = int(head_row[0])
                if rows and following and head > self._seen:
                    # What others wrote since we looked, before this write replaces any of it.
                    decode = self._obs_dec.decode
                    others = [
                        (str(t), decode(b), int(v))
                        for t, v, b in conn.execute(_OTHERS, (self._writer, self._seen))
                        if b is not None
                    ]
                rid_of, top = self._upsert(conn, rows, head) if rows else ({}, head)
                if history:
                    self._append(conn, history, rid_of, new_labels)
                if removed:
                    conn.execute("DELETE FROM tracks WHERE id = ANY(%b::text[])", (list(removed),))
                if top > head:
                    conn.execute(_MOVE_HEAD, (top, self._channel, f"{self._writer}:{top}"))
            # committed
            self._label_ids.update(new_labels)
            if following and rows:
                # Everything up to our head is ours or read above (the head lock was held).
                self._stash += others
                self._seen = max(self._seen, top)

    def _upsert(
        self, conn: Connection[TupleRow], entries: Sequence[EntryRow], head: int
    ) -> tuple[dict[str, int], int]:
        """Write the entries at versions above ``head``; (rid by id, the highest version)."""
        latest = {e.id: e for e in entries}  # an entry twice in one write: the last counts
        ids: list[str] = []
        versions: list[int] = []
        observed: list[float] = []
        stales: list[float] = []
        lats: list[float] = []
        lons: list[float] = []
        bodies: list[bytes] = []
        for e in latest.values():
            observations = e.observations
            if len(observations) == 1:
                top = observations[0]
                stale = top.stale_at
            else:
                top = max(observations, key=_observed_at)
                stale = max(o.stale_at for o in observations)
            head = max(e.version, head + 1)  # the caller's, unless taken already
            ids.append(e.id)
            versions.append(head)
            observed.append(top.observed_at)
            stales.append(stale)
            lats.append(top.lat)
            lons.append(top.lon)
            bodies.append(_enc.encode(list(observations)))
        cols = (self._writer, ids, versions, observed, stales, lats, lons, bodies)
        rid_of = {str(tid): int(rid) for tid, rid in conn.execute(_UPSERT, cols).fetchall()}
        box = [e.box for e in latest.values()]
        conn.execute(
            _BOXES,
            {
                "m": self.box_margin,
                "rid": [rid_of[tid] for tid in ids],
                "id": ids,
                "x0": [float(b[0]) for b in box],
                "x1": [float(b[1]) for b in box],
                "y0": [float(b[2]) for b in box],
                "y1": [float(b[3]) for b in box],
            },
        )
        return rid_of, head

    def _append(
        self,
        conn: Connection[TupleRow],
        history: Sequence[Positioned],
        rid_of: dict[str, int],
        new_labels: dict[bytes, int],
    ) -> None:
        """Thin ``history`` against each trail's last kept point and write what is kept."""
        missing = list({t.id for t in history} - rid_of.keys())
        if missing:
            rid_of = dict(rid_of)
            rid_of.update(
                (str(tid), int(rid))
                for tid, rid in conn.execute(
                    "SELECT id, rid FROM tracks WHERE id = ANY(%b::text[])", (missing,)
                ).fetchall()
            )
        # history without an entry is not kept
        keys = {(rid_of[t.id], t.source + ":" + t.source_id) for t in history if t.id in rid_of}
        if not keys:
            return
        rids, sources = (list(c) for c in zip(*keys, strict=True))
        conn.execute(
            "INSERT INTO track_trails (rid, source) SELECT * FROM unnest(%b::bigint[], %b::text[])"
            " ON CONFLICT (rid, source) DO NOTHING",
            (rids, sources),
        )
        trails: dict[tuple[int, str], TrailState] = {
            (int(rid), str(source)): TrailState(int(trail), int(rid), when, lat, lon)
            for trail, rid, source, when, lat, lon in conn.execute(
                "SELECT trail, rid, source, last_at, last_lat, last_lon FROM track_trails"
                " WHERE (rid, source) IN (SELECT * FROM unnest(%b::bigint[], %b::text[]))"
                " ORDER BY trail FOR UPDATE",
                (rids, sources),
            ).fetchall()
        }

        def trail_of(t: Positioned) -> TrailState | None:
            rid = rid_of.get(t.id)
            return None if rid is None else trails.get((rid, t.source + ":" + t.source_id))

        gained = thin(history, trail_of, self.thinning)
        if not gained:
            return
        label_of = self._label_ids_for(conn, [t.label for kept in gained.values() for t in kept])
        new_labels.update(label_of)
        segments: tuple[list[Any], ...] = ([], [], [], [], [])
        for trail, kept in gained.items():
            points = [
                (t.observed_at, t.lat, t.lon, t.course, t.speed, label_of[_enc.encode(t.label)])
                for t in kept
            ]
            for col, value in zip(
                segments,
                (trail.id, points[0][0], points[-1][0], len(points), _enc.encode(points)),
                strict=True,
            ):
                col.append(value)
        conn.execute(
            "INSERT INTO track_segments (trail, first_at, last_at, n, points)"
            " SELECT * FROM unnest(%b::bigint[], %b::float8[], %b::float8[], %b::int[],"
            " %b::bytea[])",
            segments,
        )
        conn.execute(
            "UPDATE track_trails t SET last_at = u.w, last_lat = u.y, last_lon = u.x"
            " FROM unnest(%b::bigint[], %b::float8[], %b::float8[], %b::float8[])"
            " AS u (trail, w, y, x) WHERE t.trail = u.trail",
            (
                [tr.id for tr in gained],
                [tr.when for tr in gained],
                [tr.lat for tr in gained],
                [tr.lon for tr in gained],
            ),
        )
        added: dict[int, int] = {}
        for trail, kept in gained.items():
            added[trail.rid] = added.get(trail.rid, 0) + len(kept)
        over = [
            int(rid)
            for rid, n in conn.execute(
                "UPDATE tracks t SET history_n = t.history_n + u.n"
                " FROM unnest(%b::bigint[], %b::int[]) AS u (rid, n) WHERE t.rid = u.rid"
                " RETURNING t.rid, t.history_n",
                (list(added), list(added.values())),
            ).fetchall()
            if n > self.points + self.slack
        ]
        if over:
            self._prune(conn, over)

    def _prune(self, conn: Connection[TupleRow], rids: list[int]) -> None:
        """Keep the newest ``points`` points of each entry in ``rids``."""
        by_entry: dict[int, list[tuple[int, float, list[_Row]]]] = {}
        for rid, trail, first, blob in conn.execute(
            "SELECT t.rid, s.trail, s.first_at, s.points FROM track_segments s"
            " JOIN track_trails t ON t.trail = s.trail WHERE t.rid = ANY(%b::bigint[])",
            (rids,),
        ).fetchall():
            by_entry.setdefault(int(rid), []).append((int(trail), first, _seg_dec.decode(blob)))
        gone: tuple[list[int], list[float]] = ([], [])
        rewritten: tuple[list[Any], ...] = ([], [], [], [], [])
        counts: dict[int, int] = {}
        for rid, segments in by_entry.items():
            times = sorted(p[0] for _, _, pts in segments for p in pts)
            cutoff = times[-self.points] if len(times) > self.points else -math.inf
            held = 0
            for trail, first, pts in segments:
                kept = pts if pts[0][0] >= cutoff else [p for p in pts if p[0] >= cutoff]
                held += len(kept)
                if kept is pts:
                    continue
                gone[0].append(trail)
                gone[1].append(first)
                if kept:
                    for col, value in zip(
                        rewritten,
                        (trail, kept[0][0], kept[-1][0], len(kept), _enc.encode(kept)),
                        strict=True,
                    ):
                        col.append(value)
            counts[rid] = held
        if gone[0]:
            conn.execute(
                "DELETE FROM track_segments s USING unnest(%b::bigint[], %b::float8[])"
                " AS u (trail, first_at) WHERE s.trail = u.trail AND s.first_at = u.first_at",
                gone,
            )
        if rewritten[0]:
            conn.execute(
                "INSERT INTO track_segments (trail, first_at, last_at, n, points)"
                " SELECT * FROM unnest(%b::bigint[], %b::float8[], %b::float8[], %b::int[],"
                " %b::bytea[])",
                rewritten,
            )
        conn.execute(
            "UPDATE tracks t SET history_n = u.n FROM unnest(%b::bigint[], %b::int[])"
            " AS u (rid, n) WHERE t.rid = u.rid",
            (list(counts), list(counts.values())),
        )

    # -- labels ---------------------------------------------------------------
    def _label_ids_for(self, conn: Connection[TupleRow], labels: list[Label]) -> dict[bytes, int]:
        """Interned ids of ``labels`` by encoded label (new ones inserted)."""
        bodies: dict[bytes, int] = {}
        seen: set[int] = set()
        for label in labels:  # sources share label objects: encode each once
            if id(label) not in seen:
                seen.add(id(label))
                body = _enc.encode(label)
                bodies[body] = self._label_ids.get(body, 0)
        unknown = [body for body, lid in bodies.items() if not lid]
        if unknown:
            conn.execute(
                "INSERT INTO track_labels (body) SELECT unnest(%b::bytea[])"
                " ON CONFLICT (body) DO NOTHING",
                (unknown,),
            )
            for lid, body in conn.execute(
                "SELECT id, body FROM track_labels WHERE body = ANY(%b::bytea[])", (unknown,)
            ).fetchall():
                bodies[bytes(body)] = int(lid)
        return bodies

    def _label_objects(self, conn: Connection[TupleRow], ids: set[int]) -> dict[int, Label]:
        missing = [i for i in ids if i not in self._labels]
        if missing:
            for lid, body in conn.execute(
                "SELECT id, body FROM track_labels WHERE id = ANY(%b::int[])", (missing,)
            ).fetchall():
                self._labels[int(lid)] = _label_dec.decode(body)
        return {i: self._labels[i] for i in ids}

    def history_rows(self, track_id: str) -> int:
        """Points held for one entry (for tests and diagnostics)."""
        with self._pool.connection() as conn:
            row = conn.execute("SELECT history_n FROM tracks WHERE id = %s", (track_id,)).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """The pool belongs to the backend, which closes it."""
