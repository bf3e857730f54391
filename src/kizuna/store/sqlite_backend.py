"""The embedded default backend: one SQLite file (WAL) in the node directory.

One process serves the node, so its leases are in-process (:class:`LocalLeases`) and no
other process's commits are ever reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kizuna.store.base import LocalLeases
from kizuna.store.outbox import SqliteOutbox
from kizuna.store.sqlite import SqliteStore
from kizuna.store.tracks import TrackStore

DB_FILE = "kizuna.db"


def db_path(url: str, root: Path) -> Path:
    """``sqlite`` (the node directory's own file) or ``sqlite:///absolute/path.db``."""
    if url in ("", "sqlite"):
        return root / DB_FILE
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite://") :])
    raise ValueError(f"not a SQLite store setting: {url!r} (use 'sqlite' or 'sqlite:///path')")


class SqliteBackend:
    name = "sqlite"

    def __init__(self, url: str, root: Path, node_id: str) -> None:
        self.path = db_path(url, root)
        store = SqliteStore(self.path, node_id)
        self.events = store
        self.users = store
        self.meta = store
        self.outbox = SqliteOutbox(store)
        self.leases = LocalLeases()

    def spatial_index(self, item_type: type[Any], **options: Any) -> TrackStore:
        return TrackStore(self.path, item_type=item_type, **options)

    def close(self) -> None:
        self.events.close()


def open_sqlite(url: str, root: Path, node_id: str) -> SqliteBackend:
    return SqliteBackend(url, root, node_id)
