"""What the other workers of a node commit, through PostgreSQL LISTEN/NOTIFY (ADR 0011).

Every commit of events and every write of spatial entries sends ``pg_notify`` in its own
transaction: PostgreSQL delivers a notification only if the transaction commits, and
delivers them in commit order, so a wake-up never announces a write that rolled back and
never misses one that committed. The payload is ``"<writer>:<position>"``: the writing
backend instance and the log position (or entry version) its commit reached.

:class:`PgFeed` is one connection per backend, used only to ``LISTEN``, and one thread
that waits on it and wakes each channel's followers with the payloads it received. A
follower reads what was committed after the last position it saw (the table is the
truth, the notification only a wake-up) and hands on what other writers committed.
Followers are also woken with ``None`` (catch up, whatever was said) when the connection
is (re)made and every :data:`CATCH_UP_SECONDS`, so a lost connection loses nothing.

:class:`PgLeases` are session-level advisory locks on a connection of their own: a
worker that dies (SIGKILL) ends its session and PostgreSQL frees its locks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable

import psycopg
import structlog
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow

log = structlog.get_logger("kizuna.store")

WAIT_SECONDS = 0.5  # one wait for notifications (also how soon the thread sees a stop)
CATCH_UP_SECONDS = 10.0  # followers catch up this often even without a notification
RECONNECT_MIN, RECONNECT_MAX = 0.5, 5.0

Follower = Callable[[list[str] | None], None]
"""``follower(payloads)``: the payloads received on its channel, or ``None``: catch up."""


def channel(kind: str, schema: str) -> str:
    """The notification channel of ``kind`` (``events``, ``tracks``) in a node's schema.

    A channel name is an identifier (at most 63 bytes): a long schema name is hashed."""
    name = f"kizuna_{kind}_{schema}"
    if len(name) <= 63:
        return name
    return f"kizuna_{kind}_{hashlib.blake2b(schema.encode(), digest_size=12).hexdigest()}"


def payload(writer: int, position: int) -> str:
    return f"{writer}:{position}"


def own_position(payloads: list[str], writer: int) -> int | None:
    """The highest position in ``payloads`` if every one of them is ``writer``'s own
    commit (nothing to read: the writer already told its listeners), else ``None``."""
    top = 0
    mine = str(writer)
    for p in payloads:
        who, _, position = p.partition(":")
        if who != mine or not position.isdigit():
            return None
        top = max(top, int(position))
    return top


def _with_name(conninfo: str, role: str) -> str:
    """``conninfo`` with ``role`` and this process's id added to its application name
    (``pg_stat_activity`` then tells which worker holds a connection)."""
    base = conninfo_to_dict(conninfo).get("application_name") or "kizuna"
    return make_conninfo(conninfo, application_name=f"{base}:{role}:{os.getpid()}")


class PgFeed:
    """The backend's LISTEN connection and the thread that wakes followers."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = _with_name(conninfo, "listen")
        self._lock = threading.Lock()
        self._followers: dict[str, list[Follower]] = {}
        self._listening: set[str] = set()  # (the thread's) channels LISTENed on its connection
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, name: str, follower: Follower) -> None:
        """Wake ``follower`` on ``name``'s notifications (starts the thread on first use)."""
        with self._lock:
            self._followers.setdefault(name, []).append(follower)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="kizuna-pg-feed", daemon=True
                )
                self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5 * WAIT_SECONDS)

    # -- the thread -----------------------------------------------------------
    def _run(self) -> None:
        delay = RECONNECT_MIN
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    self._listening = set()
                    delay = RECONNECT_MIN
                    self._serve(conn)
            except psycopg.Error as exc:
                if self._stop.is_set():
                    return
                log.warning("pg feed: connection lost", error=str(exc)[:200], retry_in=delay)
                self._stop.wait(delay)
                delay = min(RECONNECT_MAX, delay * 2)

    def _serve(self, conn: psycopg.Connection[TupleRow]) -> None:
        caught_up = time.monotonic()
        while not self._stop.is_set():
            self._listen_new(conn)
            got: dict[str, list[str]] = {}
            for note in conn.notifies(timeout=WAIT_SECONDS, stop_after=1):
                got.setdefault(note.channel, []).append(note.payload)
            if got:  # take whatever else is queued, without waiting: one wake-up for all
                for note in conn.notifies(timeout=0):
                    got.setdefault(note.channel, []).append(note.payload)
            if time.monotonic() - caught_up >= CATCH_UP_SECONDS:
                caught_up = time.monotonic()
                for name in list(self._listening):
                    self._wake(name, None)
                continue
            for name, payloads in got.items():
                self._wake(name, payloads)

    def _listen_new(self, conn: psycopg.Connection[TupleRow]) -> None:
        with self._lock:
            names = [n for n in self._followers if n not in self._listening]
        for name in names:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
            self._listening.add(name)
            # Listening now: catch up on what was committed before (and while not listening).
            self._wake(name, None)

    def _wake(self, name: str, payloads: list[str] | None) -> None:
        with self._lock:
            followers = list(self._followers.get(name, ()))
        for follower in followers:
            try:
                follower(payloads)
            except Exception:
                log.exception("pg feed: follower failed", channel=name)


