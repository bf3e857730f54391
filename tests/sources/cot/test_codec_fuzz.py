"""Property-based fuzzing of the CoT edge: XML events (``codec``), TAK protocol v1
(``proto``) and stream framing (``framing``).

* Arbitrary and mutated input (mutations of the fixtures of ``test_cot_codec`` and
  ``cot_support``, of events this file generates, and of protobuf messages) never
  raises anything but :class:`CotError`, and never takes long.
* The splitter never raises, never holds much more than its limit, and cuts any
  chunking of a valid stream into the same frames.
* Valid events round-trip: XML and protobuf, labels included.
* What the parsers accept can be sent on again (XML and protobuf) and reads back
  the same.

The findings this file made (and that were fixed) are kept as regression tests at
the end.
"""

from __future__ import annotations

import math
import os
import string
import time
from typing import Any

import pytest
from cot_support import cot
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_cot_codec import ATAK_SA, BILLION_LAUGHS, XXE
from tests.core.strategies import REGISTRY, labels

from kizuna.core.labels import Classification, Label, make_label
from kizuna.sources.cot import proto
from kizuna.sources.cot.codec import (
    MAX_EVENT_BYTES,
    UNKNOWN_ERROR,
    CotError,
    CotEvent,
    label_attrs,
    label_from_event,
    parse_xml,
    to_xml,
    track_from_event,
)
from kizuna.sources.cot.framing import Frame, FrameSplitter

CI = bool(os.environ.get("CI"))


def budget(ci_examples: int) -> settings:
    """Examples per property: the profile's (300 on a developer's machine), capped in CI
    so that the file stays within about 40 s."""
    return settings(max_examples=ci_examples) if CI else settings()


REASONS = {"xml", "entities", "invalid", "too_large", "proto", "label", "framing"}
SLOW = 2.0  # seconds: generous for at most 64 KiB of input; a hang is far longer
DEFAULT = make_label(Classification.UNCLASSIFIED, originator="USA")

SEEDS = [
    ATAK_SA,
    BILLION_LAUGHS,
    XXE,
    cot("SEED-1"),
    cot("SEED-2", access="SECRET", releaseableTo="JPN AUS"),
    cot("SEED-3", access="SECRET//REL TO USA, JPN", caveat="", opex="e-KEEN SWORD"),
    cot("SEED-4", access="CONFIDENTIAL", caveat="NOFORN"),
]


def timed(fn: Any, *args: Any) -> Any:
    start = time.perf_counter()
    try:
        return fn(*args)
    finally:
        took = time.perf_counter() - start
        assert took < SLOW, f"{fn.__name__} took {took:.2f} s"


# -- strategies ---------------------------------------------------------------------

# Event text as a client may write it: no control characters (XML 1.0 has none), no CR
# (a parser turns CR LF into LF), nothing outside the Basic Multilingual Plane's
# characters (no surrogates).
_TEXT = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs"))
texts = st.text(_TEXT, max_size=60)
ids = st.text(string.ascii_letters + string.digits + "-_.:@", min_size=1, max_size=48)
cot_types = st.from_regex(r"[a-z](-[A-Za-z0-9]{1,4}){0,5}", fullmatch=True)
# Milliseconds from 2000 to 2100: CoT times are millisecond precise on both wires.
times = st.integers(946_684_800_000, 4_102_444_800_000).map(lambda ms: ms / 1000.0)


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def events(draw: st.DrawFn) -> CotEvent:
    """Any valid event, with a label (or with none)."""
    t = draw(times)
    ev = CotEvent(
        uid=draw(ids),
        type=draw(cot_types),
        how=draw(st.sampled_from(["m-g", "h-e", "h-g-i-g-o", "m-f"])),
        time=t,
        start=t,
        stale=t + draw(st.integers(0, 86_400_000)) / 1000.0,
        lat=draw(_floats(-90.0, 90.0)),
        lon=draw(_floats(-180.0, 180.0)),
        hae=draw(_floats(-1e7, 1e8) | st.just(UNKNOWN_ERROR)),
        ce=draw(_floats(0.0, 1e8) | st.just(UNKNOWN_ERROR)),
        le=draw(_floats(0.0, 1e8) | st.just(UNKNOWN_ERROR)),
        callsign=draw(st.just("") | ids),
        remarks=draw(st.none() | texts),
    )
    ev.course = draw(st.none() | _floats(0.0, 360.0).filter(lambda c: c < 360.0))
    ev.speed = draw(st.none() | _floats(0.0, 1e5))
    ev.label = draw(st.none() | labels())
    return ev


