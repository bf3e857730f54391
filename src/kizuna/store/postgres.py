"""PostgreSQL event log, projections, users and metadata, on a connection pool.

Safe for several threads and several processes (workers) on one database: nothing is
serialised in Python. Every event commit (``append`` and ``apply``) is one transaction
that first locks the single ``log_head`` row, so positions are handed out in commit
order: a transaction gets its positions only after every earlier holder of the lock has
committed (or rolled back, its positions handed out again), and a cursor scan
(``pos > cursor``, the outbox) never steps over an event that commits later. Under that lock the store
reads our highest ``seq`` and the log's highest HLC from the database, so sequence
numbers and clocks continue across workers and restarts. ``(origin, seq)`` is a unique
constraint and peers' events go in with ``ON CONFLICT DO NOTHING``: whatever races, an
event is in the log at most once, and only the rows actually inserted are projected and
reported to listeners.

Several workers (ADR 0011): each event row names the backend instance that wrote it
(``writer``), and each commit sends ``pg_notify`` in its own transaction
(:mod:`kizuna.store.postgres_feed`). Listeners hear this process's commits on the
committing thread; the feed's thread reads the events other writers committed after the
last position it saw and hands them to the same listeners, each once, in log order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import structlog
from psycopg import Connection
from psycopg.errors import UniqueViolation
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from kizuna.core.hlc import HybridClock
from kizuna.core.merge import Merge, lww_merge
from kizuna.core.records import Event, RecordState
from kizuna.store.base import CommitListener, Draft, Session, User, drafted_events, fresh_ids
from kizuna.store.postgres_feed import PgFeed, own_position

Pool = ConnectionPool[Connection[TupleRow]]

log = structlog.get_logger("kizuna.store")

_enc = msgspec.msgpack.Encoder()
_event_dec = msgspec.msgpack.Decoder(Event)
_state_dec = msgspec.msgpack.Decoder(RecordState)
_user_dec = msgspec.msgpack.Decoder(User)

# Array parameters go out in binary (``%b``): psycopg's text array dumper (quoting every
# element, escaping bytea) cost more than the rest of a commit's Python. A list of only
# ``None`` (or an empty one) has no element type to dump in binary: psycopg sends it as
# text of unknown type, which the casts below read as well.

# The first parameter is the writer; then the columns of ``event_columns``.
_INSERT_EVENTS = (
    "INSERT INTO events (writer, pos, origin, seq, hlc, record_type, record_id, precedence, body)"
    " SELECT %s::bigint, * FROM unnest(%b::bigint[], %b::text[], %b::bigint[], %b::bigint[],"
    " %b::text[], %b::text[], %b::smallint[], %b::bytea[])"
)
_UPSERT_RECORDS = (
    " ON CONFLICT (record_type, record_id) DO UPDATE SET"
    " updated_hlc = excluded.updated_hlc, pos = excluded.pos, state = excluded.state"
)
_RECORDS = (
    "INSERT INTO records (record_type, record_id, updated_hlc, pos, state)"
    " SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::bigint[], %b::bytea[])"
    + _UPSERT_RECORDS
)
# ``append`` of a small batch in one statement: the events (the columns of
# ``event_columns``, then whether each event's record points at it, then the writer) and
# the records rows. A record written once points at its event, so its row is derived from
# the event's columns on the server, by a plain INSERT (the key is new: read absent under
# the head lock, or minted by the caller; a clash fails the commit, which ``append`` then
# retries with the key loaded); the merged states (type, id, hlc, state) follow as arrays,
# upserted. No key is in both.
_APPEND = (
    "WITH u AS (SELECT * FROM unnest(%b::bigint[], %b::text[], %b::bigint[], %b::bigint[],"
    " %b::text[], %b::text[], %b::smallint[], %b::bytea[], %b::bool[])"
    " AS u (pos, origin, seq, hlc, record_type, record_id, precedence, body, direct)),"
    " e AS (INSERT INTO events"
    " (writer, pos, origin, seq, hlc, record_type, record_id, precedence, body)"
    " SELECT %s::bigint, pos, origin, seq, hlc, record_type, record_id, precedence, body FROM u),"
    " d AS (INSERT INTO records (record_type, record_id, updated_hlc, pos)"
    " SELECT record_type, record_id, hlc, pos FROM u WHERE direct)"
    " INSERT INTO records (record_type, record_id, updated_hlc, state)"
    " SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::bytea[])" + _UPSERT_RECORDS
)
# A batch this large goes in by COPY (two round trips, but no arrays to dump in Python).
COPY_FROM = 32
_COPY_EVENTS = (
    "COPY events (writer, pos, origin, seq, hlc, record_type, record_id, precedence, body)"
    " FROM STDIN (FORMAT BINARY)"
)
_COPY_EVENTS_TYPES = ["int8", "int8", "text", "int8", "int8", "text", "text", "int2", "bytea"]
_COPY_RECORDS = "COPY records (record_type, record_id, updated_hlc, pos) FROM STDIN (FORMAT BINARY)"
_COPY_RECORDS_TYPES = ["text", "text", "int8", "int8"]
_UPSERT_MERGED = (
    "INSERT INTO records (record_type, record_id, updated_hlc, state)"
    " SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::bytea[])" + _UPSERT_RECORDS
)
_LOCK_HEAD = "SELECT pos, hlc FROM log_head WHERE id = 1 FOR UPDATE"
# After the lock (a statement of its own: its snapshot sees every earlier holder's commit).
_OUR_SEQ = "SELECT coalesce(max(seq), 0) FROM events WHERE origin = %s"
# Moves the head and wakes the other workers, in the committing transaction.
_MOVE_HEAD = (
    "WITH h AS (UPDATE log_head SET pos = %s, hlc = greatest(hlc, %s) WHERE id = 1 RETURNING pos)"
    " SELECT pg_notify(%s, %s) FROM h"
)
FOLLOW_BATCH = 1000  # events read per step when catching up with other workers
_STATE = "SELECT r.record_type, r.record_id, r.state, e.body FROM records r LEFT JOIN events e ON e.pos = r.pos"


def event_columns(first: int, events: Sequence[Event]) -> tuple[list[Any], ...]:
    """The column arrays of ``events`` at positions ``first``, ``first + 1``, …"""
    return (
        list(range(first, first + len(events))),
        [e.origin for e in events],
        [e.seq for e in events],
        [e.hlc for e in events],
        [e.record_type for e in events],
        [e.record_id for e in events],
        [int(e.precedence) for e in events],
        [_enc.encode(e) for e in events],
    )


class PgStore:
    """Event log, projections, users, sessions and metadata of one node's schema."""

    def __init__(
        self,
        pool: Pool,
        node_id: str,
        *,
        writer: int = 0,
        feed: PgFeed | None = None,
        channel: str = "kizuna_events",
    ) -> None:
        self.node_id = node_id
        self._pool = pool
        self._merges: dict[str, Merge] = {}
        self._listeners: list[CommitListener] = []
        self._writer = writer  # this backend instance, in the rows it writes
        self._feed = feed
        self._channel = channel
        self._follow_lock = threading.Lock()
        with pool.connection() as conn:
            row = conn.execute("SELECT pos, hlc FROM log_head").fetchone()
        # Only a hint: every commit observes the head's HLC under the head lock.
        self.clock = HybridClock(last=int(row[1]) if row else 0)
        # Other writers' events after this position are news to this process's listeners.
        self._seen = int(row[0]) if row else 0

    # -- wiring ---------------------------------------------------------------
    def register_merge(self, record_type: str, merge: Merge) -> None:
        self._merges[record_type] = merge

    def on_commit(self, listener: CommitListener) -> None:
        """See :meth:`kizuna.store.base.EventLog.on_commit`: other workers' commits too."""
        first = not self._listeners
        self._listeners.append(listener)
        if first and self._feed is not None:
            self._feed.follow(self._channel, self._woken)

    # -- writes ---------------------------------------------------------------
    def append(self, drafts: Sequence[Draft]) -> list[Event]:
        if not drafts:
            return []
        fresh = fresh_ids(drafts)
        try:
            events = self._append(drafts, fresh)
        except UniqueViolation:
            if not fresh:
                raise
            # A "fresh" id already had a record (a caller-chosen id created twice): load
            # its state and fold into it, as for any other record (nothing was committed).
            events = self._append(drafts, frozenset())
        self._notify(events)
        return events

    def _append(self, drafts: Sequence[Draft], fresh: set[str] | frozenset[str]) -> list[Event]:
        """One commit in three round trips: BEGIN, the head lock and our last seq
        (pipelined); the rows; the head update and COMMIT (pipelined). The head lock is
        held from the first to the last, with only this batch's own work in between."""
        with self._pool.connection() as conn:
            try:
                with conn.pipeline():
                    conn.execute("BEGIN")
                    head = conn.execute(_LOCK_HEAD)
                    ours = conn.execute(_OUR_SEQ, (self.node_id,))
                    row = head.fetchone()
                    seq_row = ours.fetchone()
                assert row is not None, "log_head has no row (schema not migrated)"
                pos, hlc = int(row[0]), int(row[1])
                seq = int(seq_row[0]) if seq_row else 0
                self.clock.observe(hlc)
                stamps = self.clock.now_many(len(drafts))
                events = drafted_events(drafts, self.node_id, seq + 1, stamps)
                # Before the events go in: the projections read are the ones they fold into.
                direct, merged = self._project(conn, events, fresh)
                # Our own numbers under the head lock: a clash is a bug, so a plain INSERT
                # (or COPY); a record written by one event alone is new (its key was read
                # absent under the lock, or minted by the caller): plain too.
                if len(events) >= COPY_FROM:
                    self._copy_rows(conn, pos + 1, events, direct)
                    with conn.pipeline():
                        if merged[0]:
                            conn.execute(_UPSERT_MERGED, merged)
                        self._move_head(conn, pos + len(events), stamps[-1])
                        conn.execute("COMMIT")
                else:
                    with conn.pipeline():
                        conn.execute(
                            _APPEND,
                            (*event_columns(pos + 1, events), direct, self._writer, *merged),
                        )
                        self._move_head(conn, pos + len(events), stamps[-1])
                        conn.execute("COMMIT")
            except BaseException:
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.rollback()
                raise
        return events

    def _copy_rows(
        self, conn: Connection[TupleRow], first: int, events: list[Event], direct: list[bool]
    ) -> None:
        """The events and the records they alone write, by binary COPY (a large batch:
        cheaper than array parameters, dumped in Python, and an INSERT … SELECT)."""
        writer, encode = self._writer, _enc.encode
        cur = conn.cursor()
        with cur.copy(_COPY_EVENTS) as copy:
            copy.set_types(_COPY_EVENTS_TYPES)
            write = copy.write_row
            for i, e in enumerate(events):
                write(
                    (
                        writer,
                        first + i,
                        e.origin,
                        e.seq,
                        e.hlc,
                        e.record_type,
                        e.record_id,
                        int(e.precedence),
                        encode(e),
                    )
                )
        if any(direct):
            with cur.copy(_COPY_RECORDS) as copy:
                copy.set_types(_COPY_RECORDS_TYPES)
                write = copy.write_row
                for i, (e, d) in enumerate(zip(events, direct, strict=True)):
                    if d:
                        write((e.record_type, e.record_id, e.hlc, first + i))

    def apply(self, events: Iterable[Event]) -> list[Event]:
        batch: list[Event] = []
        keys: set[tuple[str, int]] = set()
        for e in events:  # a repeat within the batch counts once
            if e.key not in keys:
                keys.add(e.key)
                batch.append(e)
        if not batch:
            return []
        with self._pool.connection() as conn, conn.transaction():
            pos, _ = self._lock_head(conn)
            if any(e.origin == self.node_id for e in batch):
                # Our own events come back from peers; never take one we did not write.
                ours = self._our_seq(conn)
                batch = [e for e in batch if e.origin != self.node_id or e.seq <= ours]
            rows = conn.execute(
                _INSERT_EVENTS + " ON CONFLICT (origin, seq) DO NOTHING RETURNING pos",
                (self._writer, *event_columns(pos + 1, batch)),
            ).fetchall()
            inserted = sorted(int(r[0]) for r in rows)
            if not inserted:
                return []
            new = [batch[p - pos - 1] for p in inserted]
            direct, (types, ids, hlcs, states) = self._project(conn, new, frozenset())
            pointing = [(p, e) for p, e, d in zip(inserted, new, direct, strict=True) if d]
            if pointing or types:
                conn.execute(
                    _RECORDS,
                    (
                        [e.record_type for _, e in pointing] + types,
                        [e.record_id for _, e in pointing] + ids,
                        [e.hlc for _, e in pointing] + hlcs,
                        [p for p, _ in pointing] + [None] * len(types),
                        [None] * len(pointing) + states,
                    ),
                )
            self._move_head(conn, inserted[-1], max(e.hlc for e in new))
        for e in new:
            self.clock.observe(e.hlc)
        self._notify(new)
        return new

    @staticmethod
    def _lock_head(conn: Connection[TupleRow]) -> tuple[int, int]:
        row = conn.execute("SELECT pos, hlc FROM log_head WHERE id = 1 FOR UPDATE").fetchone()
        assert row is not None, "log_head has no row (schema not migrated)"
        return int(row[0]), int(row[1])

    def _move_head(self, conn: Connection[TupleRow], pos: int, hlc: int) -> None:
        conn.execute(_MOVE_HEAD, (pos, hlc, self._channel, f"{self._writer}:{pos}"))

    def _our_seq(self, conn: Connection[TupleRow]) -> int:
        row = conn.execute(
            "SELECT coalesce(max(seq), 0) FROM events WHERE origin = %s", (self.node_id,)
        ).fetchone()
        return int(row[0]) if row else 0

    def _project(
        self,
        conn: Connection[TupleRow],
        events: list[Event],
        new_ids: set[str] | frozenset[str],
    ) -> tuple[list[bool], tuple[list[str], list[str], list[int], list[bytes]]]:
        """Fold ``events`` into the projections (the head lock is held: no lost update).

        Returns, by event, whether its record is written by it alone (the row points at
        the event; state is derived on read), and the merged states of the other records
        as columns (type, id, hlc, state)."""
        keys = {(e.record_type, e.record_id) for e in events}
        states = self._load(conn, {k for k in keys if k[1] not in new_ids} if new_ids else keys)
        touched: dict[tuple[str, str], int] = {}  # key -> events in this batch
        for e in events:
            key = (e.record_type, e.record_id)
            touched[key] = touched.get(key, 0) + 1
        direct: list[bool] = []
        for e in events:
            key = (e.record_type, e.record_id)
            prior = states.get(key)
            if prior is None and touched[key] == 1:
                direct.append(True)  # written once: the row points at the event
                continue
            direct.append(False)
            states[key] = self._merges.get(e.record_type, lww_merge)(prior, e)
        merged: tuple[list[str], list[str], list[int], list[bytes]] = ([], [], [], [])
        for (rt, rid), s in states.items():
            if s is not None:
                merged[0].append(rt)
                merged[1].append(rid)
                merged[2].append(s.updated_hlc)
                merged[3].append(_enc.encode(s))
        return direct, merged

    def _load(
        self, conn: Connection[TupleRow], keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], RecordState | None]:
        if not keys:
            return {}
        types, ids = zip(*keys, strict=True)
        rows = conn.execute(
            _STATE + " WHERE (r.record_type, r.record_id) IN"
            " (SELECT * FROM unnest(%b::text[], %b::text[]))",
            (list(types), list(ids)),
        ).fetchall()
        return {(rt, rid): self._decode(rt, state, body) for rt, rid, state, body in rows}

    def _decode(self, record_type: str, state: bytes | None, body: bytes | None) -> RecordState:
        if state is not None:
            return _state_dec.decode(state)
        assert body is not None, "projection points at a missing event"
        return self._merges.get(record_type, lww_merge)(None, _event_dec.decode(body))

    def _notify(self, events: Sequence[Event]) -> None:
        if events:
            for listener in self._listeners:
                listener(events)

    # -- other workers' commits -------------------------------------------------
    def _woken(self, payloads: list[str] | None) -> None:
        """The feed's thread: other workers may have committed (``None``: catch up)."""
        if payloads is not None:
            top = own_position(payloads, self._writer)
            if top is not None:
                # Only our own commits, announced here already: nothing to read. Earlier
                # commits' notifications came first (commit order) and were read then.
                with self._follow_lock:
                    self._seen = max(self._seen, top)
                return
        self.catch_up()

    def catch_up(self) -> int:
        """Hand the events other writers committed since the last call to the listeners
        (in log order, each once); how many. Called by the feed's thread."""
        delivered = 0
        with self._follow_lock:
            while True:
                with self._pool.connection() as conn:
                    rows = conn.execute(
                        "SELECT pos, CASE WHEN writer IS DISTINCT FROM %s THEN body END"
                        " FROM events WHERE pos > %s ORDER BY pos LIMIT %s",
                        (self._writer, self._seen, FOLLOW_BATCH),
                    ).fetchall()
                if not rows:
                    return delivered
                self._seen = int(rows[-1][0])
                news = [_event_dec.decode(body) for _, body in rows if body is not None]
                if news:
                    delivered += len(news)
                    for listener in self._listeners:
                        try:
                            listener(news)
                        except Exception:  # one listener's failure is not another's
                            log.exception("commit listener failed (other worker's events)")
                if len(rows) < FOLLOW_BATCH:
                    return delivered

    # -- reads ----------------------------------------------------------------
    def get(self, record_type: str, record_id: str) -> RecordState | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                _STATE + " WHERE r.record_type = %s AND r.record_id = %s", (record_type, record_id)
            ).fetchone()
        return self._decode(record_type, row[2], row[3]) if row else None

    def scan(self, record_type: str) -> list[RecordState]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                _STATE + " WHERE r.record_type = %s ORDER BY r.updated_hlc DESC", (record_type,)
            ).fetchall()
        return [self._decode(record_type, state, body) for _, _, state, body in rows]

    def events_after(self, position: int, limit: int) -> list[tuple[int, Event]]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT pos, body FROM events WHERE pos > %s ORDER BY pos LIMIT %s",
                (position, limit),
            ).fetchall()
        return [(int(p), _event_dec.decode(b)) for p, b in rows]

    def record_events(self, record_type: str, record_id: str) -> list[Event]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT body FROM events WHERE record_type = %s AND record_id = %s"
                " ORDER BY hlc, pos",
                (record_type, record_id),
            ).fetchall()
        return [_event_dec.decode(r[0]) for r in rows]

    # -- users ----------------------------------------------------------------
    def add_user(self, user: User) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO users (name, token_hash, body) VALUES (%s, %s, %s)",
                (user.name, user.token_hash or None, _enc.encode(user)),
            )

    def update_user(self, user: User) -> None:
        with self._pool.connection() as conn:
            cur = conn.execute(
                "UPDATE users SET token_hash = %s, body = %s WHERE name = %s",
                (user.token_hash or None, _enc.encode(user), user.name),
            )
            if cur.rowcount == 0:
                raise KeyError(user.name)

    def user_by_token_hash(self, token_hash: str) -> User | None:
        if not token_hash:
            return None
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT body FROM users WHERE token_hash = %s", (token_hash,)
            ).fetchone()
        return _user_dec.decode(row[0]) if row else None

    def user_by_name(self, name: str) -> User | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT body FROM users WHERE name = %s", (name,)).fetchone()
        return _user_dec.decode(row[0]) if row else None

    def all_users(self) -> list[User]:
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT body FROM users ORDER BY name").fetchall()
        return [_user_dec.decode(row[0]) for row in rows]

    # -- sessions -------------------------------------------------------------
    def add_session(self, session: Session) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, name, created_at, expires_at)"
                " VALUES (%s, %s, %s, %s)",
                (session.token_hash, session.name, session.created_at, session.expires_at),
            )

    def session_by_token_hash(self, token_hash: str) -> Session | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT name, created_at, expires_at FROM sessions WHERE token_hash = %s",
                (token_hash,),
            ).fetchone()
        if row is None:
            return None
        return Session(
            token_hash=token_hash, name=row[0], created_at=float(row[1]), expires_at=float(row[2])
        )

    def delete_session(self, token_hash: str) -> bool:
        with self._pool.connection() as conn:
            cur = conn.execute("DELETE FROM sessions WHERE token_hash = %s", (token_hash,))
            return cur.rowcount > 0

    def delete_sessions(self, name: str) -> int:
        with self._pool.connection() as conn:
            return conn.execute("DELETE FROM sessions WHERE name = %s", (name,)).rowcount

    def purge_sessions(self, before: float) -> int:
        with self._pool.connection() as conn:
            return conn.execute("DELETE FROM sessions WHERE expires_at <= %s", (before,)).rowcount

    # -- metadata -------------------------------------------------------------
    def meta_get(self, key: str) -> str | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return str(row[0]) if row else None

    def meta_set(self, key: str, value: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        """The pool belongs to the backend, which closes it."""
