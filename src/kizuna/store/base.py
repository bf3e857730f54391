"""The store ports. Nothing above ``store/`` knows which database is behind them.

A backend (``kizuna.backends`` entry point) opens all of them from the node's
``store`` setting: the event log with its projections, the federation outbox,
users, metadata, a spatial index and leases. No domain type appears here: the spatial
index holds any msgspec Struct with a position, the event log any record type.

Several processes (workers) may share one backend's database and act as one node
(ADR 0011). Such a backend tells each process what the others commit: the event log's
``on_commit`` listeners also hear other processes' commits, and a spatial index that is
a :class:`RemoteEntries` hands other processes' writes to its listeners. A backend only
one process opens (SQLite) simply never calls back. :class:`Leases` elect one process
for a job (draining a peer's outbox); :class:`LocalLeases` serves a single process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import msgspec

from kizuna.core.labels import Label
from kizuna.core.merge import Merge
from kizuna.core.records import Event, Op, Precedence, RecordState


class Draft:
    """A local change before it becomes an event (the store assigns seq and hlc)."""

    __slots__ = (
        "author",
        "label",
        "new_record",
        "op",
        "payload",
        "precedence",
        "record_id",
        "record_type",
    )

    def __init__(
        self,
        record_type: str,
        record_id: str,
        op: Op,
        label: Label,
        payload: dict[str, Any],
        *,
        precedence: Precedence = Precedence.ROUTINE,
        author: str = "",
        new_record: bool = False,
    ) -> None:
        self.record_type = record_type
        self.record_id = record_id
        self.op = op
        self.label = label
        self.payload = payload
        self.precedence = precedence
        self.author = author
        # The caller minted a fresh id: there is no earlier state to load.
        self.new_record = new_record


def drafted_events(
    drafts: Sequence[Draft], origin: str, first_seq: int, stamps: Sequence[int]
) -> list[Event]:
    """``drafts`` as the events a backend commits: numbered from ``first_seq``, stamped."""
    return [
        Event(
            origin=origin,
            seq=first_seq + i,
            hlc=stamps[i],
            record_type=d.record_type,
            record_id=d.record_id,
            op=d.op,
            label=d.label,
            precedence=d.precedence,
            payload=d.payload,
            author=d.author,
        )
        for i, d in enumerate(drafts)
    ]


def fresh_ids(drafts: Sequence[Draft]) -> set[str]:
    """Records the drafts create under ids their caller just minted: no state to load."""
    return {d.record_id for d in drafts if d.new_record and d.op == "create"}


CommitListener = Callable[[Sequence[Event]], None]


class User(msgspec.Struct, kw_only=True):
    """A person who logs in; tokens and passwords are stored hashed.

    ``token_hash`` is the user's bearer token (``kizuna user add``/``user token``), empty
    when the user has none (revoked); ``token_expires_at`` (POSIX seconds) ends it, ``None``
    never. The store keeps the expiry; the node decides what has expired."""

    name: str
    nation: str
    clearance: str
    groups: list[str] = []
    roles: list[str] = []
    token_hash: str = ""
    password_hash: str = ""
    token_expires_at: float | None = None


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """A login session (``POST /api/v1/login``): the hash of its bearer token, whose it
    is and until when (POSIX seconds). Stored in the backend, so it outlives a restart."""

    token_hash: str
    name: str
    created_at: float
    expires_at: float


class EventLog(Protocol):
    """The append-only event log and the projections derived from it."""

    node_id: str

    def register_merge(self, record_type: str, merge: Merge) -> None: ...

    def on_commit(self, listener: CommitListener) -> None:
        """Call ``listener(events)`` after each commit of the node's log: this process's
        on the committing thread; with a database several processes share, every other
        process's too, on the backend's own thread, each event once and in log order."""
        ...

    def append(self, drafts: Sequence[Draft]) -> list[Event]:
        """Commit local changes atomically; returns the events written."""
        ...

    def apply(self, events: Iterable[Event]) -> list[Event]:
        """Apply events from peers idempotently; returns those that were new."""
        ...

    def get(self, record_type: str, record_id: str) -> RecordState | None: ...

    def scan(self, record_type: str) -> Iterable[RecordState]: ...

    def events_after(self, position: int, limit: int) -> list[tuple[int, Event]]: ...

    def record_events(self, record_type: str, record_id: str) -> list[Event]: ...

    def close(self) -> None: ...


class Users(Protocol):
    """Users and their credentials: bearer tokens and login sessions, both stored hashed."""

    def add_user(self, user: User) -> None:
        """Raises if the name or a non-empty token hash is taken."""
        ...

    def update_user(self, user: User) -> None:
        """Replace the user of that name (a new token, no token, a new password).

        Raises ``KeyError`` for an unknown name; raises if the token hash is another's."""
        ...

    def user_by_token_hash(self, token_hash: str) -> User | None:
        """The user whose bearer token this is; never a user without a token."""
        ...

    def user_by_name(self, name: str) -> User | None: ...

    def all_users(self) -> list[User]:
        """Every user, by name (backups, audits)."""
        ...

    def add_session(self, session: Session) -> None:
        """Raises if a session with that token hash exists."""
        ...

    def session_by_token_hash(self, token_hash: str) -> Session | None:
        """The session, expired or not (the caller compares ``expires_at``)."""
        ...

    def delete_session(self, token_hash: str) -> bool:
        """End one session; whether it existed."""
        ...

    def delete_sessions(self, name: str) -> int:
        """End every session of a user (revocation); how many there were."""
        ...

    def purge_sessions(self, before: float) -> int:
        """Delete sessions that expired at or before ``before``; how many."""
        ...


