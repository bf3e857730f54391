"""Federation contracts: what a stream offers and what a transport carries.

A **federated stream** is any flow of labelled items between nodes. The event
log is one (the federation package provides it, with a persistent outbox);
a domain adds others for data that does not belong in the log (the picture's
tracks). Federation applies the same refusal rules to every item of every
stream, on send and on receipt, from the item's :class:`Envelope`: the
agreement's types, relay, the hop limit and :func:`may_release`.

A **transport** carries opaque batches to a peer with a de-duplication id and
hands inbound batches to the node, naming the peer it authenticated.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import msgspec

from kizuna.core.labels import Label

T = TypeVar("T")


class Envelope(msgspec.Struct, frozen=True):
    """What the refusal rules read of an item.

    ``origin``: the node that originated it ("" when the stream does not know);
    ``relayed_from``: the peer that delivered it here (None: our own);
    ``hops``: how many links it has crossed."""

    label: Label
    origin: str = ""
    relayed_from: str | None = None
    hops: int = 0


MAX_BATCH_BYTES = 8 * 1024 * 1024  # a batch inflated, at most


class BatchCodec(Generic[T]):
    """The wire form every stream may use: a zlib-compressed msgpack array of Structs,
    refused (ValueError) if malformed or larger than ``MAX_BATCH_BYTES`` inflated."""

    def __init__(self, item_type: type[T]) -> None:
        self._enc = msgspec.msgpack.Encoder()
        self._dec = msgspec.msgpack.Decoder(list[item_type])  # type: ignore[valid-type]

    def encode(self, items: Sequence[T]) -> bytes:
        return zlib.compress(self._enc.encode(items), 1)

    def decode(self, body: bytes) -> list[T]:
        try:
            d = zlib.decompressobj()
            raw = d.decompress(body, MAX_BATCH_BYTES)
            if d.unconsumed_tail:
                raise ValueError(f"batch larger than {MAX_BATCH_BYTES} bytes uncompressed")
            items: list[T] = self._dec.decode(raw)
            return items
        except (zlib.error, msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            raise ValueError(f"malformed batch: {exc}") from None


class FederatedStream(Protocol[T]):
    """A domain's records outside the event log, sent by cursor (resent after restart)."""

    name: str  # the type name in sharing agreements, e.g. "track"

    def changes_since(self, cursor: int, limit: int) -> tuple[list[T], int]:
        """Items changed after ``cursor`` and the cursor to resume from."""
        ...

    def envelope(self, item: T) -> Envelope: ...

    def prepare(self, item: T, peer_id: str) -> T:
        """The item as it goes to ``peer_id`` (e.g. with its hop count raised)."""
        ...

    def encode(self, items: list[T]) -> bytes: ...

    def decode(self, body: bytes) -> list[T]:
        """Raise ValueError on a malformed batch (nothing is applied)."""
        ...

    def accept(self, peer_id: str, items: list[T]) -> int:
        """Apply items that passed the receipt check; return how many changed state."""
        ...

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from any thread) when new items are ready to send."""
        ...


@runtime_checkable
class AnsweringStream(Protocol):
    """A stream a peer may also ask a question of, outside the batches it sends."""

    name: str

    def answer(self, peer_id: str) -> Any:
        """The item that answers ``peer_id`` (None: none). Federation release-checks and
        prepares it as it would a batch's item, then sends it as JSON."""
        ...


class Ack(msgspec.Struct):
    accepted: int
    applied: int
    refused: int


class TransportError(Exception):
    """A batch could not be delivered (link down, peer refused); retried with back-off."""


class PeerEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A peer as a transport needs it: id, address and pinned identity."""

    peer_id: str
    url: str
    cert_path: str  # the peer's certificate (PEM), pinned
    fingerprint: str


class Inbound(Protocol):
    """The node's side of inbound traffic; the transport has authenticated ``peer_id``."""

    def receive(self, peer_id: str, stream: str, body: bytes, dedup_id: str) -> Ack:
        """Raise ValueError for a malformed batch, LookupError for an unknown stream."""
        ...

    def digest(self, peer_id: str) -> dict[str, Any]: ...

    def answer(self, peer_id: str, stream: str) -> bytes:
        """A stream's answer to a peer's question (``GET /federation/v1/<stream>``: the
        witness's receipt of the peer's audit head); LookupError: the stream has none."""
        ...

    def refused(self, reason: str, **details: object) -> None:
        """A connection the transport turned away (bad certificate, unknown peer)."""
        ...


class Connection(Protocol):
    async def send(self, stream: str, body: bytes, dedup_id: str) -> Ack:
        """Deliver one batch; raise TransportError when it did not arrive."""
        ...

    async def digest(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


class Transport(Protocol):
    name: str

    async def serve(self, peers: Sequence[PeerEndpoint], inbound: Inbound) -> None:
        """Accept peers' batches until cancelled."""
        ...

    def connect(self, peer: PeerEndpoint) -> Connection: ...


class TransportFactory(Protocol):
    def __call__(self, ctx: Any) -> Transport: ...


Wake = Callable[[], Awaitable[None]]
