"""AisIngestor end to end: files, garbage, static enrichment, track mapping."""

from __future__ import annotations

from pathlib import Path

import pyais
import pytest

from kizuna.core.labels import Classification, Label
from kizuna.sources.ais import AisIngestor, Reject, coalesce_latest, read_file
from kizuna.sources.ais.nmea import checksum
from kizuna.sources.ais.symbols import ship_symbol, sidc

from .conftest import SAMPLE_FILES, UNCLASSIFIED, Collect

GARBAGE = [
    "hello world",
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B",  # bad checksum
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0",  # no checksum
    f"!AIVDM,2,2,7,A,00000000000,2*{checksum(b'AIVDM,2,2,7,A,00000000000,2'):02X}",  # orphan
    "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208C\u00e9,0*4A",  # non-ASCII
    "\\c:12345*00\\!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",  # bad tag checksum
    "\x00\x01\x02" * 40,
    "!" * 3000,
]

TYPE5 = [
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    "!AIVDM,2,2,1,A,88888888880,2*25",
]


def sentence(data: dict[str, object], tag_time: int | None = None) -> str:
    text = pyais.encode_dict(data, talker_id="AI", sentence_type="VDM")[0]
    if tag_time is not None:
        tag = f"s:test,c:{tag_time}".encode()
        text = f"\\{tag.decode()}*{checksum(tag):02X}\\{text}"
    return text


def position(mmsi: int = 351759000, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "type": 1,
        "mmsi": mmsi,
        "lat": 35.3,
        "lon": 139.65,
        "speed": 10.0,
        "course": 90.0,
        "heading": 91,
        "status": 0,
    }
    data.update(extra)
    return data


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sample_files_ingest_and_balance(data_dir: Path, collect: Collect, name: str) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED, batch_size=50)
    stats = read_file(data_dir / name, ing, received_at=1_700_000_000.0)
    offered = sum(
        1
        for raw in (data_dir / name).read_bytes().splitlines()
        if raw.strip() and not raw.startswith(b"#")
    )
    assert stats.offered == offered
    assert stats.accepted + stats.rejected_total == stats.offered
    assert stats.rejected_total > 0  # every sample file holds sentences we reject
    assert stats.tracks == len(collect.tracks) > 0
    for track in collect.tracks:
        assert track.id == f"ais-{track.mmsi}" and track.source == "ais"
        assert -90 <= track.lat <= 90 and -180 <= track.lon <= 180
        assert len(track.sidc) == 20 and track.sidc[4:6] == "30"
        assert track.stale_at > track.observed_at


def test_known_rejects_per_file(data_dir: Path, collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED)
    stats = read_file(data_dir / "pyais_nmea_data_sample.txt", ing)
    # The pyais sample holds empty payloads, lone first fragments and
    # "position not available" reports.
    assert stats.rejected[Reject.MALFORMED] > 0
    assert stats.rejected[Reject.INCOMPLETE_FRAGMENT] > 0
    assert stats.rejected[Reject.INVALID_POSITION] > 0
    ing = AisIngestor(collect, UNCLASSIFIED)
    stats = read_file(data_dir / "gpsd_sample.aivdm", ing)
    assert stats.rejected[Reject.MALFORMED] >= 1  # "AIVDM,2,2,..." without "!"


def test_garbage_is_counted_never_raised(collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED)
    for line in GARBAGE:
        ing.feed_line(line, 1000.0)
    ing.feed_line("", 1000.0)
    ing.feed_line("   \r\n", 1000.0)
    ing.close()
    stats = ing.stats
    assert stats.offered == len(GARBAGE)
    assert stats.ignored == 2
    assert stats.accepted == 0
    assert stats.rejected_total == len(GARBAGE)
    assert stats.rejected[Reject.BAD_CHECKSUM] == 2
    assert stats.rejected[Reject.UNSUPPORTED_TYPE] == 1
    assert stats.rejected[Reject.INCOMPLETE_FRAGMENT] == 1
    assert collect.tracks == []


def test_garbage_mixed_into_a_file_keeps_balance(
    data_dir: Path, tmp_path: Path, collect: Collect
) -> None:
    mixed = tmp_path / "mixed.nmea"
    good = (data_dir / "libais_test.aivdm").read_bytes()
    mixed.write_bytes(good + "\n".join(GARBAGE).encode("utf-8") + b"\n")
    ing = AisIngestor(collect, UNCLASSIFIED)
    stats = read_file(mixed, ing)
    clean = AisIngestor(Collect(), UNCLASSIFIED)
    base = read_file(data_dir / "libais_test.aivdm", clean)
    assert stats.offered == base.offered + len(GARBAGE)
    assert stats.accepted == base.accepted
    assert stats.rejected_total == base.rejected_total + len(GARBAGE)


def test_multipart_type5_names_the_track(collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED)
    for line in TYPE5:
        ing.feed_line(line, 1000.0)
    ing.feed_line(sentence(position()), 1001.0)
    ing.close()
    track = collect.latest("ais-351759000")
    assert track.name == "EVER DIADEM"
    assert track.callsign == "3FOF8"
    assert track.ship_type == 70
    assert "IMO 9134270" in track.remarks and "NEW YORK" in track.remarks
    assert track.cot_type == "a-n-S-X-M-C" and track.affiliation == "neutral"
    assert track.sidc == "10043000001401010000"
    assert ing.stats.accepted == 3 and ing.stats.static_updates == 1


