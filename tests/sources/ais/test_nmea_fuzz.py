"""Property-based fuzzing of the AIS edge: NMEA framing (``nmea.py``) and the ingestor
(``AisIngestor.feed_lines``, its inline path and its general path).

* Arbitrary and mutated lines (mutations of the lines ``test_feed_lines`` and
  ``test_ingest`` use, and of the shared sample files when present) never raise,
  never take long, and every line is accounted for: after ``close()``,
  ``accepted + rejected == offered``; nothing is counted as an internal error
  (the ingestor's name for a bug it swallowed).
* The inline path gives exactly what the general path gives on that input too.
* The fragment buffer stays bounded and loses no line uncounted.
* Valid messages round-trip: what pyais encodes comes out as the same track.
"""

from __future__ import annotations

import functools
import math
import operator
import os
import time
from typing import Any

import pyais
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyais.constants import ShipType

from kizuna.sources.ais import AisIngestor
from kizuna.sources.ais.ingest import KNOT
from kizuna.sources.ais.nmea import (
    MAX_LINE,
    FragmentBuffer,
    Frame,
    Reject,
    checksum,
    parse_sentence,
    parse_tag_block,
)

from .conftest import DATA, SAMPLE_FILES, UNCLASSIFIED, Collect
from .test_feed_lines import T0, mixed_lines, same_both_ways, tagged
from .test_ingest import GARBAGE, TYPE5

CI = bool(os.environ.get("CI"))
SLOW = 1.0  # seconds for a batch of at most a few dozen lines: a hang is far longer


def budget(ci_examples: int) -> settings:
    """Examples per property: the profile's (300 locally), capped in CI."""
    return settings(max_examples=ci_examples) if CI else settings()


def _sample_lines(per_file: int = 150) -> list[bytes]:
    out: list[bytes] = []
    for name in SAMPLE_FILES:
        path = DATA / name
        if path.is_file():
            out += [ln for ln in path.read_bytes().splitlines() if ln.strip()][:per_file]
    return out


SEEDS = [
    *mixed_lines(),
    *(line.encode("utf-8") for line in GARBAGE),
    *(line.encode() for line in TYPE5),
    *_sample_lines(),
]
SEEDS = [s for s in SEEDS if s.strip()]

