"""XML and protobuf codec, labels and framing."""

from __future__ import annotations

import pytest
import takproto
from cot_support import cot

from kizuna.core.labels import Classification, make_label
from kizuna.core.release import make_principal, may_release
from kizuna.picture.models import Track
from kizuna.sources.cot import proto
from kizuna.sources.cot.codec import (
    CotError,
    event_from_track,
    label_from_event,
    parse_xml,
    to_xml,
    track_from_event,
)
from kizuna.sources.cot.framing import Frame, FrameSplitter

ATAK_SA = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<event version="2.0" uid="ANDROID-589520ccfcd20f01" type="a-f-G-U-C" how="h-e"
 time="2024-05-01T03:04:05.123Z" start="2024-05-01T03:04:05.123Z"
 stale="2024-05-01T03:10:05.123Z"><point lat="35.6812" lon="139.7671" hae="42.5" ce="9.9"
 le="9999999"/><detail><takv os="34" version="5.1.0" device="PIXEL" platform="ATAK-CIV"/>
<contact endpoint="*:-1:stcp" callsign="RAIDEN"/><uid Droid="RAIDEN"/>
<__group role="Team Lead" name="Cyan"/><status battery="88"/>
<track course="271.5" speed="1.25"/><remarks>on station</remarks></detail></event>"""

USA_U = make_label(Classification.UNCLASSIFIED, originator="USA")


def test_parse_atak_position_report() -> None:
    ev = parse_xml(ATAK_SA)
    assert (ev.uid, ev.type, ev.how) == ("ANDROID-589520ccfcd20f01", "a-f-G-U-C", "h-e")
    assert (ev.lat, ev.lon, ev.hae, ev.ce) == (35.6812, 139.7671, 42.5, 9.9)
    assert ev.time == pytest.approx(1714532645.123)
    assert ev.stale - ev.time == pytest.approx(360.0)
    assert (ev.callsign, ev.group_name, ev.group_role) == ("RAIDEN", "Cyan", "Team Lead")
    assert (ev.course, ev.speed, ev.remarks) == (271.5, 1.25, "on station")
    assert [el.tag for el in ev.extra] == ["takv", "uid", "status"]


def test_track_from_event() -> None:
    ev = parse_xml(ATAK_SA)
    ev.label = label_from_event(ev, USA_U, "USA")
    track = track_from_event(ev, connection="c1")
    assert track.id == "cot-ANDROID-589520ccfcd20f01" and track.source == "cot"
    assert track.sidc == "10031000001211000000" and track.affiliation == "friend"
    assert (track.callsign, track.course, track.speed, track.hae) == ("RAIDEN", 271.5, 1.25, 42.5)
    assert track.observed_at == ev.time and track.stale_at == ev.stale
    assert track.label == USA_U and track.sources[0].connection == "c1"


@pytest.mark.parametrize(
    ("attrs", "marking"),
    [
        ({"access": "SECRET", "releaseableTo": "JPN AUS"}, "SECRET//REL TO USA, AUS, JPN"),
        ({"access": "Unclassified"}, "UNCLASSIFIED"),
        ({"access": "SECRET", "caveat": "NOFORN"}, "SECRET//NOFORN"),
        (
            {"access": "CONFIDENTIAL", "releasableTo": "KOR,JPN"},
            "CONFIDENTIAL//REL TO USA, JPN, KOR",
        ),
        ({"access": "SECRET", "rel_to": "FVEY"}, "SECRET//REL TO USA, FVEY"),  # pytak spelling
        ({"access": "SECRET//REL TO USA, JPN"}, "SECRET//REL TO USA, JPN"),
        ({"access": "U", "opex": "e-KEEN SWORD"}, "UNCLASSIFIED//EXERCISE"),
        ({}, "UNCLASSIFIED"),  # the connection's default
    ],
)
def test_label_from_cot_attributes(attrs: dict[str, str], marking: str) -> None:
    ev = parse_xml(cot("L1", **attrs))
    assert label_from_event(ev, USA_U, "USA").render() == marking


@pytest.mark.parametrize(
    "attrs",
    [
        {"access": "SUPER SECRET"},
        {"access": "SECRET", "caveat": "ORCON"},
        {"access": "SECRET", "releaseableTo": "XYZ"},
        {"access": "UNCLASSIFIED", "caveat": "NOFORN"},
    ],
)
def test_unreadable_label_is_refused_not_defaulted(attrs: dict[str, str]) -> None:
    ev = parse_xml(cot("L2", **attrs))
    with pytest.raises(CotError) as err:
        label_from_event(ev, USA_U, "USA")
    assert err.value.reason == "label"


def test_xml_round_trip_writes_label() -> None:
    ev = parse_xml(ATAK_SA)
    ev.label = make_label(Classification.SECRET, rel_to={"JPN"}, originator="USA")
    data = to_xml(ev)
    assert b'access="SECRET"' in data and b'releaseableTo="USA JPN"' in data
    back = parse_xml(data)
    assert (back.uid, back.lat, back.lon, back.callsign, back.remarks) == (
        ev.uid,
        ev.lat,
        ev.lon,
        "RAIDEN",
        "on station",
    )
    assert back.time == pytest.approx(ev.time, abs=1e-3)
    assert label_from_event(back, USA_U, "USA") == ev.label
    assert [el.tag for el in back.extra] == ["takv", "uid", "status"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<event version="2.0" uid="x" type="a-f-G" time="2024-01-01T00:00:00Z"
 start="2024-01-01T00:00:00Z" stale="2024-01-01T00:01:00Z"><point lat="0" lon="0"/>
<detail><remarks>&lol3;</remarks></detail></event>"""