def test_type5_fragments_interleaved_across_channels(collect: Collect) -> None:
    # From gpsd's channel multiplexing test: two type 5s, parts interleaved.
    lines = [
        "!AIVDM,2,1,6,B,542M92h00001@<7;?G0PD4i@R0<tqA8tj37>220o0h:2240Ht50000000000,0*3B",
        "!AIVDM,2,1,2,A,542M92h00001@<7;?G0PD4i@R0<tqA8tj37>220o0h:2240Ht500000000000000,0*3C",
        "!AIVDM,2,2,2,A,0000002,2*24",
        "!AIVDM,2,2,6,B,00000000000,2*21",
    ]
    ing = AisIngestor(collect, UNCLASSIFIED)
    for line in lines:
        ing.feed_line(line, 5.0)
    ing.close()
    assert ing.stats.static_updates == 2 and ing.stats.accepted == 4


def test_type24_parts_and_type19_enrich(collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED)
    ing.feed_line("!AIVDM,1,1,,A,H42O55i18tMET00000000000000,2*6D", 1.0)
    ing.feed_line("!AIVDM,1,1,,A,H42O55lti4hhhilD3nink000?050,0*40", 1.0)
    ing.feed_line(sentence(position(271041815)), 2.0)
    ing.feed_line("!AIVDM,1,1,,B,C5N3SRgPEnJGEBT>NhWAwwo862PaLELTBJ:V00000000S0D:R220,0*0B", 3.0)
    ing.close()
    proguy = collect.latest("ais-271041815")
    assert (proguy.name, proguy.callsign, proguy.ship_type) == ("PROGUY", "TC6163", 60)
    assert proguy.cot_type == "a-n-S-X-M-P"
    rimes = collect.latest("ais-367059850")
    assert (rimes.name, rimes.ship_type) == ("CAPT.J.RIMES", 70)


def test_track_mapping_units_times_label(collect: Collect) -> None:
    label = Label(classification=Classification.UNCLASSIFIED, exercise=True)
    ing = AisIngestor(collect, label, connection="feed-1")
    ing.feed_line(sentence(position(431000001, speed=10.0, course=90.0), 1_700_000_000), 5.0)
    ing.feed_line(sentence(position(431000002, speed=102.3, course=360.0)), 7.0)
    ing.feed_line(
        sentence(
            {"type": 18, "mmsi": 431000003, "lat": 1.0, "lon": 2.0, "speed": 1.0, "course": 3.0}
        ),
        8.0,
    )
    ing.close()
    first = collect.latest("ais-431000001")
    assert first.observed_at == 1_700_000_000.0  # tag block c: wins over receive time
    assert first.stale_at == first.observed_at + 600
    assert first.speed == pytest.approx(10.0 * 0.514444)
    assert first.course == 90.0
    assert first.label == label and first.exercise
    assert first.sidc[2] == "1"  # exercise context
    assert first.sidc == "10113000000000000000"  # no ship type yet: unknown identity
    assert first.cot_type == "a-u-S"
    assert first.remarks == "under way using engine"
    [prov] = first.sources
    assert (prov.source, prov.source_id, prov.connection) == ("ais", "431000001", "feed-1")
    assert prov.observed_at == first.observed_at
    second = collect.latest("ais-431000002")
    assert second.observed_at == 7.0 and second.speed is None and second.course is None
    class_b = collect.latest("ais-431000003")
    assert class_b.stale_at == 8.0 + 900


def test_position_not_available_is_rejected(collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED)
    ing.feed_line(sentence(position(431000001, lat=91.0, lon=181.0)), 1.0)
    ing.close()
    assert ing.stats.rejected[Reject.INVALID_POSITION] == 1 and not collect.tracks


def test_batches_and_pending_fragments(collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED, batch_size=3, fragment_ttl=5.0)
    for i in range(7):
        ing.feed_line(sentence(position(431000000 + i)), float(i))
    assert [len(b) for b in collect.batches] == [3, 3]
    ing.feed_line(TYPE5[0], 10.0)  # first half only
    ing.feed_line(sentence(position(431000100)), 20.0)
    ing.flush()  # the lone fragment is now older than the TTL
    assert ing.stats.rejected[Reject.INCOMPLETE_FRAGMENT] == 1
    ing.feed_line(TYPE5[0], 30.0)
    ing.close()  # unfinished at close
    assert ing.stats.rejected[Reject.INCOMPLETE_FRAGMENT] == 2
    assert ing.stats.accepted + ing.stats.rejected_total == ing.stats.offered == 10


def test_static_cache_is_bounded(collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED, static_cache_size=5)
    for i in range(20):
        ing.feed_line(sentence(position(431000000 + i)), float(i))
    ing.close()
    assert ing.static_for(431000000) is None and ing.static_for(431000019) is not None
    assert len(collect.tracks) == 20


def test_coalesce_latest_keeps_newest_per_id(collect: Collect) -> None:
    ing = AisIngestor(collect, UNCLASSIFIED)
    for when in (3.0, 1.0, 2.0):
        ing.feed_line(sentence(position(431000001)), when)
    ing.close()
    [latest] = coalesce_latest(collect.tracks)
    assert latest.observed_at == 3.0


def test_symbols() -> None:
    assert sidc(ship_symbol(30)) == "10043000001402000000"  # fishing, neutral
    assert sidc(ship_symbol(35)) == "10013000001100000000"  # military: unknown identity
    assert ship_symbol(None).cot_type == "a-u-S" and ship_symbol(999).affiliation == "unknown"
    assert ship_symbol(84).cot_type == "a-n-S-X-M-O"
