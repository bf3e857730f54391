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

A session that subscribes with ``"compact": true`` (the web app) gets each view in the compact
form of :meth:`Shown.compact`: the label's fields are given once per frame in its ``labels``
table and each item names its label by number (``"l"``); fields at their usual value (an empty
name, no MMSI, not stale …, :data:`COMPACT_DEFAULTS`) are left out. A snapshot of 10,000 tracks
shrinks by about 40 %, and with it the node's encoding and compression, the browser's receiving
and parsing of the frame.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from kizuna.core.label_view import LabelView, label_fields
from kizuna.core.labels import Label
from kizuna.picture import rules
from kizuna.picture.models import Track, TrackOut
from kizuna.picture.rules import Observations

Mask = tuple[bool, ...]
_encoder = msgspec.json.Encoder()

# Fields a compact item leaves out when they have this value (a client restores them).
COMPACT_DEFAULTS: dict[str, Any] = {
    "callsign": "",
    "name": "",
    "course": None,
    "speed": None,
    "hae": None,
    "stale": False,
    "ship_type": None,
    "mmsi": None,
    "remarks": "",
}
_LABEL_FIELDS = tuple(LabelView.__struct_fields__)


class LabelNumbers:
    """A number per distinct label, stable for the node process (compact frames name labels
    by it)."""

    def __init__(self) -> None:
        self._numbers: dict[Label, int] = {}
        self._labels: list[Label] = []
        self._lock = threading.Lock()

    def number(self, label: Label) -> int:
        found = self._numbers.get(label)
        if found is not None:
            return found
        with self._lock:
            found = self._numbers.get(label)
            if found is None:
                found = self._numbers[label] = len(self._labels)
                self._labels.append(label)
            return found

    def table(self, numbers: Iterable[int]) -> dict[str, dict[str, Any]]:
        """The label fields of each of ``numbers``: a compact frame's ``labels``."""
        return {str(n): label_fields(self._labels[n]) for n in sorted(set(numbers))}


LABEL_NUMBERS = LabelNumbers()


def compact_item(out: TrackOut, label_number: int) -> dict[str, Any]:
    """``out`` without its label's fields (``l`` names the label) or fields at their default."""
    item: dict[str, Any] = msgspec.to_builtins(out)
    for key in _LABEL_FIELDS:
        del item[key]
    for key, default in COMPACT_DEFAULTS.items():
        value = item[key]
        if value is default or (type(value) is type(default) and value == default):
            del item[key]
    item["l"] = label_number
    return item


class Shown:
    """The fused view of an entry for one visibility mask, and its JSON (``msgspec.Raw``,
    embedded as is in the frames that carry it)."""

    __slots__ = ("_compact", "_json", "_stale", "_to_out", "label_number", "view")

    def __init__(self, view: Track, to_out: Callable[[Track, float], TrackOut]) -> None:
        self.view = view
        self.label_number = LABEL_NUMBERS.number(view.label)
        self._to_out = to_out
        self._json: msgspec.Raw | None = None
        self._compact: msgspec.Raw | None = None
        self._stale = False

    def json(self, now: float) -> msgspec.Raw:
        """The API's view of the track at ``now``, encoded again only when staleness flips."""
        self._check_stale(now)
        if self._json is None:
            self._json = msgspec.Raw(_encoder.encode(self._to_out(self.view, now)))
        return self._json

    def compact(self, now: float) -> msgspec.Raw:
        """:meth:`json` in the compact form (:func:`compact_item`)."""
        self._check_stale(now)
        if self._compact is None:
            out = self._to_out(self.view, now)
            self._compact = msgspec.Raw(_encoder.encode(compact_item(out, self.label_number)))
        return self._compact

    def _check_stale(self, now: float) -> None:
        stale = rules.is_stale(self.view, now)
        if stale != self._stale:
            self._json = self._compact = None
            self._stale = stale


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
