"""Pure rules of reports."""

from __future__ import annotations

from kizuna.core.records import Event, RecordState
from kizuna.kernel.contract import origin_owns


def owner_may_edit(origin: str, node_id: str) -> bool:
    """Sovereignty: a report is changed only on the node that originated it."""
    return origin == node_id


def report_owner(state: RecordState | None, event: Event) -> str | None:
    """The same sovereignty at receipt: a peer's create, patch or tombstone of a report is
    refused (``not_owner``) unless its origin is the node that created the report."""
    return origin_owns(state, event)
