"""The store interface. Nothing above ``store/`` knows which database is behind it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

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


CommitListener = Callable[[Sequence[Event]], None]


class User(msgspec.Struct, kw_only=True):
    """A person who logs in; tokens and passwords are stored hashed."""

    name: str
    nation: str
    clearance: str
    groups: list[str] = []
    roles: list[str] = []
    token_hash: str = ""
    password_hash: str = ""


class Store(Protocol):
    """What every backend provides."""

    node_id: str

    def register_merge(self, record_type: str, merge: Merge) -> None: ...

    def on_commit(self, listener: CommitListener) -> None: ...

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

    def add_user(self, user: User) -> None: ...

    def user_by_token_hash(self, token_hash: str) -> User | None: ...

    def user_by_name(self, name: str) -> User | None: ...

    def meta_get(self, key: str) -> str | None: ...

    def meta_set(self, key: str, value: str) -> None: ...

    def close(self) -> None: ...
