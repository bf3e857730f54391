"""``kizuna peer status``: the running node's network status, read and printed as a table.

A running node writes ``network-status.json`` in its directory every second
(:mod:`monitor`) and removes it when it stops; a file older than :data:`STALE_SECONDS` is
what a node that died left behind. Text comes from the federation catalog (EN/JA).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import msgspec

from kizuna.core.catalog import Catalog
from kizuna.federation.monitor import STATUS_FILE
from kizuna.federation.status import NetworkStatus, PeerStatus, QueueStatus

CATALOG = Catalog("kizuna.federation")
STALE_SECONDS = 5.0  # a status older than this: the node is not running


class NotRunning(Exception):
    """The node writes no network status now; ``str()`` says so in the language asked."""


def read_status(root: Path, node_id: str, language: str = "en") -> NetworkStatus:
    """The running node's status (NotRunning: it does not run)."""
    path = root / STATUS_FILE
    try:
        data = path.read_bytes()
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        raise NotRunning(CATALOG.get(language, "cli.no-status", node=node_id, dir=root)) from None
    if age > STALE_SECONDS:
        raise NotRunning(
            CATALOG.get(language, "cli.not-running", node=node_id, age=int(age), dir=root)
        )
    try:
        return msgspec.json.decode(data, type=NetworkStatus)
    except msgspec.DecodeError:  # caught half-written: cannot happen with os.replace
        raise NotRunning(CATALOG.get(language, "cli.no-status", node=node_id, dir=root)) from None


def duration(seconds: float, language: str) -> str:
    s = int(seconds)
    if s < 60:
        return CATALOG.get(language, "dur.s", s=s)
    if s < 3600:
        return CATALOG.get(language, "dur.m", m=s // 60, s=s % 60)
    return CATALOG.get(language, "dur.h", h=s // 3600, m=(s % 3600) // 60)


def _time(iso: str | None, language: str) -> str:
    if iso is None:
        return CATALOG.get(language, "never")
    return datetime.fromisoformat(iso).strftime("%H:%M:%SZ")


def _queue(q: QueueStatus, language: str) -> str:
    if q.oldest_age_s is None:
        return str(q.depth)
    key = "queue.overdue" if q.overdue else "queue.age"
    return CATALOG.get(language, key, depth=q.depth, age=duration(q.oldest_age_s, language))


def _state(p: PeerStatus, language: str) -> str:
    if p.state == "backoff" and p.backoff_until is not None:
        return CATALOG.get(language, "state.backoff-until", time=_time(p.backoff_until, language))
    return CATALOG.get(language, f"state.{p.state}")


COLUMNS = (
    "peer",
    "nation",
    "transport",
    "state",
    "last-contact",
    "rtt",
    "flash",
    "immediate",
    "priority",
    "routine",
    "in",
    "out",
    "refusals",
    "digest",
)


def row(p: PeerStatus, language: str) -> list[str]:
    refusals = ",".join(f"{k}={n}" for k, n in p.refusals.items()) or "0"
    return [
        p.id,
        p.nation,
        p.transport,
        _state(p, language),
        _time(p.last_contact, language),
        "-" if p.rtt_ms is None else f"{p.rtt_ms:.1f}",
        *(_queue(q, language) for q in p.queues),
        f"{p.received_per_s:.1f}",
        f"{p.sent_per_s:.1f}",
        refusals,
        CATALOG.get(language, f"digest.{p.digest.state}"),
    ]


def _width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if ord(c) >= 0x1100 else 1 for c in text)


def render(status: NetworkStatus, language: str = "en") -> list[str]:
    """The lines ``kizuna peer status`` prints."""
    lines = [
        CATALOG.get(language, "cli.title", node=status.node, nation=status.nation, now=status.now)
    ]
    if not status.peers:
        lines.append(CATALOG.get(language, "cli.no-peers"))
    else:
        table = [[CATALOG.get(language, f"col.{c}") for c in COLUMNS]]
        table += [row(p, language) for p in status.peers]
        widths = [max(_width(r[i]) for r in table) for i in range(len(COLUMNS))]
        for r in table:
            cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(r)]
            lines.append("  ".join(cells).rstrip())
    if status.alerts:
        lines.append(CATALOG.get(language, "cli.alerts"))
        for a in status.alerts:
            title = a.title.ja if language == "ja" and a.title.ja else a.title.en
            lines.append(
                CATALOG.get(
                    language, "cli.alert", kind=a.kind, peer=a.peer, since=a.since, title=title
                )
            )
    else:
        lines.append(CATALOG.get(language, "cli.no-alerts"))
    return lines
