"""SQLite backend (WAL): event log, projections, users, metadata."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from kizuna.core.hlc import HybridClock
from kizuna.core.merge import Merge, lww_merge
from kizuna.core.records import Event, RecordState
from kizuna.store.base import CommitListener, Draft, Session, User, drafted_events, fresh_ids

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    pos INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hlc INTEGER NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    precedence INTEGER NOT NULL,
    body BLOB NOT NULL,
    UNIQUE (origin, seq)
);
CREATE INDEX IF NOT EXISTS events_record ON events (record_type, record_id);
-- A record written by one event points at it (state NULL); later events materialise state.
CREATE TABLE IF NOT EXISTS records (
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    updated_hlc INTEGER NOT NULL,
    pos INTEGER,
    state BLOB,
    PRIMARY KEY (record_type, record_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    token_hash TEXT UNIQUE,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Login sessions, by the hash of their bearer token (added after 0.1: IF NOT EXISTS migrates).
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_name ON sessions (name);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
"""

_event_enc = msgspec.msgpack.Encoder()
_event_dec = msgspec.msgpack.Decoder(Event)
_state_dec = msgspec.msgpack.Decoder(RecordState)
_user_dec = msgspec.msgpack.Decoder(User)


def connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class SqliteStore:
    """The embedded default store. One writer; safe to call from several threads."""

    def __init__(self, path: Path | str, node_id: str) -> None:
        self.node_id = node_id
        self.path = Path(path)
        self._conn = connect(path)
        self._conn.executescript(_SCHEMA)
        self._lock: threading.RLock = threading.RLock()
        self._merges: dict[str, Merge] = {}
        self._listeners: list[CommitListener] = []
        row = self._conn.execute(
            "SELECT coalesce(max(seq), 0) FROM events WHERE origin = ?", (node_id,)
        ).fetchone()
        self._seq = int(row[0])
        self._last_pos = self._max_pos()
        last = self._conn.execute("SELECT coalesce(max(hlc), 0) FROM events").fetchone()
        self.clock = HybridClock(last=int(last[0]))

    # -- wiring ---------------------------------------------------------------
    def register_merge(self, record_type: str, merge: Merge) -> None:
        self._merges[record_type] = merge

    def on_commit(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    @property
    def lock(self) -> threading.RLock:
        """Held by every writer; sibling modules inside ``store/`` take it too."""
        return self._lock

    @property
    def connection(self) -> sqlite3.Connection:
        """For sibling modules inside ``store/`` only."""
        return self._conn

    # -- writes ---------------------------------------------------------------
    def append(self, drafts: Sequence[Draft]) -> list[Event]:
        with self._lock:
            seq = self._seq
            stamps = self.clock.now_many(len(drafts))
            events = drafted_events(drafts, self.node_id, seq + 1, stamps)
            seq += len(drafts)
            fresh = fresh_ids(drafts)
            self._commit(events, fresh=True, new_ids=fresh)
            self._seq = seq
        self._notify(events)
        return events

    def apply(self, events: Iterable[Event]) -> list[Event]:
        with self._lock:
            incoming = [e for e in events if e.origin != self.node_id or e.seq <= self._seq]
            new = self._commit(incoming, fresh=False)
            for e in new:
                self.clock.observe(e.hlc)
        self._notify(new)
        return new

    def _commit(
        self, events: list[Event], *, fresh: bool, new_ids: set[str] | frozenset[str] = frozenset()
    ) -> list[Event]:
        if not events:
            return []
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            new = events if fresh else self._unseen(events)
            first = self._last_pos + 1
            conn.executemany(
                "INSERT INTO events (pos, origin, seq, hlc, record_type, record_id, precedence, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        first + i,
                        e.origin,
                        e.seq,
                        e.hlc,
                        e.record_type,
                        e.record_id,
                        int(e.precedence),
                        _event_enc.encode(e),
                    )
                    for i, e in enumerate(new)
                ],
            )
            self._project(new, first, new_ids)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._last_pos = self._max_pos()  # in case another writer moved it
            raise
        self._last_pos = first + len(new) - 1
        return new

    def _max_pos(self) -> int:
        return int(self._conn.execute("SELECT coalesce(max(pos), 0) FROM events").fetchone()[0])

    def _unseen(self, events: list[Event]) -> list[Event]:
        """Events not yet in the log (and not repeated within the batch)."""
        by_origin: dict[str, list[int]] = {}
        for e in events:
            by_origin.setdefault(e.origin, []).append(e.seq)
        seen: set[tuple[str, int]] = set()
        for origin, seqs in by_origin.items():
            for i in range(0, len(seqs), 500):
                chunk = seqs[i : i + 500]
                marks = ",".join("?" * len(chunk))
                seen.update(
                    (origin, int(r[0]))
                    for r in self._conn.execute(
                        f"SELECT seq FROM events WHERE origin = ? AND seq IN ({marks})",
                        (origin, *chunk),
                    )
                )
        new = []
        for e in events:
            if e.key not in seen:
                seen.add(e.key)
                new.append(e)
        return new

    def _project(
        self, events: list[Event], first_pos: int, new_ids: set[str] | frozenset[str]
    ) -> None:
        if not events:
            return
        keys = {(e.record_type, e.record_id) for e in events}
        states = self._load({k for k in keys if k[1] not in new_ids} if new_ids else keys)
        touched: dict[tuple[str, str], int] = {}  # key -> events in this batch
        for e in events:
            key = (e.record_type, e.record_id)
            touched[key] = touched.get(key, 0) + 1
        rows = []
        for pos, e in enumerate(events, start=first_pos):
            key = (e.record_type, e.record_id)
            prior = states.get(key)
            if prior is None and touched[key] == 1:
                # Written once: the row points at the event; state is derived on read.
                rows.append((key[0], key[1], e.hlc, pos, None))
                continue
            states[key] = self._merges.get(e.record_type, lww_merge)(prior, e)
        rows += [
            (rt, rid, s.updated_hlc, None, _event_enc.encode(s))
            for (rt, rid), s in states.items()
            if s is not None
        ]
        self._conn.executemany(
            "INSERT INTO records (record_type, record_id, updated_hlc, pos, state)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (record_type, record_id) DO UPDATE SET"
            " updated_hlc = excluded.updated_hlc, pos = excluded.pos, state = excluded.state",
            rows,
        )

    def _load(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], RecordState | None]:
        states: dict[tuple[str, str], RecordState | None] = {}
        by_type: dict[str, list[str]] = {}
        for rt, rid in keys:
            by_type.setdefault(rt, []).append(rid)
        for rt, ids in by_type.items():
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for rid, state, body in self._conn.execute(
                    "SELECT r.record_id, r.state, e.body FROM records r"
                    " LEFT JOIN events e ON e.pos = r.pos"
                    f" WHERE r.record_type = ? AND r.record_id IN ({marks})",
                    (rt, *chunk),
                ):
                    states[(rt, rid)] = self._decode(rt, state, body)
        return states

    def _decode(self, record_type: str, state: bytes | None, body: bytes | None) -> RecordState:
        if state is not None:
            return _state_dec.decode(state)
        assert body is not None, "projection points at a missing event"
        return self._merges.get(record_type, lww_merge)(None, _event_dec.decode(body))

    def _notify(self, events: Sequence[Event]) -> None:
        if events:
            for listener in self._listeners:
                listener(events)

    # -- reads ----------------------------------------------------------------
    def get(self, record_type: str, record_id: str) -> RecordState | None:
        row = self._conn.execute(
            "SELECT r.state, e.body FROM records r LEFT JOIN events e ON e.pos = r.pos"
            " WHERE r.record_type = ? AND r.record_id = ?",
            (record_type, record_id),
        ).fetchone()
        return self._decode(record_type, row[0], row[1]) if row else None

    def scan(self, record_type: str) -> list[RecordState]:
        rows = self._conn.execute(
            "SELECT r.state, e.body FROM records r LEFT JOIN events e ON e.pos = r.pos"
            " WHERE r.record_type = ? ORDER BY r.updated_hlc DESC",
            (record_type,),
        ).fetchall()
        return [self._decode(record_type, state, body) for state, body in rows]

    def events_after(self, position: int, limit: int) -> list[tuple[int, Event]]:
        rows = self._conn.execute(
            "SELECT pos, body FROM events WHERE pos > ? ORDER BY pos LIMIT ?", (position, limit)
        ).fetchall()
        return [(int(p), _event_dec.decode(b)) for p, b in rows]

    def record_events(self, record_type: str, record_id: str) -> list[Event]:
        rows = self._conn.execute(
            "SELECT body FROM events WHERE record_type = ? AND record_id = ? ORDER BY hlc, pos",
            (record_type, record_id),
        ).fetchall()
        return [_event_dec.decode(r[0]) for r in rows]

    # -- users ----------------------------------------------------------------
    def add_user(self, user: User) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO users (name, token_hash, body) VALUES (?, ?, ?)",
                (user.name, user.token_hash or None, _event_enc.encode(user)),
            )

    def user_by_token_hash(self, token_hash: str) -> User | None:
        row = self._conn.execute(
            "SELECT body FROM users WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return _user_dec.decode(row[0]) if row else None

    def update_user(self, user: User) -> None:
        with self._lock:
            cur = self._conn.execute(
                "UPDATE users SET token_hash = ?, body = ? WHERE name = ?",
                (user.token_hash or None, _event_enc.encode(user), user.name),
            )
            if cur.rowcount == 0:
                raise KeyError(user.name)

    def user_by_name(self, name: str) -> User | None:
        row = self._conn.execute("SELECT body FROM users WHERE name = ?", (name,)).fetchone()
        return _user_dec.decode(row[0]) if row else None

    def all_users(self) -> list[User]:
        rows = self._conn.execute("SELECT body FROM users ORDER BY name").fetchall()
        return [_user_dec.decode(row[0]) for row in rows]

    # -- sessions -------------------------------------------------------------
    def add_session(self, session: Session) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO sessions (token_hash, name, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (session.token_hash, session.name, session.created_at, session.expires_at),
            )

    def session_by_token_hash(self, token_hash: str) -> Session | None:
        row = self._conn.execute(
            "SELECT name, created_at, expires_at FROM sessions WHERE token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        return Session(
            token_hash=token_hash, name=row[0], created_at=float(row[1]), expires_at=float(row[2])
        )

    def delete_session(self, token_hash: str) -> bool:
        with self._lock:
            cur = self._conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))
            return cur.rowcount > 0

    def delete_sessions(self, name: str) -> int:
        with self._lock:
            return self._conn.execute("DELETE FROM sessions WHERE name = ?", (name,)).rowcount

    def purge_sessions(self, before: float) -> int:
        with self._lock:
            return self._conn.execute(
                "DELETE FROM sessions WHERE expires_at <= ?", (before,)
            ).rowcount

    # -- metadata -------------------------------------------------------------
    def meta_get(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def meta_set(self, key: str, value: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        self._conn.close()
