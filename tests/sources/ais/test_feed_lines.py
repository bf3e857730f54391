"""``feed_lines``' inline path gives exactly what the general path gives.

Each case runs the same input twice: through ``feed_lines`` (inline path on)
and line by line through ``feed_bytes`` with the inline path off, so every line
takes ``_feed_one``. Tracks (msgpack-encoded), batch boundaries, stats and the
static cache must match; the inline path must also have taken the lines it is
meant for, or the comparison would prove nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from itertools import islice
from pathlib import Path

import msgspec
import pyais
import pytest

from kizuna.picture.models import Track
from kizuna.sources.ais import AisIngestor, Reject, nmea, read_file
from kizuna.sources.ais.nmea import checksum

from .conftest import SAMPLE_FILES, UNCLASSIFIED, Collect
from .test_ingest import GARBAGE, TYPE5

T0 = 1_700_000_000.0
Chunk = tuple[list[bytes], float, str | None]  # lines, received at, connection


class Run:
    """One ingestor over some input; counts the lines that took ``_feed_one``."""

    def __init__(self, *, inline: bool, sink: Collect | None = None, **options: object) -> None:
        nmea.TAG_CACHE.clear()  # each run parses its tag blocks itself
        self.collect = Collect() if sink is None else sink
        self.ing = AisIngestor(self.collect, UNCLASSIFIED, **options)  # type: ignore[arg-type]
        self.ing._inline = inline
        self.general = 0
        self.seen: list[dict[str, object]] = []  # stats after each chunk
        feed_one = self.ing._feed_one

        def counting(line: bytes, received_at: float, conn: str) -> object:
            self.general += 1
            return feed_one(line, received_at, conn)

        self.ing._feed_one = counting  # type: ignore[method-assign, assignment]

    def feed(self, chunks: list[Chunk], *, per_line: bool) -> None:
        """Feed each chunk, then flush as the feeds do, noting the stats."""
        for lines, when, conn in chunks:
            if per_line:
                for raw in lines:
                    self.ing.feed_bytes(raw, when, conn)
            else:
                self.ing.feed_lines(lines, when, conn)
            self.ing.flush()
            self.seen.append(self.ing.stats.as_dict())

    def outcome(self) -> tuple[object, ...]:
        """Everything observable after close()."""
        self.ing.close()
        stats = self.ing.stats
        enc = msgspec.msgpack.encode
        return (
            [enc(t) for t in self.collect.tracks],
            [len(b) for b in self.collect.batches],
            stats.as_dict(),
            stats.ignored,
            {mmsi: self.ing.static_for(mmsi) for mmsi in self.ing._vessels},
            self.seen,
        )


def same_both_ways(chunks: list[Chunk], **options: object) -> Run:
    """Feed ``chunks`` inline and line by line on the general path; assert equal."""
    general = Run(inline=False, **options)
    general.feed(chunks, per_line=True)
    inline = Run(inline=True, **options)
    inline.feed(chunks, per_line=False)
    assert inline.outcome() == general.outcome()
    assert general.general == sum(1 for lines, _, _ in chunks for raw in lines if raw.strip())
    return inline


def chunked(
    lines: list[bytes], size: int, step: float = 4.0, conn: str | None = None
) -> list[Chunk]:
    """Chunks of ``size`` lines, received ``step`` seconds apart (fragments expire)."""
    return [
        (lines[i : i + size], T0 + step * (i // size), conn) for i in range(0, len(lines), size)
    ]


# -- inputs ------------------------------------------------------------------


def encode(data: dict[str, object]) -> bytes:
    return pyais.encode_dict(data, talker_id="AI", sentence_type="VDM")[0].encode()


def with_checksum(body: bytes) -> bytes:
    return b"!%s*%02X" % (body, checksum(body))


def tagged(tag: bytes, sentence: bytes, *, good: bool = True) -> bytes:
    return b"\\%s*%02X\\%s" % (tag, checksum(tag) ^ (0 if good else 1), sentence)


def position(mmsi: int, **extra: object) -> bytes:
    data: dict[str, object] = {
        "type": 1,
        "mmsi": mmsi,
        "lat": 50.8,
        "lon": -1.2,
        "speed": 10.0,
        "course": 90.0,
        "heading": 91,
        "status": 0,
    }
    data.update(extra)
    return encode(data)


def mixed_lines() -> list[bytes]:
    """Every kind of line the two paths must agree on, in an order that
    exercises static enrichment, reassembly, expiry and the tag cache."""
    ever_diadem = position(351759000)
    plain = position(431000001)
    body = plain[1 : plain.index(b"*")]
    payload = body.split(b",")[5]
    full19 = encode(
        {
            "type": 19,
            "mmsi": 431000015,
            "lat": 50.1,
            "lon": -1.1,
            "shipname": "SHORT",
            "ship_type": 52,
        }
    )
    short19 = with_checksum(b"AIVDM,1,1,,A," + full19.split(b",")[5][:47] + b",0")  # 282 bits
    lower = next(
        s
        for s in (position(431000100 + i) for i in range(50))
        if any(c in b"ABCDEF" for c in s[-2:])
    )
    return [
        ever_diadem,  # before its static data
        *(line.encode() for line in TYPE5),  # multi-part type 5: names it
        ever_diadem + b"\r\n",  # CRLF; now with IMO/destination remarks
        b"",
        b"\r\n",
        b"  \t ",
        tagged(b"s:test,c:1700000100", position(431000002)),  # tag block with c:
        tagged(b"s:test,c:1700000100", position(431000003)),  # the same: a cache hit
        tagged(b"s:test", position(431000004)),  # no c: → received time
        tagged(b"c:1700000100123", position(431000005)),  # milliseconds
        tagged(b"c:1700000101", position(431000006), good=False),  # bad tag checksum
        tagged(b"c:17000x", position(431000007)),  # c: not digits
        b"\\c:1700000100*00" + plain,  # unterminated tag block
        tagged(b"c:1700000102", plain + b",b003669794,1272412827"),  # tag wins over suffix
        plain + b",b003669794,1272412827",  # receiver suffix time
        plain + b",b003669794,12724",  # suffix without a time
        plain + b" trailing words",
        plain[:-2] + (b"00" if plain[-2:] != b"00" else b"01"),  # bad checksum
        lower[:-2] + lower[-2:].lower(),  # lower-case checksum
        with_checksum(b"AIVDO" + body[5:]),  # own vessel
        with_checksum(body.replace(b",1,1,,", b",1,1,7,")),  # single part with a seq id
        with_checksum(body.replace(b",1,1,,", b",1,2,,")),  # part 2 of 1
        with_checksum(body.replace(payload, payload + b"0" * 24)),  # body over 64 bytes
        with_checksum(body.replace(payload, payload[:10])),  # truncated position
        with_checksum(body.replace(payload, b"15RTgt0PAso;90TKcjM8hXg208CQ")),  # bad armour
        with_checksum(body.replace(payload + b",0", payload + b",2")),  # fill bits
        position(431000008, speed=102.3, course=360.0, status=15),  # not available
        position(431000009, lat=91.0, lon=181.0),  # invalid position
        encode({"type": 2, "msg_type": 2, "mmsi": 431000010, "lat": 1.0, "lon": 2.0, "status": 7}),
        encode({"type": 3, "msg_type": 3, "mmsi": 431000011, "lat": -33.9, "lon": 151.2}),
        encode(
            {"type": 18, "mmsi": 431000012, "lat": 1.0, "lon": 2.0, "speed": 1.0, "course": 3.0}
        ),
        encode(
            {"type": 27, "mmsi": 431000013, "lat": 50.5, "lon": -1.25, "speed": 12, "status": 5}
        ),
        encode(
            {"type": 27, "mmsi": 431000013, "lat": 50.5, "lon": -1.25, "speed": 63, "course": 511}
        ),
        encode(
            {
                "type": 19,
                "mmsi": 431000014,
                "lat": 50.1,
                "lon": -1.1,
                "shipname": "TEST BOAT",
                "ship_type": 37,
            }
        ),
        encode(
            {"type": 18, "mmsi": 431000014, "lat": 50.2, "lon": -1.0, "speed": 2.0, "course": 4.0}
        ),
        short19,  # name and ship type in a body under 64 bytes
        encode(
            {"type": 18, "mmsi": 431000015, "lat": 50.2, "lon": -1.0, "speed": 2.0, "course": 4.0}
        ),
        b"!AIVDM,1,1,,A,H42O55i18tMET00000000000000,2*6D",  # type 24 A
        b"!AIVDM,1,1,,A,H42O55lti4hhhilD3nink000?050,0*40",  # type 24 B
        position(271041815),  # enriched by both
        encode({"type": 4, "mmsi": 2320000, "lat": 50.0, "lon": -1.0}),  # unsupported type
        *(line.encode("utf-8") for line in GARBAGE),
        with_checksum(b"AIVDM,1,1,,B,,0"),  # empty payload
        b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\r",
        b"\\c:1700000200*%02X\\" % checksum(b"c:1700000200") + b"!" * 1100,  # too long
        tagged(b"s:" + b"x" * 1100 + b",c:1700000300", position(431000016)),  # too long
        TYPE5[0].encode(),  # a lone first part, then inline lines only: expires
        *(position(431000200 + i, lat=50.0 + i / 100) for i in range(12)),  # fills batches
    ]


def solent(rows: int) -> list[bytes]:
    """The first ``rows`` of the Solent CSV as type 1 sentences with ``c:`` tag
    blocks, as bench/ais_ingest.py builds its corpus."""

    def line(row: dict[str, str]) -> bytes:
        when = dt.datetime.fromisoformat(row["Time"]).replace(tzinfo=dt.UTC).timestamp()
        sentence = position(
            int(row["MMSI"]),
            lat=float(row["Latitude_degrees"]),
            lon=float(row["Longitude_degrees"]),
            course=float(row["COG_degrees"]),
            speed=float(row["SOG_knots"]),
            heading=511,
            status=15,
        )
        return tagged(f"c:{int(when)}".encode(), sentence)

    return [line(row) for row in islice(csv.DictReader(open_csv()), rows)]


def open_csv() -> Iterable[str]:
    from .conftest import DATA, need_data

    path = DATA / "solent_ais_20160112.csv"
    if not path.is_file():
        need_data(f"Solent AIS data not found at {path}")
    return path.read_text().splitlines()


# -- tests -------------------------------------------------------------------


@pytest.mark.parametrize(("size", "conn"), [(1, None), (5, "feed-b"), (1000, None)])
def test_mixed_lines(size: int, conn: str | None) -> None:
    lines = mixed_lines()
    run = same_both_ways(chunked(lines, size, conn=conn), batch_size=3, fragment_ttl=10.0)
    assert 0 < run.general < sum(1 for line in lines if line.strip())  # both paths used
    stats = run.ing.stats
    assert stats.accepted + stats.rejected_total == stats.offered
    for reason in Reject:  # the mix holds every kind of reject
        assert stats.rejected[reason] > 0, reason
    assert stats.static_updates >= 3
    assert run.ing.static_for(431000015) == {  # from the short type 19
        "name": "SHORT",
        "callsign": "",
        "ship_type": 52,
        "remarks": "",
    }


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sample_files(data_dir: Path, name: str) -> None:
    lines = (data_dir / name).read_bytes().split(b"\n")
    run = same_both_ways(chunked(lines, 500, step=1.0), batch_size=50)
    offered = sum(1 for line in lines if line.strip())
    assert run.general < offered  # receiver suffixes (libais) included: inline
    assert run.collect.tracks


def test_solent_takes_the_inline_path_only() -> None:
    lines = solent(2000)
    run = same_both_ways([(lines, T0, None)])
    assert run.general == 0
    assert run.ing.stats.accepted == len(lines) == len(run.collect.tracks)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_read_file_matches_the_general_path(data_dir: Path, name: str) -> None:
    path = data_dir / name
    general = Run(inline=False)
    with open(path, "rb") as fh:
        for raw in fh:
            if raw[:1] != b"#":
                general.ing.feed_bytes(raw, T0)
    inline = Run(inline=True)
    seen: list[int] = []
    read_file(path, inline.ing, seen.append, received_at=T0, every=100)
    assert inline.outcome() == general.outcome()
    with open(path, "rb") as fh:
        total = sum(1 for _ in fh)
    assert seen == [*range(100, total + 1, 100), total]


def test_failing_sink_is_counted_alike() -> None:
    class Failing(Collect):
        def __call__(self, tracks: list[Track]) -> None:
            super().__call__(tracks)
            if len(self.batches) == 1:
                raise RuntimeError("sink down")

    lines = [position(431000300 + i) for i in range(10)]
    outcomes = []
    for inline in (False, True):
        run = Run(inline=inline, sink=Failing(), batch_size=4)
        if inline:
            run.ing.feed_lines(lines, T0)
        else:
            for raw in lines:
                run.ing.feed_bytes(raw, T0)
        outcomes.append(run.outcome())
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][2]["rejected"]["decode_error"] == 1  # type: ignore[index]


def test_pyais_only_ingestor_skips_the_inline_path() -> None:
    lines = solent(50)
    run = Run(inline=True, fast_path=False)
    run.ing.feed_lines(lines, T0)
    assert run.general == len(lines)
