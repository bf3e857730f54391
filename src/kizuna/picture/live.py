"""Live picture on the node's push bus: per-session coalescing, bounded memory, release-checked.

The node owns ``/api/v1/ws`` and its :class:`~kizuna.kernel.bus.PushBus`; the
picture adds :class:`PictureFeed`, which handles ``subscribe`` messages and
sends track frames from each session's single sender.

Protocol (JSON text frames) on ``/api/v1/ws?token=TOKEN``:

client → server
  ``{"type": "subscribe", "bbox": [minlon, minlat, maxlon, maxlat] | null,
  "filters": {"affiliation": [...], "source": [...]}, "compact": false}`` —
  (re)subscribe; a ``null``/absent bbox means the whole picture. With
  ``"compact": true`` track frames carry ``"labels": {"<n>": {label fields}}``
  and each item names its label as ``"l": n`` instead of carrying its fields,
  and leaves out fields at their usual value (``shown.COMPACT_DEFAULTS``).
  ``{"type": "stats"}`` — the server answers ``{"type": "stats", ...}`` (the
  bus's counters and this feed's: pending, pending_max, shown, batches,
  items_sent, removed_sent).

server → client
  ``{"type": "tracks", "snapshot": true, "items": [...]}`` — after subscribe:
  replaces the client's picture; more ``tracks`` chunks may follow.
  ``{"type": "tracks", "items": [...]}`` — changed tracks, at most every
  bus ``interval`` seconds (~100 ms), latest state per track id.
  ``{"type": "track_removed", "id": ...}`` — a track left the bbox/filters,
  became invisible to the caller, or was dropped as stale.
  ``{"type": <topic>, "item": {...}}`` — any plugin's ``ctx.bus.publish``.
  ``{"type": "error", "detail": ...}`` — a bad client message.

Memory per session is bounded: pending track changes are a dict keyed by
track id (so at most one entry per distinct track); the bus bounds generic
pushes. A slow reader makes the sender block on the socket while the dicts
absorb further changes; nothing queues without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from kizuna.kernel.bus import PushBus, Send, Session
from kizuna.picture.models import Track
from kizuna.picture.rules import BBox, Observations, bbox_from_values, box_of
from kizuna.picture.shown import LABEL_NUMBERS

if TYPE_CHECKING:
    from kizuna.picture.service import PictureService
    from kizuna.picture.shown import Shown

CHUNK = 1000  # items per "tracks" message of live updates
# A snapshot goes in few large messages: a browser handles each message as a task of its own,
# queued behind the map's frames (80-170 ms each with software WebGL), so 10,000 tracks in
# ten messages took seconds to arrive on screen, and in one message ~0.1 s.
SNAPSHOT_CHUNK = 10_000
FEED = "picture"


class Filters(msgspec.Struct, forbid_unknown_fields=True):
    affiliation: list[str] | None = None
    source: list[str] | None = None


class SubscribeIn(msgspec.Struct, tag="subscribe", tag_field="type", forbid_unknown_fields=True):
    bbox: list[float] | None = None
    filters: Filters = msgspec.field(default_factory=Filters)
    compact: bool = False


class Subscription:
    """The picture's state in one session. Fields marked (lock) are guarded by the bus lock."""

    __slots__ = (
        "affiliations",
        "batches",
        "bbox",
        "compact",
        "items_sent",
        "pending",
        "pending_max",
        "removed_sent",
        "request",
        "shown",
        "sources",
        "subscribed",
    )

    def __init__(self) -> None:
        self.bbox: BBox | None = None  # (lock)
        self.subscribed = False  # (lock)
        self.compact = False  # (lock) track frames in the compact form
        self.affiliations: frozenset[str] | None = None
        self.sources: frozenset[str] | None = None
        self.pending: dict[str, Observations | None] = {}  # (lock) None: entry removed
        self.shown: set[str] = set()  # (lock) ids the client currently holds
        self.pending_max = 0
        self.batches = 0
        self.items_sent = 0
        self.removed_sent = 0
        # from the receiver (same event loop as the sender)
        self.request: SubscribeIn | None = None

    def matches(self, view: Track) -> bool:
        if self.bbox is not None and not self.bbox.contains(view.lat, view.lon):
            return False
        if self.affiliations is not None and view.affiliation not in self.affiliations:
            return False
        return self.sources is None or any(p.source in self.sources for p in view.sources)


def _sub(session: Session) -> Subscription:
    sub: Subscription = session.feed_state[FEED]
    return sub


