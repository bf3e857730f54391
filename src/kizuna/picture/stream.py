"""The picture's tracks as a federated stream (``track`` in sharing agreements).

Federation applies the refusal rules (agreement types, relay, hop limit,
``may_release``) to every track from its :class:`~kizuna.kernel.streams.Envelope`;
this stream says what a track is (label, which peer delivered it), how a batch
goes on the wire (a zlib-compressed msgpack array of :class:`Track`) and how an
accepted batch joins the picture.

Who may deliver an observation (:meth:`TrackStream.refusal`): a peer speaks for
the sources it observes or relays, never for ours. An observation whose
``(source, source_id)`` this node observes itself (through a local connection: the
API, CoT, AIS) is refused (``own_source``), so a forged track never replaces the
node's own observation; one whose provenance names this node is refused before that
(``own``, by the envelope).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import msgspec

from kizuna.kernel.contract import expand_groups
from kizuna.kernel.streams import BatchCodec, Envelope
from kizuna.picture.models import TRACK, Track
from kizuna.picture.service import PictureService

FEDERATED = "federation:"  # provenance connection of a track a peer delivered

_codec = BatchCodec(Track)


def relayed_from(track: Track) -> str | None:
    """The peer a track observation came from, if it arrived by federation."""
    for prov in track.sources[:1]:
        if prov.connection.startswith(FEDERATED):
            return prov.connection[len(FEDERATED) :]
    return None


def is_local(track: Track) -> bool:
    """An observation this node made itself (not delivered by a peer)."""
    return not any(p.connection.startswith(FEDERATED) for p in track.sources)


class TrackStream:
    """A :class:`~kizuna.kernel.streams.FederatedStream` of track observations."""

    name = TRACK

    def __init__(self, picture: PictureService) -> None:
        self.picture = picture
        # (source, source_id) -> track id, of observations this node makes itself. Built
        # on first receipt, kept by the picture's listener, checked against the picture
        # on each hit (an entry swept or replaced since leaves only a stale hint).
        self._own: dict[tuple[str, str], str] | None = None
        self._own_lock = threading.Lock()

    def changes_since(self, cursor: int, limit: int) -> tuple[list[Track], int]:
        return self.picture.changes_since(cursor, limit)

    def envelope(self, item: Track) -> Envelope:
        return Envelope(label=item.label, origin="", relayed_from=relayed_from(item), hops=0)

    def prepare(self, item: Track, peer_id: str) -> Track:
        """Node-defined groups leave as the nations this node defines them with."""
        label = expand_groups(item.label, self.picture.ctx.groups)
        if label is item.label:
            return item
        return msgspec.structs.replace(item, label=label)

    def encode(self, items: list[Track]) -> bytes:
        return _codec.encode(items)

    def decode(self, body: bytes) -> list[Track]:
        return _codec.decode(body)

    def accept(self, peer_id: str, items: list[Track]) -> int:
        """Tracks that passed the receipt check join the picture; provenance names the
        peer that delivered them (which also stops them bouncing back)."""
        accepted = []
        for track in items:
            for prov in track.sources:
                if not prov.connection.startswith(FEDERATED):
                    prov.connection = f"{FEDERATED}{peer_id}"
            if track.sources:
                accepted.append(track)
        if accepted:
            self.picture.ingest(accepted)
        return len(accepted)

    def on_change(self, callback: Callable[[], None]) -> None:
        self.picture.on_tracks(lambda _tracks: callback())

    # -- who may deliver what ---------------------------------------------------
    def item_id(self, item: Track) -> str:
        return item.id

    def refusal(self, peer_id: str, item: Track) -> str | None:
        """``own_source`` if this node observes ``item``'s source key itself."""
        key = (item.source, item.source_id)
        own = self._own_sources()
        with self._own_lock:
            track_id = own.get(key)
        if track_id is None:
            return None
        for obs in self.picture.entry(track_id) or ():
            if (obs.source, obs.source_id) == key and is_local(obs):
                return "own_source"
        with self._own_lock:
            if own.get(key) == track_id:
                del own[key]  # no longer ours: swept, or replaced since
        return None

    def _own_sources(self) -> dict[tuple[str, str], str]:
        with self._own_lock:
            own = self._own
            if own is not None:
                return own
            own = self._own = {}
        # Listen first, then read what the picture holds, so nothing falls between; the
        # listener's hints are newer than the scan's, so the scan does not overwrite them.
        # (Not under the lock: the picture's listeners may run on this thread.)
        self.picture.on_tracks(self._observed)
        held = [
            ((obs.source, obs.source_id), tid)
            for tid, observations in self.picture.candidates(None)
            for obs in observations
            if is_local(obs)
        ]
        with self._own_lock:
            for key, tid in held:
                own.setdefault(key, tid)
        return own

    def _observed(self, tracks: list[Track]) -> None:
        local = [t for t in tracks if is_local(t)]
        if local:
            with self._own_lock:
                own = self._own
                if own is not None:
                    for t in local:
                        own[(t.source, t.source_id)] = t.id
