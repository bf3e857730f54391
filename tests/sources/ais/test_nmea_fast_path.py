"""parse_sentence's single-match fast path answers exactly as the field-by-field parser."""

from __future__ import annotations

import random

from kizuna.sources.ais import nmea
from kizuna.sources.ais.nmea import checksum

SENTENCES = [
    b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
    b"!AIVDM,1,1,,A,13P:JT?P00OrpunM4WTf4001P000,0*10",
    b"!AIVDM,2,1,3,B,55P5TL01VIaAL@7WKO@mBplU@<PDhh000000001S;AJ::4A80?4i@E53,0*3E",
    b"!AIVDM,2,2,3,B,1@0000000000000,2*55",
    b"!AIVDO,1,1,,,B>qc:003wk?8mP=18D3Q3wgTiT;T,0*00",
]


def tagged(tag: bytes, sentence: bytes) -> bytes:
    return b"\\%s*%02X\\%s" % (tag, checksum(tag), sentence)


ALPHABET = b"!\\*,0123456789ABCDEFabcdefVDMOc:s. \x00\xff"


def mutate(rnd: random.Random, line: bytes) -> bytes:
    out = bytearray(line)
    for _ in range(rnd.randint(1, 3)):
        i = rnd.randrange(len(out))
        op = rnd.random()
        if op < 0.4:
            out[i] = rnd.choice(ALPHABET)
        elif op < 0.7:
            out[i:i] = bytes([rnd.choice(ALPHABET)])
        else:
            del out[i]
    return bytes(out)


def fix_checksum(line: bytes) -> bytes:
    start = line.find(b"!")
    star = line.find(b"*", start)
    if start < 0 or star < 0:
        return line
    return line[: star + 1] + b"%02X" % checksum(line[start + 1 : star]) + line[star + 3 :]


def test_fast_path_matches_checked_parser() -> None:
    rnd = random.Random(11)
    sentences = [fix_checksum(s) for s in SENTENCES]
    good = [
        *sentences,
        *(tagged(b"s:rORBCOMM000,c:1426032000", s) for s in sentences),
        tagged(b"c:1452603757", sentences[1]),
        sentences[0] + b",b003669794,1272412827",
        b"\\\\" + sentences[0],
        sentences[0][:-2] + sentences[0][-2:].lower(),
    ]
    assert all(type(nmea.parse_sentence(line)) is nmea.Frame for line in good[:-1])
    cases = [*good, b"", b"!", b"\\", b"!AIVDM,1,1,,A,15RT,0*cB"]
    for _ in range(20_000):
        line = mutate(rnd, rnd.choice(good))
        cases.append(line)
        cases.append(fix_checksum(line))  # so that the field checks are reached too
    fast = 0
    for line in cases:
        ours = nmea.parse_sentence(line)
        assert ours == nmea._parse_checked(line), line
        assert type(ours) is type(nmea._parse_checked(line)), line
        fast += nmea.WELL_FORMED(line) is not None
    assert fast > 5_000  # the fast path was exercised, not just the fallback


def test_tag_block_single_match_answers_as_the_field_parser() -> None:
    rnd = random.Random(11)
    bodies = [b"c:1452607370", b"s:rORBCOMM,c:1452607370", b"c:1426032000123", b"s:x,c:17"]
    cases: list[bytes] = []
    for body in bodies:
        good = b"%s*%02X" % (body, checksum(body))
        cases += [good, body, good.lower(), b"%s*%02X" % (body, checksum(body) ^ 1)]
        cases += [mutate(rnd, good) for _ in range(400)]
    hits = 0
    for tag in cases:
        hits += nmea._TIME_ONLY(tag) is not None
        assert nmea._parse_tag_block(tag) == nmea._parse_tag_fields(tag), tag
    assert hits > 100  # the single match is exercised, not only the fallback
