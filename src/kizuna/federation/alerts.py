"""Network alerts (ADR 0020): a FLASH item queued past its objective, a link cut longer than
``[federation] link_cut_alert_s``, digests that still differ ``digest_alert_s`` after the
link came up.

:func:`conditions` is pure: what is wrong now, and since when. :class:`AlertBook` keeps the
alerts active, counts each one raised (``kizuna_network_alerts_total{kind}``) and shows the
active ones (``kizuna_network_alert_active{kind,peer}``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import structlog

from kizuna.core.catalog import Catalog
from kizuna.federation.status import (
    OBJECTIVES,
    AlertKind,
    NetworkAlert,
    NetworkSettings,
    iso,
)
from kizuna.kernel.metrics import Metrics

log = structlog.get_logger("kizuna.federation")

CATALOG = Catalog("kizuna.federation")

Key = tuple[AlertKind, str]  # (kind, peer)


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What the alerts read of one peer, in the federation's clock (POSIX seconds)."""

    peer: str
    connected: bool
    cut_since: float | None  # the first failure since the last success
    up_since: float | None  # connected continuously since
    flash_age: float | None  # the oldest FLASH entry waiting for the peer
    differ_since: float | None  # digests compared unequal since (None: agree or not yet)


def conditions(peers: Iterable[Facts], settings: NetworkSettings, now: float) -> dict[Key, float]:
    """Each alert that holds now, with the time its condition began."""
    out: dict[Key, float] = {}
    flash = OBJECTIVES[min(OBJECTIVES)]
    for p in peers:
        if p.flash_age is not None and p.flash_age > flash:
            out[("flash_overdue", p.peer)] = now - (p.flash_age - flash)
        if (
            not p.connected
            and p.cut_since is not None
            and now - p.cut_since >= settings.link_cut_alert_s
        ):
            out[("link_cut", p.peer)] = p.cut_since
        if p.connected and p.up_since is not None and p.differ_since is not None:
            since = max(p.up_since, p.differ_since)
            if now - since >= settings.digest_alert_s:
                out[("digest_differ", p.peer)] = since
    return out


class AlertBook:
    """The active alerts of a node: raised once when their condition begins to hold."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.active: dict[Key, float] = {}

    def update(self, holding: dict[Key, float]) -> list[NetworkAlert]:
        for key in holding.keys() - self.active.keys():
            kind, peer = key
            self.metrics.network_alerts.labels(kind).inc()
            self.metrics.network_alert_active.labels(kind, peer).set(1)
            log.warning("network alert", kind=kind, peer=peer, since=iso(holding[key]))
        for key in self.active.keys() - holding.keys():
            kind, peer = key
            self.metrics.network_alert_active.labels(kind, peer).set(0)
            log.info("network alert cleared", kind=kind, peer=peer)
        self.active = dict(holding)
        return [
            NetworkAlert(
                kind=kind,
                peer=peer,
                since=iso(since) or "",
                title=CATALOG.text(f"alert.{kind}", peer=peer),
            )
            for (kind, peer), since in sorted(self.active.items())
        ]