INTERESTING = [
    b"",
    b"nan",
    b"NaN",
    b"inf",
    b"-inf",
    b"1e309",
    b"-0",
    b"9" * 400,
    b"0001-01-01T00:00:00+01:00",
    b"9999-12-31T23:59:59-01:00",
    b"2024-02-30T00:00:00Z",
    b"2024-05-01T03:04:05.123456789Z",
    b"&amp;",
    b"&#0;",
    b"&#x10FFFF;",
    b"\xff\xfe",
    b"\x00",
    b"<",
    b"]]>",
    b"<![CDATA[x]]>",
    b"<a/>",
    b"<!--",
    b"<?x?>",
    b"SECRET//NOFORN",
    b"NOFORN",
    b"REL TO USA, JPN, ACM",
    b"ACM QUAD FVEY",
    "\u65e5\u672c".encode(),
]
ATTRS = [
    b"uid",
    b"type",
    b"time",
    b"start",
    b"stale",
    b"lat",
    b"lon",
    b"hae",
    b"ce",
    b"le",
    b"access",
    b"caveat",
    b"releaseableTo",
    b"opex",
    b"course",
    b"speed",
    b"callsign",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: st.SearchStrategy[bytes]) -> bytes:
    """A seed with a few byte- and attribute-level mutations."""
    data = bytearray(draw(seeds))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 6))
        n = len(data)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 64)))
        if op == 0 and n:  # flip bits of one byte
            k = min(i, n - 1)
            data[k] ^= draw(st.integers(1, 255))
        elif op == 1:  # delete a slice
            del data[i:j]
        elif op == 2:  # insert an interesting token
            data[i:i] = draw(st.sampled_from(INTERESTING))
        elif op == 3:  # duplicate a slice
            data[i:i] = data[i:j]
        elif op == 4:  # random bytes
            data[i:j] = draw(st.binary(max_size=16))
        elif op == 5:  # truncate
            del data[i:]
        else:  # an attribute gets an interesting value
            name = draw(st.sampled_from(ATTRS)) + b'="'
            k = bytes(data).find(name)
            if k >= 0:
                start = k + len(name)
                end = bytes(data).find(b'"', start)
                if end >= 0:
                    data[start:end] = draw(st.sampled_from(INTERESTING))
    return bytes(data)


xml_seeds = st.sampled_from(SEEDS) | events().map(to_xml)
xml_inputs = st.binary(max_size=2048) | mutated(xml_seeds) | texts.map(str.encode)


def _message(ev: CotEvent) -> bytes:
    return proto.to_message_bytes(ev)


proto_seeds = events().map(_message) | st.sampled_from(SEEDS[3:]).map(
    lambda x: proto.to_message_bytes(parse_xml(x))
)
proto_inputs = st.binary(max_size=2048) | mutated(proto_seeds)


# -- the properties -------------------------------------------------------------------


def _check_accepted(ev: CotEvent) -> None:
    """What every accepted event satisfies, and that it can be sent on (XML and protobuf)
    and reads back the same."""
    assert ev.uid and ev.type
    assert -90.0 <= ev.lat <= 90.0 and -180.0 <= ev.lon <= 180.0
    for value in (ev.time, ev.start, ev.stale, ev.hae, ev.ce, ev.le):
        assert math.isfinite(value)
    try:
        ev.label = label_from_event(ev, DEFAULT, "JPN", REGISTRY)
    except CotError as exc:
        assert exc.reason == "label"
        ev.label, ev.opex = DEFAULT, ""  # the server refuses it; check the rest still travels
    if ev.is_atom:
        track = track_from_event(ev, connection="fuzz")
        assert track.id == f"cot-{ev.uid}" and track.label == ev.label
    again = parse_xml(to_xml(ev))
    assert (again.uid, again.type, again.lat, again.lon) == (ev.uid, ev.type, ev.lat, ev.lon)
    assert label_from_event(again, DEFAULT, ev.label.originator, REGISTRY) == ev.label
    try:
        stream = proto.encode_stream(ev)
    except CotError as exc:  # protobuf times are unsigned and 0 means none: refused
        assert exc.reason == "invalid" and min(ev.time, ev.start, ev.stale) < 0.0005
        return
    [frame] = FrameSplitter().feed(stream)
    assert isinstance(frame, Frame)
    back = proto.decode_message(frame.data)
    assert (back.uid, back.type, back.lat, back.lon) == (ev.uid, ev.type, ev.lat, ev.lon)
    assert label_from_event(back, DEFAULT, ev.label.originator, REGISTRY) == ev.label


