"""The federation wire format: a zlib-compressed msgpack array of events."""

from __future__ import annotations

import zlib

import msgspec

from kizuna.core.records import Event
from kizuna.picture.models import Track

MAX_BATCH_BYTES = 8 * 1024 * 1024

_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder(list[Event])
_track_dec = msgspec.msgpack.Decoder(list[Track])


class WireError(ValueError):
    pass


class Ack(msgspec.Struct):
    accepted: int
    applied: int
    refused: int


def encode_batch(events: list[Event]) -> bytes:
    return zlib.compress(_enc.encode(events), 1)


def encode_tracks(tracks: list[Track]) -> bytes:
    return zlib.compress(_enc.encode(tracks), 1)


def _inflate(body: bytes) -> bytes:
    d = zlib.decompressobj()
    raw = d.decompress(body, MAX_BATCH_BYTES)
    if d.unconsumed_tail:
        raise WireError(f"batch larger than {MAX_BATCH_BYTES} bytes uncompressed")
    return raw


def decode_batch(body: bytes) -> list[Event]:
    try:
        return _dec.decode(_inflate(body))
    except (zlib.error, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise WireError(f"malformed batch: {exc}") from None


def decode_tracks(body: bytes) -> list[Track]:
    try:
        return _track_dec.decode(_inflate(body))
    except (zlib.error, msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise WireError(f"malformed track batch: {exc}") from None