XXE = b"""<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<event uid="x" type="a-f-G" time="2024-01-01T00:00:00Z" stale="2024-01-01T00:01:00Z">
<point lat="0" lon="0"/><detail><remarks>&x;</remarks></detail></event>"""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<event uid='x' type='a-f-G'><point lat='1'", "xml"),
        (BILLION_LAUGHS, "entities"),
        (XXE, "entities"),
        (cot("x").replace(b'lat="35.68"', b'lat="91.0"'), "invalid"),
        (cot("x").replace(b'lon="139.76"', b'lon="east"'), "invalid"),
        (cot("x").replace(b'hae="40"', b'hae="high"'), "invalid"),
        (ATAK_SA.replace(b'time="2024-05-01T03:04:05.123Z"', b'time="yesterday"'), "invalid"),
        (ATAK_SA.replace(b'course="271.5"', b'course="NNW"'), "invalid"),
        (ATAK_SA.replace(b'uid="ANDROID-589520ccfcd20f01" ', b""), "invalid"),
        (b"<notanevent/>", "invalid"),
        (
            b"<event uid='a' type='a-f-G' time='2024-01-01T00:00:00Z'"
            b" stale='2024-01-01T00:00:00Z'/>",
            "invalid",
        ),  # no point
        (ATAK_SA.replace(b"on station", b"A" * 70_000), "too_large"),
    ],
)
def test_strict_xml(data: bytes, reason: str) -> None:
    with pytest.raises(CotError) as err:
        parse_xml(data)
    assert err.value.reason == reason


def test_protobuf_round_trip_carries_label() -> None:
    ev = parse_xml(ATAK_SA)
    ev.label = make_label(Classification.SECRET, rel_to={"JPN", "AUS"}, originator="USA")
    frame = proto.encode_stream(ev)
    # an independent decoder (takproto) reads our stream frame
    msg = takproto.parse_proto(bytearray(frame))
    assert msg.cotEvent.uid == ev.uid and msg.cotEvent.access == "SECRET"
    assert msg.cotEvent.detail.contact.callsign == "RAIDEN"
    assert msg.cotEvent.detail.track.course == 271.5
    splitter = FrameSplitter()
    [got] = splitter.feed(frame)
    assert isinstance(got, Frame) and got.kind == "proto"
    back = proto.decode_message(got.data)
    assert (back.caveat, back.releaseable_to) == ("", "USA AUS JPN")
    assert label_from_event(back, USA_U, "USA") == ev.label
    assert (back.lat, back.lon, back.remarks) == (ev.lat, ev.lon, "on station")
    assert [el.tag for el in back.extra] == ["takv", "uid", "status"]


