"""The network status of a running node, every second (issue 19, ADR 0020).

Each tick reads every link's state and its outbox's depth and oldest entry per precedence,
sets the metrics, raises and clears the alerts (:mod:`alerts`), and hands the status to the
operators' WebSocket feed (:mod:`live`) when it changed and to ``network-status.json`` in
the node directory, which ``kizuna peer status`` reads (fresh while the node runs; removed
when it stops).

Digest comparison: while the outbox for a peer is empty, every ``[federation]
digest_every_s`` the monitor asks the peer for *its* digest of what the two share, over the
federation transport (``GET /federation/v1/digest``, mutual TLS; NATS: the digest request),
and compares it with ours. The probe also tells an idle link's state (nothing else talks to
the peer while nothing is to be sent). A peer with entries waiting shows ``not_yet``: the
comparison means something only once the queue has drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from pathlib import Path
from typing import Any, Protocol

import msgspec
import structlog

from kizuna.federation.alerts import AlertBook, Facts, conditions
from kizuna.federation.digest import Digest
from kizuna.federation.link import Link
from kizuna.federation.rules import Peer
from kizuna.federation.status import (
    DigestState,
    DigestStatus,
    NetworkSettings,
    NetworkStatus,
    PeerStatus,
    iso,
    peer_status,
    settings_of,
)
from kizuna.kernel.metrics import Metrics
from kizuna.kernel.streams import TransportError
from kizuna.store.base import Outbox

log = structlog.get_logger("kizuna.federation")

STATUS_SECONDS = 1.0  # how often the status is taken
STATUS_FILE = "network-status.json"  # in the node directory, for `kizuna peer status`
PROBE_TIMEOUT = 10.0  # seconds a digest probe may take


class Federated(Protocol):
    """What the monitor reads of the node's federation (:class:`service.Federation`)."""

    node_id: str
    peers: dict[str, Peer]
    links: dict[str, Link]

    def shared(self, peer_id: str) -> Digest: ...


class DigestCheck:
    """The last digest comparison with one peer."""

    def __init__(self) -> None:
        self.state: DigestState = "not_yet"
        self.checked_at: float | None = None
        self.differ_since: float | None = None
        self.last_probe = -math.inf  # monotonic
        self.queued = True  # entries wait for the peer: no comparison now
        self.task: asyncio.Task[None] | None = None

    def record(self, agree: bool, now: float) -> None:
        if agree:
            self.differ_since = None
        elif self.differ_since is None:
            self.differ_since = now
        self.state = "agree" if agree else "differ"
        self.checked_at = now

    def reset(self) -> None:
        self.state, self.checked_at, self.differ_since = "not_yet", None, None

    def status(self) -> DigestStatus:
        return DigestStatus(state=self.state, checked_at=iso(self.checked_at))


