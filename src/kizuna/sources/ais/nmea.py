"""NMEA 0183 framing for AIS: ``!AIVDM``/``!AIVDO`` sentences, checksums,
NMEA 4.10 tag blocks and multi-part reassembly.

Everything works on ``bytes``; a sentence that cannot be framed yields a
:class:`Reject` reason instead of raising.
"""

from __future__ import annotations

import enum
import re
from typing import NamedTuple


class Reject(enum.StrEnum):
    """Why a line was not turned into data. The values are the stats keys."""

    BAD_CHECKSUM = "bad_checksum"
    MALFORMED = "malformed"
    UNSUPPORTED_TYPE = "unsupported_type"
    INCOMPLETE_FRAGMENT = "incomplete_fragment"
    INVALID_POSITION = "invalid_position"
    DECODE_ERROR = "decode_error"


MAX_LINE = 1024  # bytes; NMEA allows 82 per sentence, tag blocks and receiver suffixes add more

# XOR-folding masks: _MASKS[k] keeps the low k bytes of an int.
_MASKS = tuple((1 << (8 * k)) - 1 for k in range(MAX_LINE + 1))


def checksum(data: bytes) -> int:
    """NMEA checksum: XOR of all bytes, folded in halves on one big int."""
    x = int.from_bytes(data, "little")
    n = len(data)
    if n > 128:
        masks = _MASKS
        while n > 128:
            h = (n + 1) >> 1
            x = (x >> (h << 3)) ^ (x & masks[h])
            n = h
    # up to 128 bytes left: fold without masks; only the low byte matters
    x ^= x >> 512
    x ^= x >> 256
    x ^= x >> 128
    x ^= x >> 64
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    return x & 255


_DIGITS = {str(i).encode(): i for i in range(10)}
HEX = {f"{i:02X}".encode(): i for i in range(256)} | {f"{i:02x}".encode(): i for i in range(256)}
SENTENCE_TYPES = (b"VDM", b"VDO")


class Frame(NamedTuple):
    """One framed AIS sentence (a fragment when ``count > 1``)."""

    count: int  # fragments in the message
    number: int  # this fragment, 1-based
    seq: bytes  # sequential message id (b"" for single-part)
    channel: bytes
    payload: bytes  # six-bit armoured
    fill: int  # fill bits, 0–5
    time: float | None  # tag-block ``c:`` or receiver-suffix time, epoch seconds


# Tag block → parse result. A feed repeats the same tag block (same second,
# same station) on many sentences; bounded, cleared when full.
TAG_CACHE: dict[bytes, float | Reject | None] = {}
TAG_CACHE_SIZE = 4096
TAG_MISS = -1.0  # never a result (c: is digits only); one get() is safe across threads


def parse_tag_block(tag: bytes) -> float | Reject | None:
    """NMEA 4.10 tag block body (between the backslashes) → ``c:`` time or None.

    ``c:`` is UNIX time in seconds; values above 1e11 are taken as milliseconds
    (some receivers write those). A present but wrong checksum is a reject.
    Results are memoised in a small bounded cache.
    """
    cache = TAG_CACHE
    hit = cache.get(tag, TAG_MISS)
    if hit is not TAG_MISS:
        return hit
    result = _parse_tag_block(tag)
    if len(cache) >= TAG_CACHE_SIZE:
        cache.clear()
    cache[tag] = result
    return result


# The common tag block, a time and maybe a source, in one match: ``c:`` time,
# checksum (the general code below gives the same answers, and names problems).
_TIME_ONLY = re.compile(rb"(?:s:[^,*\\]*,)?c:([0-9]{1,13})\*([0-9A-F]{2})").fullmatch


def _parse_tag_block(tag: bytes) -> float | Reject | None:
    m = _TIME_ONLY(tag)
    if m is not None:
        if checksum(tag[: m.end(1)]) != HEX[m[2]]:
            return Reject.BAD_CHECKSUM
        when = float(int(m[1]))
        return when / 1000.0 if when > 1e11 else when
    return _parse_tag_fields(tag)


def _parse_tag_fields(tag: bytes) -> float | Reject | None:
    star = tag.rfind(b"*")
    if star >= 0:
        expected = HEX.get(tag[star + 1 : star + 3])
        if expected is None:
            return Reject.MALFORMED
        body = tag[:star]
        if checksum(body) != expected:
            return Reject.BAD_CHECKSUM
    else:
        body = tag
    i = body.find(b"c:")
    while i > 0 and body[i - 1] != 44:  # 44 == ord(","): "c:" must start a field
        i = body.find(b"c:", i + 1)
    if i < 0:
        return None
    end = body.find(b",", i)
    digits = body[i + 2 :] if end < 0 else body[i + 2 : end]
    if not digits.isdigit():
        return Reject.MALFORMED
    when = float(int(digits))
    return when / 1000.0 if when > 1e11 else when


# A well-formed line in one match: optional tag block, then the sentence fields.
# Lines it does not match go through _parse_checked, which names the problem.
WELL_FORMED = re.compile(
    rb"(?:\\([^\\]*)\\)?"  # tag block
    rb"!([^,*]{2}VD[MO],([1-9]),([1-9]),([^,*]?),([^,*]*),([^,*]+),([0-5]))"  # body
    rb"\*([0-9A-F]{2}|[0-9a-f]{2})"  # checksum, one case (as HEX)
).match