class Meta(Protocol):
    """Small node-wide key/value settings (audit anchor, cursors)."""

    def meta_get(self, key: str) -> str | None: ...

    def meta_set(self, key: str, value: str) -> None: ...


Decide = Callable[[Event], bool]


# Per precedence: (depth, oldest enqueue time in POSIX seconds, or None if unknown).
QueueStats = dict[Precedence, tuple[int, float | None]]


def queue_stats_of(rows: Iterable[Sequence[Any]]) -> QueueStats:
    """:data:`QueueStats` from ``(precedence, count, min(enqueued_at))`` rows (both backends)."""
    return {
        Precedence(int(prec)): (int(n), None if oldest is None else float(oldest))
        for prec, n, oldest in rows
    }


class Outbox(Protocol):
    """Per-peer queues of events, filled by a cursor scan of the log."""

    def cursor(self, peer: str) -> int: ...

    def enqueue_new(self, peer: str, decide: Decide, limit: int = 5000) -> tuple[int, int]:
        """Scan events after the peer's cursor; queue those ``decide`` allows.

        Returns (scanned, queued); queueing and moving the cursor are one transaction."""
        ...

    def next_batch(self, peer: str, limit: int) -> list[tuple[int, Event, int]]:
        """(position, event, size in bytes) by (precedence, hlc)."""
        ...

    def ack(self, peer: str, positions: list[int]) -> None: ...

    def depth(self, peer: str) -> int: ...

    def queue_stats(self, peer: str) -> QueueStats:
        """Per precedence waiting for ``peer``: (depth, oldest enqueue time, POSIX seconds;
        None for entries queued before enqueue times were kept). Precedences with nothing
        queued are left out."""
        ...

    def events_from(self, origins: tuple[str, ...]) -> list[Event]: ...


T = TypeVar("T")

Box = tuple[float, float, float, float]  # minlon, maxlon, minlat, maxlat


class Positioned(Protocol):
    """What the store reads of an item: any msgspec Struct with these attributes (the
    picture's tracks, a domain's beacons). ``id`` names the entry; ``source`` and
    ``source_id`` the trail within it."""

    @property
    def id(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def source_id(self) -> str: ...

    @property
    def lat(self) -> float: ...

    @property
    def lon(self) -> float: ...

    @property
    def observed_at(self) -> float: ...

    @property
    def stale_at(self) -> float: ...

    @property
    def course(self) -> float | None: ...

    @property
    def speed(self) -> float | None: ...

    @property
    def label(self) -> Label: ...


class HistoryPoint(msgspec.Struct, frozen=True):
    observed_at: float
    lat: float
    lon: float
    course: float | None
    speed: float | None
    label: Label


class EntryRow(msgspec.Struct, frozen=True):
    """An entry to write: its observations, the box covering them, its version."""

    id: str
    observations: Sequence[Any]  # items of the store's ``item_type``
    box: Box
    version: int


class SpatialIndex(Protocol[T]):
    """Latest state per entry (a list of items of one Struct type), an index of boxes
    for bounding-box queries, a change version per entry and thinned history."""

    def load(self) -> Any: ...

    def max_version(self) -> int: ...

    def changed_since(self, version: int, limit: int) -> list[tuple[str, list[T], int]]: ...

    def query_bbox(self, parts: Sequence[tuple[float, float, float, float]]) -> list[str]: ...

    def history(self, track_id: str, since: float, limit: int) -> list[Any]: ...

    def write(self, rows: Any, removed: Any = (), history: Any = ()) -> None: ...

    def close(self) -> None: ...


EntriesListener = Callable[[list[tuple[str, list[Any], int]]], None]


@runtime_checkable
class RemoteEntries(Protocol):
    """A spatial index shared by several processes: it reports what the others wrote."""

    def on_remote_change(self, listener: EntriesListener) -> None:
        """Call ``listener(rows)`` with the entries other processes wrote — ``(id, items,
        version)``, each write once, in version order — on the backend's own thread, which
        holds none of the index's locks then (a listener may take locks its writers hold)."""
        ...


class Leases(Protocol):
    """Named leases: at most one process of the node holds a name at a time.

    A lease ends when its holder releases it or dies (its database session ends), so a
    holder checks now and then that it still holds what it holds (:meth:`holds`)."""

    def acquire(self, name: str) -> bool:
        """Take ``name`` if no one holds it, without waiting; whether this process holds
        it now (also when it already did)."""
        ...

    def holds(self, name: str) -> bool:
        """Whether this process still holds ``name``."""
        ...

    def release(self, name: str) -> None: ...


class LocalLeases:
    """Leases within one process (a backend no other process opens: SQLite)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[str] = set()

    def acquire(self, name: str) -> bool:
        with self._lock:
            self._held.add(name)
            return True

    def holds(self, name: str) -> bool:
        with self._lock:
            return name in self._held

    def release(self, name: str) -> None:
        with self._lock:
            self._held.discard(name)


def leases_of(backend: Backend) -> Leases:
    """The backend's leases; a backend without any serves one process (in-process leases)."""
    leases: Leases | None = getattr(backend, "leases", None)
    return leases if leases is not None else LocalLeases()


class Backend(Protocol):
    """One storage engine: every port a node needs, opened from its settings."""

    name: str

    @property
    def events(self) -> EventLog: ...

    @property
    def users(self) -> Users: ...

    @property
    def meta(self) -> Meta: ...

    @property
    def outbox(self) -> Outbox: ...

    def spatial_index(self, item_type: type[Any], **options: Any) -> SpatialIndex[Any]: ...

    def close(self) -> None: ...


class BackendFactory(Protocol):
    def __call__(self, url: str, root: Path, node_id: str) -> Backend: ...
