"""The picture's tracks as a federated stream (``track`` in sharing agreements).

Federation applies the refusal rules (agreement types, relay, hop limit,
``may_release``) to every track from its :class:`~kizuna.kernel.streams.Envelope`;
this stream says what a track is (label, which peer delivered it), how a batch
goes on the wire (a zlib-compressed msgpack array of :class:`Track`) and how an
accepted batch joins the picture.
"""

from __future__ import annotations

from collections.abc import Callable

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


class TrackStream:
    """A :class:`~kizuna.kernel.streams.FederatedStream` of track observations."""

    name = TRACK

    def __init__(self, picture: PictureService) -> None:
        self.picture = picture

    def changes_since(self, cursor: int, limit: int) -> tuple[list[Track], int]:
        return self.picture.changes_since(cursor, limit)

    def envelope(self, item: Track) -> Envelope:
        return Envelope(label=item.label, origin="", relayed_from=relayed_from(item), hops=0)

    def prepare(self, item: Track, peer_id: str) -> Track:
        return item

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
