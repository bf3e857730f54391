"""Per-peer outboxes in PostgreSQL.

The same design as SQLite's (:mod:`kizuna.store.outbox`): a scan cursor per peer over
the event log; enqueueing reads events after the cursor, keeps those the caller's
decision allows and moves the cursor, in one transaction. Several workers may enqueue
for the same peer at once: the transaction locks the peer's cursor row first
(``SELECT … FOR UPDATE``), so the second waits, then reads the moved cursor and scans
only what is left; entries go in with ``ON CONFLICT DO NOTHING`` on ``(peer, pos)`` and
the cursor only moves forward (``greatest``). Event positions become visible in commit
order (:mod:`kizuna.store.postgres`), so the scan never passes an event that commits later.
Each entry keeps the time it was queued (``enqueued_at``, migration 5).
"""

from __future__ import annotations

import time

import msgspec

from kizuna.core.records import Event
from kizuna.store.base import Decide, QueueStats, queue_stats_of
from kizuna.store.postgres import Pool

_dec = msgspec.msgpack.Decoder(Event)


class PgOutbox:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    def cursor(self, peer: str) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT pos FROM outbox_cursor WHERE peer = %s", (peer,)).fetchone()
        return int(row[0]) if row else 0

    def enqueue_new(self, peer: str, decide: Decide, limit: int = 5000) -> tuple[int, int]:
        """Scan up to ``limit`` new events; returns (scanned, enqueued)."""
        with self._pool.connection() as conn, conn.transaction():
            lock = "SELECT pos FROM outbox_cursor WHERE peer = %s FOR UPDATE"
            row = conn.execute(lock, (peer,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO outbox_cursor (peer, pos) VALUES (%s, 0)"
                    " ON CONFLICT (peer) DO NOTHING",
                    (peer,),
                )
                row = conn.execute(lock, (peer,)).fetchone()
                assert row is not None
            rows = conn.execute(
                "SELECT pos, precedence, hlc, body FROM events WHERE pos > %s ORDER BY pos LIMIT %s",
                (int(row[0]), limit),
            ).fetchall()
            if not rows:
                return 0, 0
            keep = [(pos, prec, hlc) for pos, prec, hlc, body in rows if decide(_dec.decode(body))]
            if keep:
                positions, precedences, hlcs = (list(c) for c in zip(*keep, strict=True))
                conn.execute(
                    "INSERT INTO outbox (peer, pos, precedence, hlc, enqueued_at)"
                    " SELECT %s, p, r, h, %s"
                    " FROM unnest(%b::bigint[], %b::smallint[], %b::bigint[]) AS u (p, r, h)"
                    " ON CONFLICT (peer, pos) DO NOTHING",
                    (peer, time.time(), positions, precedences, hlcs),
                )
            conn.execute(
                "UPDATE outbox_cursor SET pos = greatest(pos, %s) WHERE peer = %s",
                (int(rows[-1][0]), peer),
            )
            return len(rows), len(keep)

    def next_batch(self, peer: str, limit: int) -> list[tuple[int, Event, int]]:
        """Oldest of the highest precedence first: (pos, event, encoded size)."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT o.pos, e.body FROM outbox o JOIN events e ON e.pos = o.pos"
                " WHERE o.peer = %s ORDER BY o.precedence, o.hlc, o.pos LIMIT %s",
                (peer, limit),
            ).fetchall()
        return [(int(pos), _dec.decode(body), len(body)) for pos, body in rows]

    def ack(self, peer: str, positions: list[int]) -> None:
        if not positions:
            return
        with self._pool.connection() as conn:
            conn.execute(
                "DELETE FROM outbox WHERE peer = %s AND pos = ANY(%b::bigint[])",
                (peer, list(positions)),
            )

    def depth(self, peer: str) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT count(*) FROM outbox WHERE peer = %s", (peer,)).fetchone()
        return int(row[0]) if row else 0

    def queue_stats(self, peer: str) -> QueueStats:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT precedence, count(*), min(enqueued_at) FROM outbox WHERE peer = %s"
                " GROUP BY precedence",
                (peer,),
            ).fetchall()
        return queue_stats_of(rows)

    def events_from(self, origins: tuple[str, ...]) -> list[Event]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT body FROM events WHERE origin = ANY(%b::text[]) ORDER BY origin, seq",
                (list(origins),),
            ).fetchall()
        return [_dec.decode(r[0]) for r in rows]
