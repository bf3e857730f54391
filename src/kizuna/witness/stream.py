"""Audit heads and receipts as a federated stream (``audit_head`` in sharing agreements)."""

from __future__ import annotations

from collections.abc import Callable

from kizuna.kernel.streams import BatchCodec, Envelope
from kizuna.witness.models import AUDIT_HEAD, Witnessed
from kizuna.witness.service import WitnessService

_codec = BatchCodec(Witnessed)


class HeadStream:
    """A :class:`~kizuna.kernel.streams.FederatedStream` of signed heads and receipts."""

    name = AUDIT_HEAD

    def __init__(self, witness: WitnessService) -> None:
        self.witness = witness

    def changes_since(self, cursor: int, limit: int) -> tuple[list[Witnessed], int]:
        return self.witness.changes_since(cursor, limit)

    def envelope(self, item: Witnessed) -> Envelope:
        # Who sent it: the subject for a head, the witness for a receipt.
        return Envelope(label=self.witness.label(item), origin=item.witness or item.subject)

    def prepare(self, item: Witnessed, peer_id: str) -> Witnessed:
        return item

    def encode(self, items: list[Witnessed]) -> bytes:
        return _codec.encode(items)

    def decode(self, body: bytes) -> list[Witnessed]:
        return _codec.decode(body)

    def accept(self, peer_id: str, items: list[Witnessed]) -> int:
        return self.witness.accept(peer_id, items)

    def on_change(self, callback: Callable[[], None]) -> None:
        self.witness.on_change(callback)

    def answer(self, peer_id: str) -> Witnessed | None:
        """What ``GET /federation/v1/audit_head`` answers ``peer_id``: a receipt, signed
        now, for the newest head of its trail that we hold, or None."""
        return self.witness.answer(peer_id)
