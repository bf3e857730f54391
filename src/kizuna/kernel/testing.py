"""An in-memory node context for unit tests of services (no `kizuna init`, no processes)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from kizuna.core.labels import GroupRegistry
from kizuna.kernel.bus import PushBus
from kizuna.kernel.context import Identity, NodeContext
from kizuna.kernel.metrics import Metrics
from kizuna.store.audit import AuditLog
from kizuna.store.base import Backend


def memory_context(
    node_id: str = "usfj",
    nation: str = "USA",
    *,
    root: Path | None = None,
    groups: Mapping[str, list[str]] | None = None,
    settings: msgspec.Struct | None = None,
    services: Mapping[str, Any] | None = None,
    backend: Backend | None = None,
    name: str = "test",
) -> NodeContext:
    """A context on a fresh SQLite backend in a temporary directory (or ``root``)."""
    from kizuna.store.sqlite_backend import SqliteBackend

    where = root if root is not None else Path(tempfile.mkdtemp(prefix="kizuna-test-"))
    store = backend if backend is not None else SqliteBackend("sqlite", where, node_id)
    anchor: dict[str, str] = {}
    return NodeContext(
        Identity(node_id=node_id, nation=nation, root=where),
        groups=GroupRegistry(dict(groups) if groups is not None else {"ACM": ["USA", "JPN"]}),
        backend=store,
        audit=AuditLog(
            where / "audit.log", lambda: anchor.get("head"), lambda h: anchor.__setitem__("head", h)
        ),
        bus=PushBus(),
        metrics=Metrics(),
        settings=settings,
        services=dict(services or {}),
        name=name,
    )