class NetworkMonitor:
    def __init__(
        self,
        federation: Federated,
        *,
        nation: str,
        outbox: Outbox,
        metrics: Metrics,
        root: Path,
        settings: NetworkSettings | None = None,
    ) -> None:
        self.federation = federation
        self.nation = nation
        self.outbox = outbox
        self.metrics = metrics
        self.file = root / STATUS_FILE
        self.settings = settings or NetworkSettings()
        self.book = AlertBook(metrics)
        self.checks: dict[str, DigestCheck] = {}
        self.version = 0  # raised whenever the status changes (the live feed sends it then)
        self.body: dict[str, Any] | None = None  # the latest status, as JSON-ready builtins
        self._latest: NetworkStatus | None = None
        self._compared: dict[str, Any] | None = None
        self._labelled: set[str] = set()  # peers the gauges have label sets of

    def clock(self) -> float:
        """The federation's wall clock (POSIX seconds), moved by ``clock_offset_s`` in tests."""
        return time.time() + self.settings.clock_offset_s

    def configure(self, table: dict[str, Any] | None) -> None:
        """Apply a ``[federation]`` table (ValueError: a bad one; the old settings stay)."""
        settings = settings_of(table)
        if settings != self.settings:
            log.info("federation settings", **msgspec.to_builtins(settings))
        self.settings = settings

    # -- the status ----------------------------------------------------------------
    def current(self) -> NetworkStatus:
        """The latest status (taken now if the monitor has not run yet)."""
        return self._latest if self._latest is not None else self.snapshot()

    def snapshot(self) -> NetworkStatus:
        """Take the status now: metrics set, alerts raised and cleared."""
        now = self.clock()
        peers: list[PeerStatus] = []
        facts: list[Facts] = []
        for pid in sorted(self.federation.peers):
            peer = self.federation.peers[pid]
            link = self.federation.links.get(pid)
            if link is None:
                continue
            stats = self.outbox.queue_stats(pid)
            check = self.checks.setdefault(pid, DigestCheck())
            check.queued = any(n for n, _ in stats.values())
            if check.queued:
                check.reset()
            status = peer_status(
                peer_id=pid,
                nation=peer.config.nation,
                transport=peer.config.transport,
                link=link.state,
                stats=stats,
                digest=check.status(),
                now=now,
            )
            peers.append(status)
            facts.append(
                Facts(
                    peer=pid,
                    connected=status.state == "connected",
                    cut_since=link.state.cut_since,
                    up_since=link.state.up_since,
                    flash_age=status.queues[0].oldest_age_s,
                    differ_since=check.differ_since,
                )
            )
            self._measure(status, link)
        self._forget_removed()
        alerts = self.book.update(conditions(facts, self.settings, now))
        self._latest = NetworkStatus(
            node=self.federation.node_id,
            nation=self.nation,
            now=iso(now) or "",
            peers=peers,
            alerts=alerts,
        )
        return self._latest

    def _measure(self, status: PeerStatus, link: Link) -> None:
        m, pid = self.metrics, status.id
        self._labelled.add(pid)
        m.link_up.labels(pid).set(1 if status.state == "connected" else 0)
        if link.state.rtt is not None:
            m.link_rtt.labels(pid).set(link.state.rtt)
        for q in status.queues:
            m.outbox_queued.labels(pid, q.precedence).set(q.depth)
            m.outbox_oldest.labels(pid, q.precedence).set(q.oldest_age_s or 0.0)
        agree = {"agree": 1, "differ": 0, "not_yet": -1}[status.digest.state]
        m.digest_agree.labels(pid).set(agree)

    def _forget_removed(self) -> None:
        """A removed peer's label sets leave /metrics; its digest check is dropped."""
        for pid in self._labelled - set(self.federation.links):
            for gauge in (self.metrics.link_up, self.metrics.link_rtt, self.metrics.digest_agree):
                with contextlib.suppress(KeyError):
                    gauge.remove(pid)
            for q in ("FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"):
                for gauge in (self.metrics.outbox_queued, self.metrics.outbox_oldest):
                    with contextlib.suppress(KeyError):
                        gauge.remove(pid, q)
            self._labelled.discard(pid)
            check = self.checks.pop(pid, None)
            if check is not None and check.task is not None:
                check.task.cancel()

    def _publish(self, status: NetworkStatus) -> None:
        body: dict[str, Any] = msgspec.to_builtins(status)
        compared = {k: v for k, v in body.items() if k != "now"}
        if compared != self._compared:
            self._compared = compared
            self.version += 1
        self.body = body
        self._write(msgspec.json.encode(status))

    def _write(self, data: bytes) -> None:
        tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, self.file)
        except OSError as exc:
            log.warning("network status not written", error=str(exc)[:200])

    # -- the loop ------------------------------------------------------------------
    async def run(self) -> None:
        try:
            while True:
                try:
                    self._publish(self.snapshot())
                    self._probe_due()
                except Exception:  # one bad tick (a store hiccup) must not end the status
                    log.exception("network status failed")
                await asyncio.sleep(STATUS_SECONDS)
        finally:
            for check in self.checks.values():
                if check.task is not None:
                    check.task.cancel()
            with contextlib.suppress(OSError):
                self.file.unlink()

    def _probe_due(self) -> None:
        mono = time.monotonic()
        for pid, link in list(self.federation.links.items()):
            check = self.checks.get(pid)
            if check is None or check.queued or (check.task and not check.task.done()):
                continue
            if mono - check.last_probe < self.settings.digest_every_s:
                continue
            check.last_probe = mono
            check.task = asyncio.create_task(self.probe(pid, link, check))

    async def probe(self, peer_id: str, link: Link, check: DigestCheck) -> None:
        """Ask the peer for its digest and compare it with ours."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                theirs = await link.connection.digest()
        except TransportError as exc:
            link.state.failure(exc)
            return
        except TimeoutError:
            link.state.failure(TransportError("digest probe timed out"))
            return
        link.state.success(time.monotonic() - started)
        try:
            ours = await asyncio.to_thread(self.federation.shared, peer_id)
        except Exception as exc:  # the peer removed meanwhile, a store error
            log.warning("digest not compared", peer=peer_id, error=str(exc)[:200])
            return
        agree = theirs.get("digest") == ours.digest
        if not agree and check.state != "differ":
            log.info("digests differ", peer=peer_id, ours=ours.count, theirs=theirs.get("count"))
        check.record(agree, self.clock())
