"""Live picture over WebSocket: per-subscriber coalescing, bounded memory, release-checked.

Protocol (JSON text frames) on ``/api/v1/ws?token=TOKEN``:

client → server
  ``{"type": "subscribe", "bbox": [minlon, minlat, maxlon, maxlat] | null,
  "filters": {"affiliation": [...], "source": [...]}}`` — (re)subscribe; a
  ``null``/absent bbox means the whole picture.
  ``{"type": "stats"}`` — the server answers ``{"type": "stats", ...}``.

server → client
  ``{"type": "tracks", "snapshot": true, "items": [...]}`` — after subscribe:
  replaces the client's picture; more ``tracks`` chunks may follow.
  ``{"type": "tracks", "items": [...]}`` — changed tracks, at most every
  ``interval`` seconds (~100 ms), latest state per track id.
  ``{"type": "track_removed", "id": ...}`` — a track left the bbox/filters,
  became invisible to the caller, or was dropped as stale.
  ``{"type": <message_type>, "item": {...}}`` — :meth:`Hub.publish` pushes.
  ``{"type": "error", "detail": ...}`` — a bad client message.

Memory per subscriber is bounded: pending track changes are a dict keyed by
track id (so at most one entry per distinct track), generic pushes a dict
keyed by (type, item id) capped at ``max_messages``. A slow reader makes the
sender block on the socket while the dicts absorb further changes; nothing
queues without bound. Only the sender task writes to the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from kizuna.core.labels import Label
from kizuna.core.release import Principal, may_release
from kizuna.picture.models import Track
from kizuna.picture.rules import BBox, Observations, bbox_from_values, box_of

if TYPE_CHECKING:
    from kizuna.picture.service import PictureService

log = structlog.get_logger("kizuna.picture.live")

CHUNK = 1000  # items per "tracks" message
MAX_BAD_MESSAGES = 10


class Filters(msgspec.Struct, forbid_unknown_fields=True):
    affiliation: list[str] | None = None
    source: list[str] | None = None


class SubscribeIn(msgspec.Struct, tag="subscribe", tag_field="type", forbid_unknown_fields=True):
    bbox: list[float] | None = None
    filters: Filters = msgspec.field(default_factory=Filters)


class StatsIn(msgspec.Struct, tag="stats", tag_field="type", forbid_unknown_fields=True):
    pass


_client_dec = msgspec.json.Decoder(SubscribeIn | StatsIn)
_enc = msgspec.json.Encoder()


class Subscriber:
    """One WebSocket connection. Fields marked (lock) are guarded by the hub lock."""

    def __init__(self, principal: Principal, name: str) -> None:
        self.principal = principal
        self.name = name
        self.bbox: BBox | None = None  # (lock)
        self.subscribed = False  # (lock)
        self.affiliations: frozenset[str] | None = None
        self.sources: frozenset[str] | None = None
        self.pending: dict[str, Observations | None] = {}  # (lock) None: entry removed
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (lock)
        self.shown: set[str] = set()  # (lock) ids the client currently holds
        self.pending_max = 0
        self.messages_dropped = 0
        self.batches = 0
        self.items_sent = 0
        self.removed_sent = 0
        # control from the receiver (same event loop as the sender)
        self.wake = asyncio.Event()
        self.request: SubscribeIn | None = None
        self.want_stats = False
        self.errors: list[str] = []

    def matches(self, view: Track) -> bool:
        if self.bbox is not None and not self.bbox.contains(view.lat, view.lon):
            return False
        if self.affiliations is not None and view.affiliation not in self.affiliations:
            return False
        return self.sources is None or any(p.source in self.sources for p in view.sources)

    def stats(self) -> dict[str, Any]:
        return {
            "type": "stats",
            "pending": len(self.pending),
            "pending_max": self.pending_max,
            "messages_pending": len(self.messages),
            "messages_dropped": self.messages_dropped,
            "shown": len(self.shown),
            "batches": self.batches,
            "items_sent": self.items_sent,
            "removed_sent": self.removed_sent,
        }


class Hub:
    """Fan-out of picture changes and generic pushes to WebSocket subscribers."""

    def __init__(
        self, picture: PictureService, *, interval: float = 0.1, max_messages: int = 1000
    ) -> None:
        self.picture = picture
        self.interval = interval
        self.max_messages = max_messages
        self._lock = threading.Lock()
        self._subs: set[Subscriber] = set()
        self._seq = itertools.count()

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    # -- producers (any thread) ---------------------------------------------
    def publish_entries(self, changes: Mapping[str, Observations | None]) -> None:
        """Entries changed (``None``: removed). Coalesced per subscriber by track id."""
        if not self._subs:
            return
        with self._lock:
            for sub in self._subs:
                if not sub.subscribed:
                    continue
                bbox = sub.bbox
                pending = sub.pending
                shown = sub.shown
                for tid, observations in changes.items():
                    if (
                        observations is not None
                        and bbox is not None
                        and tid not in shown
                        and not bbox.intersects(box_of(observations))
                    ):
                        continue
                    if observations is None and tid not in shown:
                        pending.pop(tid, None)
                        continue
                    pending[tid] = observations
                if len(pending) > sub.pending_max:
                    sub.pending_max = len(pending)

    def publish(self, message_type: str, item: Mapping[str, Any], label: Label) -> None:
        """Push ``{"type": message_type, "item": item}`` to every connection that may see
        ``label`` (coalesced by (type, item["id"]); oldest dropped beyond ``max_messages``)."""
        if not self._subs:
            return
        key_id = item.get("id")
        with self._lock:
            for sub in self._subs:
                if not may_release(label, sub.principal):
                    continue
                key = (message_type, str(key_id) if key_id is not None else f"#{next(self._seq)}")
                sub.messages.pop(key, None)
                sub.messages[key] = {"type": message_type, "item": dict(item)}
                while len(sub.messages) > self.max_messages:
                    sub.messages.pop(next(iter(sub.messages)))
                    sub.messages_dropped += 1

    # -- a connection --------------------------------------------------------
    async def serve(
        self, socket: WebSocket[Any, Any, Any], principal: Principal, name: str
    ) -> None:
        """Run an accepted connection until either side closes it."""
        sub = Subscriber(principal, name)
        with self._lock:
            self._subs.add(sub)
        sender = asyncio.create_task(self._send_loop(socket, sub))
        receiver = asyncio.create_task(self._receive_loop(socket, sub))
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            with self._lock:
                self._subs.discard(sub)
            for task in (sender, receiver):
                task.cancel()
            for task in (sender, receiver):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await socket.close()

    async def _receive_loop(self, socket: WebSocket[Any, Any, Any], sub: Subscriber) -> None:
        bad = 0
        while True:
            try:
                raw = await socket.receive_data(mode="text")
            except WebSocketDisconnect:
                return
            try:
                msg = _client_dec.decode(raw)
                if isinstance(msg, SubscribeIn) and msg.bbox is not None:
                    bbox_from_values(msg.bbox)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
                bad += 1
                sub.errors.append(f"bad message: {exc}")
                sub.wake.set()
                if bad >= MAX_BAD_MESSAGES:
                    return
                continue
            if isinstance(msg, SubscribeIn):
                sub.request = msg
            else:
                sub.want_stats = True
            sub.wake.set()

    async def _send_loop(self, socket: WebSocket[Any, Any, Any], sub: Subscriber) -> None:
        loop = asyncio.get_running_loop()
        last_flush = 0.0
        while True:
            timeout = max(0.0, self.interval - (loop.time() - last_flush))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sub.wake.wait(), timeout)
            sub.wake.clear()
            while sub.errors:
                await socket.send_text(
                    _enc.encode({"type": "error", "detail": sub.errors.pop(0)}).decode()
                )
            if sub.request is not None:
                request, sub.request = sub.request, None
                await self._snapshot(socket, sub, request)
            if loop.time() - last_flush >= self.interval:
                last_flush = loop.time()
                if self.picture.sweep_due():
                    await asyncio.to_thread(self.picture.maybe_sweep)
                await self._flush(socket, sub)
            if sub.want_stats:
                sub.want_stats = False
                with self._lock:
                    stats = sub.stats()
                await socket.send_text(_enc.encode(stats).decode())

    async def _snapshot(
        self, socket: WebSocket[Any, Any, Any], sub: Subscriber, request: SubscribeIn
    ) -> None:
        bbox = bbox_from_values(request.bbox) if request.bbox is not None else None
        affiliations = request.filters.affiliation
        sources = request.filters.source
        picture = self.picture
        now = picture.clock()
        with self._lock:
            # Register the new subscription first: anything published after this
            # lands in `pending` and is sent after the snapshot.
            sub.bbox = bbox
            sub.affiliations = frozenset(affiliations) if affiliations is not None else None
            sub.sources = frozenset(sources) if sources is not None else None
            sub.subscribed = True
            sub.pending = {}
            candidates = picture.candidates(bbox)
            views = []
            for _tid, observations in candidates:
                view = picture.view_of(observations, sub.principal, now)
                if view is not None and sub.matches(view):
                    views.append(view)
            sub.shown = {v.id for v in views}
        views.sort(key=lambda t: t.id)
        await self._send_tracks(socket, sub, views, now, snapshot=True)

    async def _flush(self, socket: WebSocket[Any, Any, Any], sub: Subscriber) -> None:
        with self._lock:
            pending, sub.pending = sub.pending, {}
            messages, sub.messages = sub.messages, {}
        if pending:
            picture = self.picture
            now = picture.clock()
            items: list[Track] = []
            removed: list[str] = []
            for tid, observations in pending.items():
                view = (
                    None
                    if observations is None
                    else picture.view_of(observations, sub.principal, now)
                )
                if view is not None and sub.matches(view):
                    items.append(view)
                else:
                    removed.append(tid)
            with self._lock:
                sub.shown.update(v.id for v in items)
                removed = [tid for tid in removed if tid in sub.shown]
                sub.shown.difference_update(removed)
            if items:
                await self._send_tracks(socket, sub, items, now, snapshot=False)
            for tid in removed:
                await socket.send_text(_enc.encode({"type": "track_removed", "id": tid}).decode())
                sub.removed_sent += 1
        for message in messages.values():
            await socket.send_text(_enc.encode(message).decode())

    async def _send_tracks(
        self,
        socket: WebSocket[Any, Any, Any],
        sub: Subscriber,
        views: list[Track],
        now: float,
        *,
        snapshot: bool,
    ) -> None:
        from kizuna.picture.service import track_view

        first = True
        for i in range(0, max(len(views), 1), CHUNK):
            chunk = [track_view(v, now) for v in views[i : i + CHUNK]]
            if not chunk and not snapshot:
                return
            msg: dict[str, Any] = {"type": "tracks", "items": chunk}
            if snapshot and first:
                msg["snapshot"] = True
            first = False
            await socket.send_text(_enc.encode(msg).decode())
            sub.batches += 1
            sub.items_sent += len(chunk)
