"""The network status of a node (issue 19, ADR 0020): what ``GET /api/v1/network`` answers,
the ``network`` WebSocket topic carries and ``kizuna peer status`` prints.

Pure: the shapes, the ACP 121 handling-time objectives, the ``[federation]`` settings and
the functions that build a peer's status from what its link and outbox hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from kizuna.core.records import Precedence, Text
from kizuna.federation.linkstate import LinkState

PrecedenceName = Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]
PeerState = Literal["connected", "cut", "refusing", "backoff"]
DigestState = Literal["agree", "differ", "not_yet"]
AlertKind = Literal["flash_overdue", "link_cut", "digest_differ"]

PRECEDENCES = (Precedence.FLASH, Precedence.IMMEDIATE, Precedence.PRIORITY, Precedence.ROUTINE)
# ACP 121 handling-time objectives, seconds: 10 min, 30 min, 3 h, 6 h.
OBJECTIVES = {
    Precedence.FLASH: 600,
    Precedence.IMMEDIATE: 1800,
    Precedence.PRIORITY: 10800,
    Precedence.ROUTINE: 21600,
}


class QueueStatus(msgspec.Struct, kw_only=True):
    precedence: PrecedenceName
    depth: int
    oldest_age_s: float | None  # None: nothing waits (or only entries of unknown age)
    objective_s: int
    overdue: bool


class DigestStatus(msgspec.Struct, kw_only=True):
    state: DigestState
    checked_at: str | None


class NetworkAlert(msgspec.Struct, kw_only=True):
    kind: AlertKind
    peer: str
    since: str  # when the condition began (ISO UTC)
    title: Text


class PeerStatus(msgspec.Struct, kw_only=True):
    id: str
    nation: str
    transport: str
    state: PeerState
    backoff_until: str | None
    last_contact: str | None
    cut_since: str | None
    rtt_ms: float | None
    queues: list[QueueStatus]  # FLASH, IMMEDIATE, PRIORITY, ROUTINE
    sent_per_s: float
    received_per_s: float
    sent_total: int
    received_total: int
    refusals: dict[str, int]  # by reason, both directions added up
    digest: DigestStatus
    # Added fields: the refusals of each direction, and the last failure's description.
    refusals_in: dict[str, int] = {}  # items from the peer refused at receipt
    refusals_out: dict[str, int] = {}  # items withheld at send; batches the peer refused
    error: str = ""


class NetworkStatus(msgspec.Struct, kw_only=True):
    node: str
    nation: str
    now: str
    peers: list[PeerStatus]
    alerts: list[NetworkAlert]


class NetworkSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[federation]`` in ``node.toml``, read again whenever the file changes."""

    link_cut_alert_s: float = 60.0  # a link down this long raises ``link_cut``
    digest_every_s: float = 15.0  # how often an idle, drained link compares digests
    digest_alert_s: float = 60.0  # digests differing this long, link up, raise ``digest_differ``
    # Tests only: seconds added to the wall clock of the network status (ages, alerts).
    clock_offset_s: float = 0.0


def settings_of(table: Mapping[str, Any] | None) -> NetworkSettings:
    """The settings of a ``[federation]`` table (ValueError: a bad one)."""
    try:
        return msgspec.convert(dict(table or {}), NetworkSettings)
    except msgspec.ValidationError as exc:
        raise ValueError(f"[federation]: {exc}") from None


def iso(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def queues(stats: Mapping[Precedence, tuple[int, float | None]], now: float) -> list[QueueStatus]:
    """The four queues, in precedence order, from an outbox's ``queue_stats``."""
    out = []
    for p in PRECEDENCES:
        depth, oldest = stats.get(p, (0, None))
        age = max(0.0, now - oldest) if depth and oldest is not None else None
        objective = OBJECTIVES[p]
        out.append(
            QueueStatus(
                precedence=p.name,  # type: ignore[arg-type]
                depth=depth,
                oldest_age_s=None if age is None else round(age, 3),
                objective_s=objective,
                overdue=age is not None and age > objective,
            )
        )
    return out


def peer_status(
    *,
    peer_id: str,
    nation: str,
    transport: str,
    link: LinkState,
    stats: Mapping[Precedence, tuple[int, float | None]],
    digest: DigestStatus,
    now: float,
) -> PeerStatus:
    both, inbound, outbound = link.refusal_counts()
    return PeerStatus(
        id=peer_id,
        nation=nation,
        transport=transport,
        state=link.state,
        backoff_until=iso(link.backoff_until) if link.state != "connected" else None,
        last_contact=iso(link.last_contact),
        cut_since=iso(link.cut_since) if link.state != "connected" else None,
        rtt_ms=None if link.rtt is None else round(link.rtt * 1000.0, 3),
        queues=queues(stats, now),
        sent_per_s=round(link.sent.per_second(), 3),
        received_per_s=round(link.received.per_second(), 3),
        sent_total=link.sent_total,
        received_total=link.received_total,
        refusals=both,
        refusals_in=inbound,
        refusals_out=outbound,
        digest=digest,
        error=link.error,
    )