@budget(3000)
@given(xml_inputs)
@example(ATAK_SA)
@example(b"<event/>" * 3)
@example(b"<" * 10_000)
def test_xml_parser_raises_only_cot_error(data: bytes) -> None:
    try:
        ev = timed(parse_xml, data)
    except CotError as exc:
        assert exc.reason in REASONS, exc.reason
        return
    _check_accepted(ev)


@budget(2000)
@given(proto_inputs)
@example(b"")
@example(b"\x12\x00")
def test_protobuf_decoder_raises_only_cot_error(payload: bytes) -> None:
    try:
        ev = timed(proto.decode_message, payload)
    except CotError as exc:
        assert exc.reason in REASONS, exc.reason
        return
    _check_accepted(ev)


@budget(800)
@given(
    st.lists(
        mutated(xml_seeds)
        | proto_inputs.map(lambda p: b"\xbf" + proto.encode_varint(len(p)) + p)
        | st.binary(max_size=512),
        max_size=8,
    ),
    st.lists(st.integers(1, 700), min_size=1, max_size=20),
    st.sampled_from([512, 4096, MAX_EVENT_BYTES]),
)
def test_splitter_never_raises_and_stays_bounded(
    parts: list[bytes], cuts: list[int], limit: int
) -> None:
    stream = b"".join(parts)
    splitter = FrameSplitter(limit)
    biggest = 0
    pos = 0
    for n in cuts * (len(stream) // max(sum(cuts), 1) + 1):
        chunk = stream[pos : pos + n]
        if not chunk:
            break
        pos += n
        biggest = max(biggest, len(chunk))
        for item in timed(splitter.feed, chunk):
            if isinstance(item, CotError):
                assert item.reason in REASONS
                continue
            assert isinstance(item, Frame) and item.kind in ("xml", "proto")
            assert len(item.data) <= limit
            try:  # whatever the splitter cuts, the parsers take without surprises
                (parse_xml if item.kind == "xml" else proto.decode_message)(item.data)
            except CotError as exc:
                assert exc.reason in REASONS
    assert splitter.peak <= limit + biggest + 16


@budget(400)
@given(
    st.lists(
        st.tuples(events(), st.booleans(), st.sampled_from([b"", b"\n", b"\r\n ", b"\x00"])),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.integers(1, 300), min_size=1, max_size=10),
)
def test_any_chunking_of_a_valid_stream_gives_the_same_frames(
    items: list[tuple[CotEvent, bool, bytes]], cuts: list[int]
) -> None:
    expected, stream = [], b""
    for ev, as_proto, gap in items:
        data = proto.to_message_bytes(ev) if as_proto else to_xml(ev)
        expected.append(("proto" if as_proto else "xml", data))
        stream += (b"\xbf" + proto.encode_varint(len(data)) + data if as_proto else data) + gap
    splitter = FrameSplitter()
    got, pos, k = [], 0, 0
    while pos < len(stream):
        n = cuts[k % len(cuts)]
        k += 1
        got += splitter.feed(stream[pos : pos + n])
        pos += n
    assert [(f.kind, f.data) for f in got] == expected


def _same_event(a: CotEvent, b: CotEvent) -> None:
    assert (b.uid, b.type, b.how) == (a.uid, a.type, a.how)
    for name in ("time", "start", "stale"):
        assert abs(getattr(b, name) - getattr(a, name)) <= 1e-6, name
    assert (b.lat, b.lon, b.hae, b.ce, b.le) == (a.lat, a.lon, a.hae, a.ce, a.le)
    assert (b.callsign, b.course, b.speed, b.remarks) == (a.callsign, a.course, a.speed, a.remarks)
    if a.label is not None:
        assert label_from_event(b, DEFAULT, a.label.originator, REGISTRY) == a.label


@budget(1000)
@given(events())
def test_valid_events_round_trip_through_xml(ev: CotEvent) -> None:
    _same_event(ev, parse_xml(to_xml(ev)))


@budget(1000)
@given(events())
def test_valid_events_round_trip_through_protobuf(ev: CotEvent) -> None:
    [frame] = FrameSplitter().feed(proto.encode_stream(ev))
    assert isinstance(frame, Frame) and frame.kind == "proto"
    _same_event(ev, proto.decode_message(frame.data))


@budget(2000)
@given(labels())
def test_labels_round_trip_through_cot_attributes(label: Label) -> None:
    ev = parse_xml(cot("LBL", **label_attrs(label), **({"opex": "e"} if label.exercise else {})))
    assert label_from_event(ev, DEFAULT, label.originator, REGISTRY) == label


@budget(2000)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "access": st.sampled_from([b.decode("utf-8", "replace") for b in INTERESTING]) | texts,
            "caveat": texts,
            "releaseableTo": texts,
            "opex": texts,
        },
    )
)
def test_unreadable_labels_are_refused_as_labels(attrs: dict[str, str]) -> None:
    attrs = {k: "".join(ch for ch in v if ch.isprintable()) for k, v in attrs.items()}
    ev = parse_xml(cot("LBL2", **attrs))
    try:
        label = label_from_event(ev, DEFAULT, "USA", REGISTRY)
    except CotError as exc:
        assert exc.reason == "label"
        return
    assert label.originator == "USA"


