"""AIS payload decoding: a hand-written fast path for position reports and
``pyais`` for everything else.

The fast path de-armours the six-bit payload onto the base64 alphabet so that
``binascii`` does the bit repacking in C, turns it into one int, and reads the
fields with shifts and masks. It returns exactly the values ``pyais`` returns
(same scaling and rounding), which the tests check on every position report
in the shared sample files. Messages the fast path does not cover (other
types, truncated lengths) go through ``pyais``.
"""

from __future__ import annotations

import binascii
from typing import NamedTuple

from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
STATIC_TYPES = frozenset({5, 24})

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Armoured byte → base64 byte; bytes outside '0'–'W', '`'–'w' map to '*' so
# strict base64 decoding rejects them.
_ARMOR_TO_B64 = bytes(
    _B64[c - 48 if c < 88 else c - 56] if (48 <= c < 88 or 96 <= c < 120) else 42
    for c in range(256)
)
# First payload byte → message type (0–63), -1 when not a valid armour byte.
MESSAGE_TYPE = tuple(
    (c - 48 if c < 88 else c - 56) if (48 <= c < 88 or 96 <= c < 120) else -1 for c in range(256)
)
_PAD = (b"", b"AAA", b"AA", b"A")
_SIXBIT_CHAR = tuple(chr(v + 64) if v < 32 else chr(v) for v in range(64))


class DecodeError(ValueError):
    """A payload that is not valid six-bit armour or does not decode."""


class PositionReport(NamedTuple):
    """Position fields as ``pyais`` reports them (including "not available" codes)."""

    msg_type: int
    mmsi: int
    lat: float
    lon: float
    speed: float  # knots; 102.3 (types 1–19) / 63 (type 27) = not available
    course: float  # degrees; 360.0 (types 1–19) / 511 (type 27) = not available
    heading: int | None  # 511 = not available; None for type 27
    status: int | None  # navigation status; None for types 18 and 19


class StaticReport(NamedTuple):
    """Static/voyage fields; None means "this message does not say"."""

    mmsi: int
    name: str | None = None
    callsign: str | None = None
    ship_type: int | None = None
    imo: int | None = None
    destination: str | None = None


_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__
_a2b = binascii.a2b_base64


def payload_bits(payload: bytes, fill: int) -> tuple[int, int]:
    """Six-bit armoured payload → (value, bit length). Raises DecodeError."""
    n = len(payload)
    r = n & 3
    try:
        data = binascii.a2b_base64(payload.translate(_ARMOR_TO_B64) + _PAD[r], strict_mode=True)
    except binascii.Error as exc:
        raise DecodeError(f"invalid six-bit payload: {exc}") from None
    value = int.from_bytes(data, "big")
    if r:
        value >>= 6 * (4 - r)
    return value >> fill, n * 6 - fill


