"""What a session is shown of an entry, fused and JSON-encoded once for every session.

The live feed sends each changed track to every subscribed session, and each subscribe
sends a snapshot of the whole view (10,000 tracks at a browser's first render). Fusing
the releasable observations and building and encoding the API's view of each track cost
about 30 µs a track, most of a snapshot's time, and the same work was redone for every
session and every snapshot although the answer depends only on:

  * the entry's observations (a new tuple whenever the entry changes),
  * which of them the session's principal may see (the release check, still asked for
    every session and every send: a mask of one boolean per observation), and
  * whether the fused view is stale at the time of sending.

:class:`ShownViews` keeps one :class:`Shown` per entry and mask, replaced when the entry's
observations change and dropped when the entry goes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import msgspec

from kizuna.picture import rules
from kizuna.picture.models import Track, TrackOut
from kizuna.picture.rules import Observations

Mask = tuple[bool, ...]
_encoder = msgspec.json.Encoder()


class Shown:
    """The fused view of an entry for one visibility mask, and its JSON (``msgspec.Raw``,
    embedded as is in the frames that carry it)."""

    __slots__ = ("_json", "_stale", "_to_out", "view")

    def __init__(self, view: Track, to_out: Callable[[Track, float], TrackOut]) -> None:
        self.view = view
        self._to_out = to_out
        self._json: msgspec.Raw | None = None
        self._stale = False

    def json(self, now: float) -> msgspec.Raw:
        """The API's view of the track at ``now``, encoded again only when staleness flips."""
        stale = rules.is_stale(self.view, now)
        encoded = self._json
        if encoded is None or stale != self._stale:
            encoded = msgspec.Raw(_encoder.encode(self._to_out(self.view, now)))
            self._json, self._stale = encoded, stale
        return encoded


class ShownViews:
    """:class:`Shown` per entry id and mask (thread-safe: producers and the feed share it)."""

    def __init__(self, to_out: Callable[[Track, float], TrackOut]) -> None:
        self._to_out = to_out
        # per entry id: the observations its views are of, and a view per mask
        self._by_id: dict[str, tuple[Observations, dict[Mask, Shown]]] = {}
        self._lock = threading.Lock()

    def get(self, tid: str, observations: Observations, mask: Mask) -> Shown | None:
        """The fused view of the observations ``mask`` admits (``None``: it admits none)."""
        held = self._by_id.get(tid)
        if held is not None and held[0] is observations and (shown := held[1].get(mask)):
            return shown
        view = rules.fuse_seen([o for o, seen in zip(observations, mask, strict=True) if seen])
        if view is None:
            return None
        shown = Shown(view, self._to_out)
        with self._lock:
            held = self._by_id.get(tid)
            if held is None or held[0] is not observations:  # the entry changed: older views go
                held = self._by_id[tid] = (observations, {})
            held[1][mask] = shown
        return shown

    def discard(self, tid: str) -> None:
        with self._lock:
            self._by_id.pop(tid, None)

    def __len__(self) -> int:
        return len(self._by_id)