# Server-side keepalives of the lease session: a dead peer is found in 10 + 3 * 2 s.
LEASE_KEEPALIVES = {
    "tcp_keepalives_idle": 10,
    "tcp_keepalives_interval": 2,
    "tcp_keepalives_count": 3,
}


class PgLeases:
    """Named leases as session-level advisory locks (``pg_try_advisory_lock``), keyed by
    the node's schema and the name, on one connection of their own; thread-safe.

    The locks last as long as the session: released by :meth:`release`, or by
    PostgreSQL when the connection ends, however the process ends. A broken connection
    loses every lease; :meth:`holds` says so and :meth:`acquire` reconnects."""

    def __init__(self, conninfo: str, schema: str) -> None:
        # Client-side keepalives too: a holder cut off from the server notices as well.
        self._conninfo = make_conninfo(
            _with_name(conninfo, "lease"),
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=2,
            keepalives_count=3,
        )
        self._schema = schema
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[TupleRow] | None = None
        self._held: set[str] = set()

    def key(self, name: str) -> int:
        digest = hashlib.blake2b(f"kizuna:{self._schema}:{name}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big", signed=True)

    def acquire(self, name: str) -> bool:
        with self._lock:
            if name in self._held and self._alive():
                return True
            try:
                if self._conn is None:
                    self._conn = self._connect()
                row = self._conn.execute(
                    "SELECT pg_try_advisory_lock(%s)", (self.key(name),)
                ).fetchone()
            except psycopg.Error as exc:
                log.warning("lease: database unreachable", lease=name, error=str(exc)[:200])
                self._drop()
                return False
            if row is not None and row[0]:
                self._held.add(name)
                return True
            return False

    def _connect(self) -> psycopg.Connection[TupleRow]:
        conn = psycopg.connect(self._conninfo, autocommit=True)
        # A holder whose machine vanishes (no FIN, unlike a killed process) keeps its
        # session until the server notices: probe the client after a few idle
        # seconds instead of the system's two hours, so another worker takes over soon.
        for setting, value in LEASE_KEEPALIVES.items():
            conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(setting), value))
        return conn

    def holds(self, name: str) -> bool:
        with self._lock:
            return name in self._held and self._alive()

    def release(self, name: str) -> None:
        with self._lock:
            if name not in self._held:
                return
            self._held.discard(name)
            if self._conn is None:
                return
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key(name),))
            except psycopg.Error:
                self._drop()

    def close(self) -> None:
        """Release every lease now (the server ends a closed session a moment later)."""
        with self._lock:
            if self._conn is not None and self._held:
                with contextlib.suppress(psycopg.Error):
                    self._conn.execute("SELECT pg_advisory_unlock_all()")
            self._drop()

    def _alive(self) -> bool:
        """The session still exists (so its locks do); under the lock."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            self._drop()
            return False

    def _drop(self) -> None:
        """Forget the connection and every lease it held; under the lock."""
        self._held.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()