def _lat_lon(w: int) -> tuple[float, float]:
    """Signed 1/10000-minute lat (27 bits at 21) and lon (28 bits at 48) in degrees."""
    lon = (w >> 48) & 0xFFFFFFF
    if lon & 0x8000000:
        lon -= 0x10000000
    lat = (w >> 21) & 0x7FFFFFF
    if lat & 0x4000000:
        lat -= 0x8000000
    return ((10 * lat + 3) // 6) / 1e6, ((10 * lon + 3) // 6) / 1e6


def position_from_bits(msg_type: int, v: int, length: int) -> PositionReport | None:
    """Fast path for types 1, 2, 3, 18, 19, 27. None when the message is too
    short for it (the caller then uses :func:`position_with_pyais`).

    Lat/lon: ``((10 * raw + 3) // 6) / 1e6`` == ``round(raw / 600000, 6)``
    computed in integers, as pyais does (type 27: 1/10 minute, x10000).
    """
    if msg_type <= 3:
        if length < 137:
            return None
        w = v >> (length - 137)  # bit 136 (end of heading) now at bit 0
        ilon = (w >> 48) & 0xFFFFFFF  # as _lat_lon(), inlined for the most common types
        if ilon & 0x8000000:
            ilon -= 0x10000000
        ilat = (w >> 21) & 0x7FFFFFF
        if ilat & 0x4000000:
            ilat -= 0x8000000
        fields = (
            msg_type,
            (w >> 99) & 0x3FFFFFFF,
            ((10 * ilat + 3) // 6) / 1e6,
            ((10 * ilon + 3) // 6) / 1e6,
            ((w >> 77) & 0x3FF) / 10.0,
            ((w >> 9) & 0xFFF) / 10.0,
            w & 0x1FF,
            (w >> 95) & 0xF,
        )
    elif msg_type == 18 or msg_type == 19:
        if length < 133:
            return None
        w = v >> (length - 133)  # bit 132 (end of heading) now at bit 0
        lat, lon = _lat_lon(w)
        fields = (
            msg_type,
            (w >> 95) & 0x3FFFFFFF,
            lat,
            lon,
            ((w >> 77) & 0x3FF) / 10.0,
            ((w >> 9) & 0xFFF) / 10.0,
            w & 0x1FF,
            None,
        )
    elif msg_type == 27:
        if length < 94:
            return None
        w = v >> (length - 94)  # bit 93 (end of course) now at bit 0
        lon = (w >> 32) & 0x3FFFF
        if lon & 0x20000:
            lon -= 0x40000
        lat = (w >> 15) & 0x1FFFF
        if lat & 0x10000:
            lat -= 0x20000
        fields = (
            27,
            (w >> 56) & 0x3FFFFFFF,
            ((10000 * lat + 3) // 6) / 1e6,
            ((10000 * lon + 3) // 6) / 1e6,
            float((w >> 9) & 0x3F),
            float(w & 0x1FF),
            None,
            (w >> 50) & 0xF,
        )
    else:
        return None
    return _new(PositionReport, fields)  # type: ignore[no-any-return]


def fast_position(payload: bytes, fill: int) -> PositionReport | None:
    """The fast path end to end: armoured payload → PositionReport, or None
    when the fast path does not cover the message. Raises DecodeError."""
    n = len(payload)
    r = n & 3
    try:
        data = _a2b(payload.translate(_ARMOR_TO_B64) + _PAD[r], strict_mode=True)
    except binascii.Error as exc:
        raise DecodeError(f"invalid six-bit payload: {exc}") from None
    value = int.from_bytes(data, "big")
    if r:
        value >>= 6 * (4 - r)
    return position_from_bits(MESSAGE_TYPE[payload[0]], value >> fill, n * 6 - fill)


def _text(v: int, length: int, start: int, width: int) -> str:
    end = min(start + width, length)
    chars = _SIXBIT_CHAR
    out = [chars[(v >> (length - i - 6)) & 0x3F] for i in range(start, end - 5, 6)]
    return "".join(out).rstrip("@").strip()


def static_from_type19(v: int, length: int) -> StaticReport | None:
    """Name and ship type of a type 19 (class B extended) report."""
    if length < 271:
        return None
    mmsi = (v >> (length - 38)) & 0x3FFFFFFF
    ship_type = (v >> (length - 271)) & 0xFF
    return StaticReport(mmsi, name=_text(v, length, 143, 120) or None, ship_type=ship_type)


def decode_with_pyais(payload: bytes, fill: int) -> object:
    """Decode any message type with pyais. Raises DecodeError."""
    msg_type = MESSAGE_TYPE[payload[0]] if payload else -1
    cls = MSG_CLASS.get(msg_type)
    if cls is None:
        raise DecodeError(f"unknown message type {msg_type}")
    try:
        return cls.from_vector(bit_vector(payload, fill))
    except Exception as exc:  # pyais raises assorted errors on odd payloads
        raise DecodeError(f"pyais: {exc!r}") from None


def position_with_pyais(payload: bytes, fill: int) -> PositionReport:
    """The slow path: pyais decode of a position report. Raises DecodeError."""
    msg = decode_with_pyais(payload, fill)
    get = msg.__getattribute__
    try:
        msg_type = int(get("msg_type"))
        heading = None if msg_type == 27 else get("heading")
        status = get("status") if msg_type in (1, 2, 3, 27) else None
        lat, lon, speed, course = get("lat"), get("lon"), get("speed"), get("course")
        if None in (lat, lon, speed, course):
            raise DecodeError("position report too short")
        return PositionReport(
            msg_type,
            int(get("mmsi")),
            float(lat),
            float(lon),
            float(speed),
            float(course),
            None if heading is None else int(heading),
            None if status is None else int(status),
        )
    except (AttributeError, TypeError, ValueError) as exc:
        raise DecodeError(f"not a position report: {exc!r}") from None


def static_with_pyais(payload: bytes, fill: int) -> StaticReport:
    """Types 5 and 24 (A or B) → StaticReport. Raises DecodeError."""
    msg = decode_with_pyais(payload, fill)
    get = getattr
    mmsi = int(get(msg, "mmsi"))
    msg_type = int(get(msg, "msg_type"))
    if msg_type == 5:
        return StaticReport(
            mmsi,
            name=get(msg, "shipname", None) or None,
            callsign=get(msg, "callsign", None) or None,
            ship_type=_ship_type(payload, fill, 232),
            imo=_int_or_none(get(msg, "imo", None)) or None,
            destination=get(msg, "destination", None) or None,
        )
    if msg_type == 24:
        if get(msg, "partno", None) == 0:
            return StaticReport(mmsi, name=get(msg, "shipname", None) or None)
        return StaticReport(
            mmsi,
            callsign=get(msg, "callsign", None) or None,
            ship_type=_ship_type(payload, fill, 40),
        )
    raise DecodeError(f"type {msg_type} is not a static report")


def _ship_type(payload: bytes, fill: int, offset: int) -> int | None:
    """The 8-bit ship type at ``offset`` as sent (None past the end, as pyais has it):
    pyais's ``ShipType`` folds reserved values (46 -> 45, 101 -> 0, …), which would make
    a vessel's type depend on the message that carried it (type 19 keeps the value)."""
    bits = bit_vector(payload, fill)
    return bits.get_num(offset, 8) if offset < len(bits) else None


def _int_or_none(value: object) -> int | None:
    if value is None:
        return None
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None