# -- findings, fixed: regression tests ----------------------------------------------------


def _event_xml(detail: bytes = b"", when: bytes = b"2030-05-01T03:04:05Z") -> bytes:
    return (
        b'<event version="2.0" uid="F1" type="a-f-G" time="'
        + when
        + b'" start="'
        + when
        + b'" stale="2030-05-01T03:10:05Z"><point lat="1" lon="2"/><detail>'
        + detail
        + b"</detail></event>"
    )


def test_deeply_nested_detail_is_refused_or_sent_on() -> None:
    depth = 5_000
    data = _event_xml(b"<a>" * depth + b"</a>" * depth)
    assert len(data) < MAX_EVENT_BYTES
    try:
        ev = parse_xml(data)
    except CotError:
        return  # refusing it is fine
    parse_xml(to_xml(ev))
    proto.decode_message(proto.to_message_bytes(ev))


@pytest.mark.parametrize("when", [b"0001-01-01T00:00:00+01:00", b"0024-05-01T03:04:05Z"])
def test_times_parse_accepts_are_sent_on(when: bytes) -> None:
    ev = parse_xml(_event_xml(when=when))
    again = parse_xml(to_xml(ev))
    assert again.time == pytest.approx(ev.time, abs=1e-3)


@pytest.mark.parametrize("ms", [1_079_919_129_416, 2_193_528_273_693])
def test_protobuf_times_lose_no_millisecond(ms: int) -> None:
    t = ms / 1000.0
    ev = CotEvent(uid="T", type="a-f-G", time=t, start=t, stale=t + 60)
    back = proto.decode_message(proto.to_message_bytes(ev))
    assert round(back.time * 1000) == ms


@pytest.mark.parametrize(("course", "speed"), [(None, 5.0), (90.0, None)])
def test_course_or_speed_alone_survives_protobuf(course: float | None, speed: float | None) -> None:
    ev = CotEvent(uid="T", type="a-f-G", time=1.8e9, start=1.8e9, stale=1.8e9 + 60)
    ev.course, ev.speed = course, speed
    back = proto.decode_message(proto.to_message_bytes(ev))
    assert (back.course, back.speed) == (course, speed)


@pytest.mark.parametrize("encoding", [b"T", b"shift_jis", b"rot13", b"idna", b"undefined"])
def test_unknown_encoding_is_a_cot_error(encoding: bytes) -> None:
    with pytest.raises(CotError) as refused:
        parse_xml(b'<?xml version="1.0" encoding="' + encoding + b'"?>' + _event_xml())
    assert refused.value.reason == "xml"


def test_protobuf_strings_relay_as_well_formed_xml() -> None:
    t = 1.8e9
    ev = CotEvent(uid="A\x01B", type="a-f-G", time=t, start=t, stale=t + 60, callsign="x\x0cy")
    try:
        back = proto.decode_message(proto.to_message_bytes(ev))
    except CotError:
        return  # refusing it is fine
    parse_xml(to_xml(back))