class PictureFeed:
    """Fan-out of picture changes to the bus's sessions (a :class:`kizuna.kernel.bus.Feed`)."""

    name = FEED
    message_types = frozenset({"subscribe"})

    def __init__(self, picture: PictureService, bus: PushBus) -> None:
        self.picture = picture
        self.bus = bus
        self._sweeping = False  # a flush is sweeping (flushes share the event loop)

    # -- producers (any thread) ---------------------------------------------
    def publish_entries(self, changes: Mapping[str, Observations | None]) -> None:
        """Entries changed (``None``: removed). Coalesced per session by track id."""
        bus = self.bus
        if not bus.subscribers:
            return
        with bus.lock:
            for session in bus.sessions():
                sub = session.feed_state.get(FEED)
                if sub is None or not sub.subscribed:
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

    # -- the Feed protocol ----------------------------------------------------
    def open(self, session: Session) -> None:
        session.feed_state[FEED] = Subscription()

    def close(self, session: Session) -> None:
        session.feed_state.pop(FEED, None)

    def receive(self, session: Session, message: Mapping[str, Any]) -> None:
        request = msgspec.convert(message, SubscribeIn)  # ValidationError is a ValueError
        if request.bbox is not None:
            bbox_from_values(request.bbox)
        _sub(session).request = request

    async def on_wake(self, session: Session, send: Send) -> None:
        sub = _sub(session)
        if sub.request is not None:
            request, sub.request = sub.request, None
            await self._snapshot(session, sub, request, send)

    async def flush(self, session: Session, send: Send) -> None:
        picture = self.picture
        if picture.sweep_due() and not self._sweeping:
            # One sweep at a time: every session flushes in the same tick, and each used to
            # hand the sweep to a worker thread of its own (threads, and their memory, grew
            # with the number of sessions).
            self._sweeping = True
            try:
                await asyncio.to_thread(picture.maybe_sweep)
            finally:
                self._sweeping = False
        sub = _sub(session)
        lock = self.bus.lock
        with lock:
            pending, sub.pending = sub.pending, {}
        if not pending:
            return
        now = picture.clock()
        items: list[Shown] = []
        removed: list[str] = []
        principal = session.principal
        for tid, observations in pending.items():
            shown = (
                None if observations is None else picture.shown(tid, observations, principal, now)
            )
            if shown is not None and sub.matches(shown.view):
                items.append(shown)
            else:
                removed.append(tid)
        with lock:
            sub.shown.update(s.view.id for s in items)
            removed = [tid for tid in removed if tid in sub.shown]
            sub.shown.difference_update(removed)
        if items:
            await self._send_tracks(sub, items, now, send, snapshot=False)
        for tid in removed:
            await send({"type": "track_removed", "id": tid})
            sub.removed_sent += 1

    def stats(self, session: Session) -> dict[str, Any]:
        """The picture's counters (the bus holds its lock while asking)."""
        sub = _sub(session)
        return {
            "pending": len(sub.pending),
            "pending_max": sub.pending_max,
            "shown": len(sub.shown),
            "batches": sub.batches,
            "items_sent": sub.items_sent,
            "removed_sent": sub.removed_sent,
        }

    # -- sending --------------------------------------------------------------
    async def _snapshot(
        self, session: Session, sub: Subscription, request: SubscribeIn, send: Send
    ) -> None:
        bbox = bbox_from_values(request.bbox) if request.bbox is not None else None
        affiliations = request.filters.affiliation
        sources = request.filters.source
        picture = self.picture
        now = picture.clock()
        with self.bus.lock:
            # Register the new subscription first: anything published after this
            # lands in `pending` and is sent after the snapshot.
            sub.bbox = bbox
            sub.affiliations = frozenset(affiliations) if affiliations is not None else None
            sub.sources = frozenset(sources) if sources is not None else None
            sub.subscribed = True
            sub.compact = request.compact
            sub.pending = {}
            principal = session.principal
            views = []
            for tid, observations in picture.candidates(bbox):
                shown = picture.shown(tid, observations, principal, now)
                if shown is not None and sub.matches(shown.view):
                    views.append(shown)
            sub.shown = {s.view.id for s in views}
        views.sort(key=lambda s: s.view.id)
        await self._send_tracks(sub, views, now, send, snapshot=True)

    async def _send_tracks(
        self, sub: Subscription, views: list[Shown], now: float, send: Send, *, snapshot: bool
    ) -> None:
        first = True
        size = SNAPSHOT_CHUNK if snapshot else CHUNK
        compact = sub.compact
        for i in range(0, max(len(views), 1), size):
            part = views[i : i + size]
            if not part and not snapshot:
                return
            msg: dict[str, Any] = {"type": "tracks"}
            if compact:
                msg["labels"] = LABEL_NUMBERS.table(s.label_number for s in part)
                msg["items"] = chunk = [s.compact(now) for s in part]
            else:
                msg["items"] = chunk = [s.json(now) for s in part]
            if snapshot and first:
                msg["snapshot"] = True
            first = False
            await send(msg)
            sub.batches += 1
            sub.items_sent += len(chunk)
