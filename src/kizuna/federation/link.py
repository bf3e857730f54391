"""One outbound link: fill the peer's outbox, drain it by precedence, back off on failure."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import httpx
import msgspec
import structlog

from kizuna.core.records import Event, Precedence
from kizuna.federation.agreements import Peer, outbound_refusal, outbound_track_refusal
from kizuna.federation.tls import client_context
from kizuna.federation.wire import Ack, encode_batch, encode_tracks
from kizuna.node.runtime import Node
from kizuna.store.outbox import Outbox

log = structlog.get_logger("kizuna.federation")

MIN_BUDGET, MAX_BUDGET = 2_048, 1_048_576  # bytes per batch, adapted to the link
TARGET_SECONDS = 0.5  # a batch should take about this long, so FLASH never waits behind much
MAX_EVENTS = 2_000
BACKOFF_MIN, BACKOFF_MAX = 0.1, 2.0


class Link:
    def __init__(self, node: Node, peer: Peer, outbox: Outbox, peer_file: Path) -> None:
        self.node = node
        self.peer = peer
        self.outbox = outbox
        self.wake = asyncio.Event()
        self.budget = 65_536
        self.connected = False
        self._client = httpx.AsyncClient(
            verify=client_context(node.dir, peer_file),
            timeout=httpx.Timeout(30.0, connect=5.0),
        )
        base = peer.config.url.rstrip("/")
        self._url = base + "/federation/v1/events"
        self._tracks_url = base + "/federation/v1/tracks"
        self.track_cursor = 0  # in memory: after a restart the current picture is resent

    def _allowed(self, event: Event) -> bool:
        reason = outbound_refusal(self.node.node_id, self.peer, event)
        if reason == "label":
            self.node.metrics.released_denied.labels(f"federation:{self.peer.id}").inc()
        return reason is None

    def fill(self) -> int:
        """Move newly committed events into the outbox (release checked at enqueue)."""
        total = 0
        while True:
            scanned, _ = self.outbox.enqueue_new(self.peer.id, self._allowed)
            total += scanned
            if scanned < 5000:
                return total

    def _batch(self) -> tuple[list[int], list[Event]]:
        rows = self.outbox.next_batch(self.peer.id, MAX_EVENTS)
        positions, events, denied, size = [], [], [], 0
        for pos, event, nbytes in rows:
            # Checked again at send time: agreements and labels may have changed.
            if not self._allowed(event):
                denied.append(pos)
                continue
            if events and size + nbytes > self.budget:
                break
            size += nbytes
            positions.append(pos)
            if event.origin != self.node.node_id:
                event = msgspec.structs.replace(event, hops=event.hops + 1)
            events.append(event)
        if denied:
            log.warning("withheld at send time", peer=self.peer.id, count=len(denied))
            self.outbox.ack(self.peer.id, denied)
        return positions, events

    async def run(self) -> None:
        backoff = BACKOFF_MIN
        try:
            while True:
                self.fill()
                positions, events = self._batch()
                self.node.metrics.outbox_depth.labels(self.peer.id).set(
                    self.outbox.depth(self.peer.id)
                )
                urgent = any(e.precedence <= Precedence.IMMEDIATE for e in events)
                started = time.monotonic()
                try:
                    ack = await self._post(self._url, encode_batch(events)) if events else None
                    # Tracks ride along when no FLASH or IMMEDIATE traffic is waiting.
                    sent_tracks = 0 if urgent else await self._send_tracks()
                except (httpx.HTTPError, msgspec.DecodeError, OSError) as exc:
                    if self.connected:
                        log.warning("link down", peer=self.peer.id, error=str(exc)[:200])
                    self.connected = False
                    self.budget = max(MIN_BUDGET, self.budget // 2)
                    await asyncio.sleep(backoff)
                    backoff = min(BACKOFF_MAX, backoff * 2)
                    continue
                if ack is None and not sent_tracks:
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), timeout=1.0)
                    continue
                if not self.connected:
                    log.info("link up", peer=self.peer.id)
                self.connected = True
                backoff = BACKOFF_MIN
                self._adapt(time.monotonic() - started)
                if ack is not None:
                    self.outbox.ack(self.peer.id, positions)
                    self.node.metrics.federation_sent.labels(self.peer.id).inc(ack.accepted)
        finally:
            await self._client.aclose()

    async def _post(self, url: str, body: bytes) -> Ack:
        response = await self._client.post(
            url, content=body, headers={"content-type": "application/x-kizuna-batch"}
        )
        if response.status_code != 200:
            raise httpx.HTTPStatusError(
                f"peer answered {response.status_code}: {response.text[:200]}",
                request=response.request,
                response=response,
            )
        return msgspec.json.decode(response.content, type=Ack)

    async def _send_tracks(self) -> int:
        """Send the picture's changes since the cursor (coalesced, release-checked)."""
        changes, cursor = self.node.picture.changes_since(self.track_cursor, 500)
        if cursor == self.track_cursor:
            return 0
        tracks = [t for t in changes if outbound_track_refusal(self.peer, t) is None]
        if tracks:
            await self._post(self._tracks_url, encode_tracks(tracks))
        self.track_cursor = cursor
        return len(tracks) or 1

    def _adapt(self, seconds: float) -> None:
        if seconds > TARGET_SECONDS:
            self.budget = max(MIN_BUDGET, int(self.budget * TARGET_SECONDS / seconds))
        elif seconds < TARGET_SECONDS / 4:
            self.budget = min(MAX_BUDGET, self.budget * 2)