def parse_sentence(raw: bytes) -> Frame | Reject:
    """Frame one line (already stripped of CR/LF and surrounding blanks)."""
    if len(raw) > MAX_LINE:
        return Reject.MALFORMED
    m = WELL_FORMED(raw)
    if m is None:
        return _parse_checked(raw)
    tag, body, count_f, number_f, seq, channel, payload, fill_f, hex_f = m.groups()
    when: float | None = None
    if tag is not None:
        tag_time = parse_tag_block(tag)
        if tag_time.__class__ is Reject:
            return tag_time
        when = tag_time  # type: ignore[assignment]
    if checksum(body) != HEX[hex_f]:
        return Reject.BAD_CHECKSUM
    count = count_f[0] - 48
    number = number_f[0] - 48
    if number > count:
        return Reject.MALFORMED
    if when is None and m.end() < len(raw):
        when = receiver_time(raw[m.end() :])
    return _new(Frame, (count, number, seq, channel, payload, fill_f[0] - 48, when))


def _parse_checked(raw: bytes) -> Frame | Reject:
    """Field by field, for lines the single match refused: the reject reason."""
    when: float | None = None
    if raw[:1] == b"\\":
        end = raw.find(b"\\", 1)
        if end < 0:
            return Reject.MALFORMED
        tag_time = parse_tag_block(raw[1:end])
        if tag_time.__class__ is Reject:
            return tag_time
        when = tag_time  # type: ignore[assignment]
        raw = raw[end + 1 :]
    if raw[:1] != b"!":
        return Reject.UNSUPPORTED_TYPE if raw[:1] == b"$" else Reject.MALFORMED
    star = raw.find(b"*")
    expected = HEX.get(raw[star + 1 : star + 3]) if star > 0 else None
    if expected is None:
        return Reject.MALFORMED
    body = raw[1:star]
    if checksum(body) != expected:
        return Reject.BAD_CHECKSUM
    fields = body.split(b",")
    if len(fields) != 7 or fields[0][2:] not in SENTENCE_TYPES or len(fields[0]) != 5:
        return Reject.MALFORMED if fields[0][2:] in SENTENCE_TYPES else Reject.UNSUPPORTED_TYPE
    _, count_f, number_f, seq, channel, payload, fill_f = fields
    digits = _DIGITS
    count = digits.get(count_f, 0)
    number = digits.get(number_f, 0)
    fill = digits.get(fill_f, 9)
    if not (1 <= number <= count) or fill > 5 or not payload or len(seq) > 1:
        return Reject.MALFORMED
    if when is None and len(raw) > star + 3:
        when = receiver_time(raw[star + 3 :])
    return _new(Frame, (count, number, seq, channel, payload, fill, when))  # type: ignore[no-any-return]


def receiver_time(suffix: bytes) -> float | None:
    """Receiver suffix after the checksum (``,b003669794,1272412827``): a trailing
    10-digit field is the collector's UNIX receive time (NOAA/USCG style logs)."""
    last = suffix.rsplit(b",", 1)[-1].strip()
    if len(last) == 10 and last.isdigit():
        return float(int(last))
    return None


_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__


class Assembled(NamedTuple):
    payload: bytes
    fill: int
    lines: int  # sentences that made the message
    time: float | None


class _Pending:
    __slots__ = ("count", "first_at", "next", "parts", "time")

    def __init__(self, count: int, payload: bytes, first_at: float, time: float | None) -> None:
        self.count = count
        self.next = 2
        self.parts = [payload]
        self.first_at = first_at
        self.time = time


class FragmentBuffer:
    """Reassembles multi-part messages keyed by (connection, sequential id, channel).

    Bounded: at most ``max_pending`` messages wait; the oldest is dropped when
    full, and any older than ``ttl`` seconds (by receive time) expire. Lines of
    dropped messages accumulate in ``dropped`` for the caller to count.
    """

    def __init__(self, max_pending: int = 256, ttl: float = 10.0) -> None:
        self.max_pending = max_pending
        self.ttl = ttl
        self.dropped = 0
        self._pending: dict[tuple[str, bytes, bytes], _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(
        self, key: tuple[str, bytes, bytes], frame: Frame, received_at: float
    ) -> Assembled | None:
        pending = self._pending
        self.expire(received_at)
        entry = pending.get(key)
        if frame.number == 1:
            if entry is not None:  # a new message reuses the id: the old one is incomplete
                self.dropped += len(pending.pop(key).parts)
            if len(pending) >= self.max_pending:
                oldest = next(iter(pending))
                self.dropped += len(pending.pop(oldest).parts)
            pending[key] = _Pending(frame.count, frame.payload, received_at, frame.time)
            return None
        if entry is None or entry.count != frame.count or entry.next != frame.number:
            if entry is not None:
                self.dropped += len(pending.pop(key).parts)
            self.dropped += 1
            return None
        entry.parts.append(frame.payload)
        if entry.time is None:
            entry.time = frame.time
        if frame.number < frame.count:
            entry.next += 1
            return None
        del pending[key]
        return Assembled(b"".join(entry.parts), frame.fill, frame.count, entry.time)

    def expire(self, now: float) -> None:
        """Drop messages whose first fragment arrived more than ``ttl`` ago."""
        pending = self._pending
        limit = now - self.ttl
        while pending:
            key = next(iter(pending))
            if pending[key].first_at >= limit:
                break
            self.dropped += len(pending.pop(key).parts)

    def clear(self) -> None:
        """Drop everything still waiting (end of a feed)."""
        for entry in self._pending.values():
            self.dropped += len(entry.parts)
        self._pending.clear()

    def take_dropped(self) -> int:
        n, self.dropped = self.dropped, 0
        return n
