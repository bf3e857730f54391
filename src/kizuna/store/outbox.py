"""Per-peer outboxes in SQLite.

Each peer has a scan cursor over the event log. Enqueueing reads events after
the cursor, keeps those the caller's decision allows, and advances the cursor
in the same transaction, so a crash can neither lose nor double an entry.
Draining reads by (precedence, hlc); acknowledged entries are deleted. Each entry keeps
the time it was queued (``enqueued_at``), for the age of the oldest per precedence.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from kizuna.core.records import Event
from kizuna.store.base import QueueStats, queue_stats_of
from kizuna.store.sqlite import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    peer TEXT NOT NULL,
    pos INTEGER NOT NULL,
    precedence INTEGER NOT NULL,
    hlc INTEGER NOT NULL,
    enqueued_at REAL,
    PRIMARY KEY (peer, pos)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (peer, precedence, hlc, pos);
CREATE TABLE IF NOT EXISTS outbox_cursor (peer TEXT PRIMARY KEY, pos INTEGER NOT NULL);
"""

_dec = msgspec.msgpack.Decoder(Event)

Decide = Callable[[Event], bool]


class SqliteOutbox:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._conn = store.connection
        self._conn.executescript(_SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(outbox)")}
        if "enqueued_at" not in columns:  # a store of an earlier release: NULL for its entries
            self._conn.execute("ALTER TABLE outbox ADD COLUMN enqueued_at REAL")

    def cursor(self, peer: str) -> int:
        row = self._conn.execute("SELECT pos FROM outbox_cursor WHERE peer = ?", (peer,)).fetchone()
        return int(row[0]) if row else 0

    def enqueue_new(self, peer: str, decide: Decide, limit: int = 5000) -> tuple[int, int]:
        """Scan up to ``limit`` new events; returns (scanned, enqueued)."""
        with self._store.lock:
            start = self.cursor(peer)
            rows = self._conn.execute(
                "SELECT pos, precedence, hlc, body FROM events WHERE pos > ? ORDER BY pos LIMIT ?",
                (start, limit),
            ).fetchall()
            if not rows:
                return 0, 0
            now = time.time()
            keep = [
                (peer, pos, prec, hlc, now)
                for pos, prec, hlc, body in rows
                if decide(_dec.decode(body))
            ]
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT OR IGNORE INTO outbox (peer, pos, precedence, hlc, enqueued_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    keep,
                )
                conn.execute(
                    "INSERT INTO outbox_cursor (peer, pos) VALUES (?, ?)"
                    " ON CONFLICT (peer) DO UPDATE SET pos = excluded.pos",
                    (peer, rows[-1][0]),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return len(rows), len(keep)

    def next_batch(self, peer: str, limit: int) -> list[tuple[int, Event, int]]:
        """Oldest of the highest precedence first: (pos, event, encoded size)."""
        rows = self._conn.execute(
            "SELECT o.pos, e.body FROM outbox o JOIN events e ON e.pos = o.pos"
            " WHERE o.peer = ? ORDER BY o.precedence, o.hlc, o.pos LIMIT ?",
            (peer, limit),
        ).fetchall()
        return [(int(pos), _dec.decode(body), len(body)) for pos, body in rows]

    def ack(self, peer: str, positions: list[int]) -> None:
        with self._store.lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "DELETE FROM outbox WHERE peer = ? AND pos = ?", [(peer, p) for p in positions]
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def depth(self, peer: str) -> int:
        row = self._conn.execute("SELECT count(*) FROM outbox WHERE peer = ?", (peer,)).fetchone()
        return int(row[0])

    def queue_stats(self, peer: str) -> QueueStats:
        rows = self._conn.execute(
            "SELECT precedence, count(*), min(enqueued_at) FROM outbox WHERE peer = ?"
            " GROUP BY precedence",
            (peer,),
        ).fetchall()
        return queue_stats_of(rows)

    def events_from(self, origins: tuple[str, ...]) -> list[Event]:
        marks = ",".join("?" * len(origins))
        rows = self._conn.execute(
            f"SELECT body FROM events WHERE origin IN ({marks}) ORDER BY origin, seq", origins
        ).fetchall()
        return [_dec.decode(r[0]) for r in rows]
