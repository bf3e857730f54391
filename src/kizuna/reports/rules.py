"""Pure rules of reports."""

from __future__ import annotations


def owner_may_edit(origin: str, node_id: str) -> bool:
    """Sovereignty: a report is changed only on the node that originated it."""
    return origin == node_id