def test_takproto_encoded_message_decodes() -> None:
    frame = takproto.xml2proto(cot("TP1", access="UNCLASSIFIED"), takproto.TAKProtoVer.STREAM)
    [got] = FrameSplitter().feed(bytes(frame))
    assert isinstance(got, Frame)
    ev = proto.decode_message(got.data)
    assert (ev.uid, ev.type, ev.lat, ev.callsign) == ("TP1", "a-f-G-U-C", 35.68, "TP1")


@pytest.mark.parametrize(
    "payload", [b"\xff\xff\xff\xff", b"\x12\x05abc", b"\x0a\x02\x08\x01", b"garbage!" * 5]
)
def test_garbage_protobuf_is_refused(payload: bytes) -> None:
    with pytest.raises(CotError) as err:
        proto.decode_message(payload)
    assert err.value.reason in {"proto", "invalid"}


def test_splitter_handles_any_chunking() -> None:
    ev = parse_xml(ATAK_SA)
    ev.label = USA_U
    stream = to_xml(ev) + proto.encode_stream(ev) + b"\r\n" + ATAK_SA + proto.encode_stream(ev)
    splitter = FrameSplitter()
    frames = [f for i in range(len(stream)) for f in splitter.feed(stream[i : i + 1])]
    assert [f.kind for f in frames if isinstance(f, Frame)] == ["xml", "proto", "xml", "proto"]


def test_ten_megabyte_event_is_refused_without_buffering_it() -> None:
    big = ATAK_SA.replace(b"on station", b"A" * 10_000_000)
    stream = big + ATAK_SA
    splitter = FrameSplitter()
    out = [f for i in range(0, len(stream), 65536) for f in splitter.feed(stream[i : i + 65536])]
    errors = [f for f in out if isinstance(f, CotError)]
    frames = [f for f in out if isinstance(f, Frame)]
    assert [e.reason for e in errors] == ["too_large"]
    assert len(frames) == 1 and parse_xml(frames[0].data).uid == "ANDROID-589520ccfcd20f01"
    assert splitter.peak < 3 * 65536


def test_oversized_protobuf_frame_is_skipped() -> None:
    header = b"\xbf" + proto.encode_varint(5_000_000)
    stream = header + b"\x00" * 5_000_000 + proto.encode_stream(event_from_track(_track()))
    splitter = FrameSplitter()
    out = [f for i in range(0, len(stream), 65536) for f in splitter.feed(stream[i : i + 65536])]
    assert [type(f).__name__ for f in out] == ["CotError", "Frame"]
    assert splitter.peak <= 65536 + 16


def _track() -> Track:
    return Track(
        id="ais-431000000",
        source="ais",
        source_id="431000000",
        lat=34.9,
        lon=139.8,
        observed_at=1_700_000_000.0,
        stale_at=1_700_000_600.0,
        cot_type="a-n-S-X",
        sidc="10043000001400000000",
        name="SHIP ONE",
        course=45.0,
        speed=6.0,
        label=make_label(Classification.UNCLASSIFIED, rel_to={"JPN"}, originator="USA"),
    )


def test_event_from_track_keeps_label_on_the_wire() -> None:
    ev = event_from_track(_track())
    data = to_xml(ev)
    back = parse_xml(data)
    assert (back.uid, back.type, back.callsign) == ("ais-431000000", "a-n-S-X", "SHIP ONE")
    label = label_from_event(back, USA_U, "USA")
    assert label == _track().label
    assert may_release(label, make_principal("JPN", Classification.UNCLASSIFIED))
    assert not may_release(label, make_principal("KOR", Classification.SECRET))
