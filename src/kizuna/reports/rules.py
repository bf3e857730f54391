"""Pure rules of reports."""

from __future__ import annotations

from collections.abc import Sequence

from kizuna.core.catalog import Catalog, Message
from kizuna.core.records import Event, RecordState
from kizuna.kernel.contract import origin_owns

MESSAGES = Catalog("kizuna.reports")


def joined(problems: Sequence[str | Message]) -> dict[str, str]:
    """Problems joined for a detail, in English and in Japanese (``problems``,
    ``problems_ja``); a plain string, from a check without a catalog message, as it is."""

    def text(p: str | Message, language: str) -> str:
        return p.render(language) if isinstance(p, Message) else p

    return {
        "problems": "; ".join(text(p, "en") for p in problems),
        "problems_ja": "; ".join(text(p, "ja") for p in problems),
    }


def owner_may_edit(origin: str, node_id: str) -> bool:
    """Sovereignty: a report is changed only on the node that originated it."""
    return origin == node_id


def report_owner(state: RecordState | None, event: Event) -> str | None:
    """The same sovereignty at receipt: a peer's create, patch or tombstone of a report is
    refused (``not_owner``) unless its origin is the node that created the report."""
    return origin_owns(state, event)