TOKENS = [
    b",",
    b"*",
    b"!",
    b"\\",
    b"$",
    b"\r\n",
    b"\x00",
    b"\xff",
    b"AIVDM",
    b"AIVDO",
    b"c:",
    b"c:99999999999999",
    b"s:",
    b"9",
    b"0",
    b",2,1,3,A,",
    b",9,9,9,B,",
    b"*00",
    b"*zz",
    b" " * 5,
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed line with a few byte-level mutations; half the time the checksum is fixed up
    afterwards, so the mutation reaches the decoder instead of the checksum check."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        n = len(data)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 16)))
        op = draw(st.integers(0, 5))
        if op == 0 and n:
            data[min(i, n - 1)] ^= draw(st.integers(1, 255))
        elif op == 1:
            del data[i:j]
        elif op == 2:
            data[i:i] = draw(st.sampled_from(TOKENS))
        elif op == 3:
            data[i:i] = data[i:j]
        elif op == 4:
            data[i:j] = draw(st.binary(max_size=8))
        else:  # a payload character from the six-bit armour
            if n:
                data[min(i, n - 1)] = draw(
                    st.sampled_from(
                        b"0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"
                    )
                )
    line = bytes(data)
    if draw(st.booleans()):
        line = _fix_checksum(line)
    return line


def _fix_checksum(line: bytes) -> bytes:
    bang, star = line.find(b"!"), line.rfind(b"*")
    if 0 <= bang < star and len(line) >= star + 3:
        body = line[bang + 1 : star]
        line = line[: star + 1] + b"%02X" % checksum(body) + line[star + 3 :]
    return line


lines = mutated() | st.binary(max_size=200) | st.sampled_from(SEEDS)
chunks = st.lists(
    st.tuples(
        st.lists(lines, max_size=12), st.floats(0.0, 30.0), st.sampled_from([None, "feed-b"])
    ),
    min_size=1,
    max_size=5,
)


# -- framing ---------------------------------------------------------------------------


@budget(3000)
@given(lines)
@example(b"!" * (MAX_LINE + 1))
@example(b"\\" * 3)
def test_parse_sentence_returns_a_frame_or_a_reason(line: bytes) -> None:
    start = time.perf_counter()
    frame = parse_sentence(line.strip())
    assert time.perf_counter() - start < SLOW
    if isinstance(frame, Reject):
        return
    assert isinstance(frame, Frame)
    assert 1 <= frame.number <= frame.count <= 9
    assert 0 <= frame.fill <= 5 and frame.payload
    assert frame.time is None or math.isfinite(frame.time)


@budget(2000)
@given(
    st.binary(max_size=120)
    | st.sampled_from(TOKENS)
    | mutated().map(lambda b: b[1 : b.find(b"\\", 1)])
)
def test_tag_blocks_give_a_time_a_reason_or_nothing(tag: bytes) -> None:
    result = parse_tag_block(tag)
    assert (
        result is None
        or isinstance(result, Reject)
        or (isinstance(result, float) and math.isfinite(result) and result >= 0)
    )


@budget(2000)
@given(st.binary(max_size=3 * MAX_LINE))
def test_checksum_is_the_xor_of_every_byte(data: bytes) -> None:
    assert checksum(data) == functools.reduce(operator.xor, data, 0)


@st.composite
def fragments(draw: st.DrawFn) -> list[tuple[Frame, float]]:
    out, now = [], 0.0
    for _ in range(draw(st.integers(0, 60))):
        count = draw(st.integers(2, 4))
        number = draw(st.integers(1, count))
        seq = draw(st.sampled_from([b"1", b"2", b"3"]))
        channel = draw(st.sampled_from([b"A", b"B"]))
        now += draw(st.floats(0.0, 4.0))
        out.append((Frame(count, number, seq, channel, b"x" * number, 0, None), now))
    return out


@budget(800)
@given(fragments(), st.integers(1, 4), st.floats(0.5, 12.0))
def test_fragment_buffer_is_bounded_and_counts_every_line(
    frames: list[tuple[Frame, float]], max_pending: int, ttl: float
) -> None:
    buf = FragmentBuffer(max_pending=max_pending, ttl=ttl)
    assembled = dropped = 0
    for frame, now in frames:
        done = buf.add((frame.channel.decode(), frame.seq, frame.channel), frame, now)
        if done is not None:
            assert done.lines == frame.count and len(done.payload) == sum(range(1, frame.count + 1))
            assembled += done.lines
        dropped += buf.take_dropped()
        assert len(buf) <= max_pending
    buf.clear()
    dropped += buf.take_dropped()
    assert assembled + dropped == len(frames)


# -- the ingestor ----------------------------------------------------------------------


class Strict(AisIngestor):
    """An ingestor that remembers every line it had to count as an internal error."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.bugs: list[bytes] = []

    def _internal_error(self, line: bytes) -> None:
        self.bugs.append(line)
        super()._internal_error(line)


@budget(1500)
@given(chunks)
def test_feed_lines_never_raises_and_accounts_for_every_line(
    feed: list[tuple[list[bytes], float, str | None]],
) -> None:
    collect = Collect()
    ing = Strict(collect, UNCLASSIFIED, batch_size=7)
    blank = 0
    for batch, offset, conn in feed:
        start = time.perf_counter()
        ing.feed_lines(batch, T0 + offset, conn)
        assert time.perf_counter() - start < SLOW
        blank += sum(1 for raw in batch if not raw.strip())
    ing.close()
    stats = ing.stats
    assert not ing.bugs, f"internal errors on {ing.bugs[:3]}"
    assert stats.accepted + stats.rejected_total == stats.offered
    assert stats.ignored == blank
    assert stats.offered + blank == sum(len(b) for b, _, _ in feed)
    assert stats.tracks == len(collect.tracks)
    for track in collect.tracks:
        assert -90.0 <= track.lat <= 90.0 and -180.0 <= track.lon <= 180.0
        assert math.isfinite(track.observed_at) and track.stale_at > track.observed_at
        assert track.id == f"ais-{track.mmsi}" and track.label == UNCLASSIFIED
        assert track.course is None or 0.0 <= track.course < 360.0
        assert track.speed is None or track.speed >= 0.0


@budget(1500)
@given(st.text(max_size=120))
def test_feed_line_takes_any_text(text: str) -> None:
    ing = Strict(Collect(), UNCLASSIFIED)
    ing.feed_line(text, T0)
    ing.close()
    assert not ing.bugs
    assert ing.stats.accepted + ing.stats.rejected_total == ing.stats.offered


@budget(500)
@given(chunks)
def test_inline_path_matches_the_general_path_on_mutated_lines(
    feed: list[tuple[list[bytes], float, str | None]],
) -> None:
    same_both_ways([(batch, T0 + offset, conn) for batch, offset, conn in feed], batch_size=5)


# -- round trips -----------------------------------------------------------------------

mmsis = st.integers(200_000_000, 775_999_999)
lats = st.integers(-90 * 600_000, 90 * 600_000).map(lambda v: v / 600_000)
lons = st.integers(-180 * 600_000, 180 * 600_000 - 1).map(lambda v: v / 600_000)
speeds = st.integers(0, 1021).map(lambda v: v / 10)  # knots; 102.2 is the largest real speed
courses = st.integers(0, 3599).map(lambda v: v / 10)


@budget(1500)
@given(
    st.sampled_from([1, 2, 3, 18]),
    mmsis,
    lats,
    lons,
    speeds,
    courses,
    st.none() | st.integers(1_500_000_000, 2_000_000_000),
)
def test_position_reports_round_trip(
    msg_type: int, mmsi: int, lat: float, lon: float, speed: float, course: float, when: int | None
) -> None:
    data = {"type": msg_type, "msg_type": msg_type, "mmsi": mmsi, "lat": lat, "lon": lon}
    data |= {"speed": speed, "course": course, "heading": 511}
    line = pyais.encode_dict(data, talker_id="AI", sentence_type="VDM")[0].encode()
    if when is not None:
        line = tagged(f"s:fuzz,c:{when}".encode(), line)
    collect = Collect()
    ing = Strict(collect, UNCLASSIFIED)
    ing.feed_lines([line], T0)
    ing.close()
    assert not ing.bugs and ing.stats.accepted == 1, ing.stats.as_dict()
    [track] = collect.tracks
    assert (track.id, track.mmsi) == (f"ais-{mmsi}", mmsi)
    assert abs(track.lat - lat) <= 1 / 600_000 and abs(track.lon - lon) <= 1 / 600_000
    assert track.speed is not None and abs(track.speed - speed * KNOT) <= 0.1 * KNOT
    assert track.course is not None and abs(track.course - course) <= 0.1
    assert track.observed_at == (T0 if when is None else float(when))


# Ship types pyais reads back as themselves (test_reserved_ship_types_are_kept has the rest)
PLAIN_SHIP_TYPES = [v for v in range(256) if int(ShipType(v)) == v]
SIXBIT_TEXT = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -.", min_size=1, max_size=20)


@budget(800)
@given(
    mmsis,
    SIXBIT_TEXT,
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=7),
    st.sampled_from(PLAIN_SHIP_TYPES),
    st.booleans(),
)
def test_static_and_voyage_data_round_trip(
    mmsi: int, name: str, callsign: str, ship_type: int, interleave: bool
) -> None:
    static = pyais.encode_dict(
        {"type": 5, "mmsi": mmsi, "shipname": name, "callsign": callsign, "ship_type": ship_type},
        talker_id="AI",
        sentence_type="VDM",
    )
    position = pyais.encode_dict(
        {"type": 1, "mmsi": mmsi, "lat": 35.0, "lon": 139.0, "speed": 3.0, "course": 10.0},
        talker_id="AI",
        sentence_type="VDM",
    )[0]
    lines = [s.encode() for s in static]
    if interleave and len(lines) > 1:  # another vessel's position between the parts
        other = pyais.encode_dict(
            {"type": 1, "mmsi": 211000000, "lat": 1.0, "lon": 2.0},
            talker_id="AI",
            sentence_type="VDM",
        )[0]
        lines.insert(1, other.encode())
    collect = Collect()
    ing = Strict(collect, UNCLASSIFIED)
    ing.feed_lines([*lines, position.encode()], T0)
    ing.close()
    assert not ing.bugs
    track = collect.latest(f"ais-{mmsi}")
    assert track.name == name.strip() and track.callsign == callsign.strip()
    assert track.ship_type == ship_type


def _armour(bits: str) -> tuple[str, int]:
    fill = -len(bits) % 6
    bits += "0" * fill
    values = [int(bits[i : i + 6], 2) for i in range(0, len(bits), 6)]
    return "".join(chr(v + 48 if v < 40 else v + 56) for v in values), fill


def _bits(value: int, n: int) -> str:
    return format(value & ((1 << n) - 1), f"0{n}b")


def _sixbit(text: str, chars: int) -> str:
    return "".join(
        _bits(ord(c) - 64 if ord(c) >= 64 else ord(c), 6) for c in text.ljust(chars, "@")
    )


def _sentences(payload: str, fill: int, per: int = 60) -> list[bytes]:
    parts = [payload[i : i + per] for i in range(0, len(payload), per)]
    out = []
    for k, part in enumerate(parts, 1):
        body = f"AIVDM,{len(parts)},{k},{3 if len(parts) > 1 else ''},A,{part},"
        body += str(fill if k == len(parts) else 0)
        out.append(b"!%s*%02X" % (body.encode(), checksum(body.encode())))
    return out


def raw_type5(mmsi: int, ship_type: int) -> list[bytes]:
    """A type 5 with exactly the bits given (pyais's encoder folds ship types too)."""
    bits = _bits(5, 6) + _bits(0, 2) + _bits(mmsi, 30) + _bits(0, 2) + _bits(1234567, 30)
    bits += _sixbit("CALL", 7) + _sixbit("NAME", 20) + _bits(ship_type, 8)
    bits += _bits(10, 9) * 2 + _bits(5, 6) * 2 + _bits(1, 4) + _bits(1, 4) + _bits(1, 5)
    bits += _bits(0, 11) + _bits(50, 8) + _sixbit("TOKYO", 20) + _bits(0, 2)
    return _sentences(*_armour(bits))


def raw_type19(mmsi: int, ship_type: int) -> list[bytes]:
    bits = _bits(19, 6) + _bits(0, 2) + _bits(mmsi, 30) + _bits(0, 8) + _bits(50, 10)
    bits += _bits(0, 1) + _bits(1_200_000, 28) + _bits(600_000, 27) + _bits(900, 12)
    bits += _bits(90, 9) + _bits(10, 6) + _bits(0, 4) + _sixbit("NINETEEN", 20)
    bits += _bits(ship_type, 8) + _bits(10, 9) * 2 + _bits(5, 6) * 2 + _bits(1, 4) + _bits(0, 7)
    return _sentences(*_armour(bits), per=80)


@pytest.mark.parametrize("ship_type", [46, 27, 101])
def test_reserved_ship_types_are_kept(ship_type: int) -> None:
    collect = Collect()
    ing = Strict(collect, UNCLASSIFIED)
    position = pyais.encode_dict(
        {"type": 1, "mmsi": 431000001, "lat": 1.0, "lon": 2.0}, talker_id="AI", sentence_type="VDM"
    )[0]
    lines = [*raw_type5(431000001, ship_type), position.encode(), *raw_type19(431000002, ship_type)]
    ing.feed_lines(lines, T0)
    ing.close()
    assert not ing.bugs and ing.stats.accepted == len(lines), ing.stats.as_dict()
    assert collect.latest("ais-431000002").ship_type == ship_type  # type 19: kept
    assert collect.latest("ais-431000001").ship_type == ship_type  # type 5: folded
