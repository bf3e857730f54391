"""NMEA framing: checksums, tag blocks, sentence checks, fragment buffer."""

from __future__ import annotations

import functools
import operator

from kizuna.sources.ais.nmea import (
    FragmentBuffer,
    Frame,
    Reject,
    checksum,
    parse_sentence,
    parse_tag_block,
)

GOOD = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"


def with_checksum(body: bytes) -> bytes:
    return b"!%s*%02X" % (body, checksum(body))


def test_checksum_is_xor_of_bytes() -> None:
    for body in (b"", b"A", b"AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0", bytes(range(1, 200))):
        assert checksum(body) == functools.reduce(operator.xor, body, 0)


def test_good_sentence_frames() -> None:
    frame = parse_sentence(GOOD)
    assert isinstance(frame, Frame)
    assert (frame.count, frame.number, frame.channel, frame.fill) == (1, 1, b"A", 0)
    assert frame.payload == b"15RTgt0PAso;90TKcjM8h6g208CQ"
    assert frame.time is None


def test_aivdo_and_other_talkers_are_accepted() -> None:
    assert isinstance(
        parse_sentence(with_checksum(b"AIVDO,1,1,,,B>qc:003wk?8mP=18D3Q3wgTiT;T,0")), Frame
    )
    assert isinstance(
        parse_sentence(with_checksum(b"BSVDM,1,1,,B,15RTgt0PAso;90TKcjM8h6g208CQ,0")), Frame
    )


def test_rejects() -> None:
    assert parse_sentence(GOOD[:-1] + b"B") is Reject.BAD_CHECKSUM
    assert parse_sentence(GOOD.replace(b"15RT", b"15RU")) is Reject.BAD_CHECKSUM
    assert parse_sentence(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0") is Reject.MALFORMED
    assert parse_sentence(b"AIVDM,2,2,1,B,00000000000,2*26") is Reject.MALFORMED
    assert parse_sentence(b"hello world") is Reject.MALFORMED
    assert parse_sentence(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*ZZ") is Reject.MALFORMED
    assert parse_sentence(with_checksum(b"AIVDM,1,1,,B,,0")) is Reject.MALFORMED  # empty payload
    assert parse_sentence(with_checksum(b"AIVDM,1,1,,B,15RTgt,7")) is Reject.MALFORMED  # fill > 5
    assert parse_sentence(with_checksum(b"AIVDM,1,2,,B,15RTgt,0")) is Reject.MALFORMED  # 2 > 1
    assert parse_sentence(with_checksum(b"AIVDM,1,1,,B,15RTgt")) is Reject.MALFORMED
    assert parse_sentence(b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47") is (
        Reject.UNSUPPORTED_TYPE
    )
    assert parse_sentence(with_checksum(b"AIALR,1,2,3")) is Reject.UNSUPPORTED_TYPE
    assert parse_sentence(b"!" + b"A" * 5000) is Reject.MALFORMED


def test_tag_block_time() -> None:
    tag = b"s:rORBCOMM000,c:1426032000"
    line = b"\\%s*%02X\\%s" % (tag, checksum(tag), GOOD)
    frame = parse_sentence(line)
    assert isinstance(frame, Frame)
    assert frame.time == 1426032000.0
    # milliseconds are recognised; no checksum is tolerated; other fields ignored
    assert parse_tag_block(b"c:1426032000123,s:x") == 1426032000.123
    assert parse_tag_block(b"s:abc") is None
    assert parse_tag_block(b"s:xc:12") is None  # "c:" not at a field start
    assert parse_tag_block(b"c:1426032000*00") is Reject.BAD_CHECKSUM
    assert parse_tag_block(b"c:notanumber") is Reject.MALFORMED
    assert parse_sentence(b"\\c:1426032000" + GOOD) is Reject.MALFORMED  # unterminated


def test_receiver_suffix_time() -> None:
    frame = parse_sentence(GOOD + b",b003669794,1272412827")
    assert isinstance(frame, Frame) and frame.time == 1272412827.0
    frame = parse_sentence(GOOD + b",s36310,d-081,T59.01777335")
    assert isinstance(frame, Frame) and frame.time is None


def _frag(n: int, of: int, payload: bytes, fill: int = 0) -> Frame:
    frame = parse_sentence(with_checksum(b"AIVDM,%d,%d,3,A,%s,%d" % (of, n, payload, fill)))
    assert isinstance(frame, Frame)
    return frame


def test_fragments_reassemble_in_order() -> None:
    buf = FragmentBuffer()
    key = ("c", b"3", b"A")
    assert buf.add(key, _frag(1, 3, b"AAAA"), 0.0) is None
    assert buf.add(key, _frag(2, 3, b"BBBB"), 0.5) is None
    done = buf.add(key, _frag(3, 3, b"CC", 2), 1.0)
    assert done is not None
    assert (done.payload, done.fill, done.lines) == (b"AAAABBBBCC", 2, 3)
    assert len(buf) == 0 and buf.take_dropped() == 0


def test_fragment_out_of_order_and_orphans_are_dropped() -> None:
    buf = FragmentBuffer()
    key = ("c", b"3", b"A")
    assert buf.add(key, _frag(2, 2, b"BBBB"), 0.0) is None  # orphan second part
    assert buf.take_dropped() == 1
    buf.add(key, _frag(1, 3, b"AAAA"), 0.0)
    assert buf.add(key, _frag(3, 3, b"CCCC"), 0.0) is None  # part 2 skipped
    assert buf.take_dropped() == 2
    buf.add(key, _frag(1, 2, b"AAAA"), 0.0)
    buf.add(key, _frag(1, 2, b"AAAA"), 0.0)  # restarted: the first one is incomplete
    assert buf.take_dropped() == 1 and len(buf) == 1


def test_fragment_buffer_is_bounded_and_expires() -> None:
    buf = FragmentBuffer(max_pending=4, ttl=10.0)
    for i in range(10):
        buf.add(("c", str(i % 10).encode(), b"A"), _frag(1, 2, b"AAAA"), float(i))
    assert len(buf) == 4
    assert buf.take_dropped() == 6
    buf.expire(17.5)  # entries first seen at 6 and 7 are older than 10 s
    assert len(buf) == 2 and buf.take_dropped() == 2
    buf.clear()
    assert len(buf) == 0 and buf.take_dropped() == 2
