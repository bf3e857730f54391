"""TAK Protocol version 1 (protobuf) via ``takproto``, and stream negotiation.

Streaming frames are ``0xbf <varint length> <TakMessage>``; mesh (UDP) frames
are ``0xbf 0x01 0xbf <TakMessage>``. ``takproto``'s generated ``CotEvent``
predates fields 16 ``caveat`` and 17 ``releaseableTo`` of the ATAK proto, so
those two are written and read on the wire format directly.

Negotiation (TAK ``protocol.txt``): the server sends one XML ``t-x-takp-v``
event carrying ``<TakControl><TakProtocolSupport version="1"/></TakControl>``;
a client wanting protobuf answers ``t-x-takp-q`` with
``<TakRequest version="1"/>``; the server replies ``t-x-takp-r`` with
``<TakResponse status="true"/>`` (in XML) and from then on writes protobuf
on that connection. Clients that never ask stay on XML.
"""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException
from google.protobuf.message import DecodeError
from takproto.proto import TakMessage

from kizuna.sources.cot.codec import (
    MAX_EVENT_BYTES,
    CotError,
    CotEvent,
    check_text,
    epoch_ms,
    extra_xml,
    label_attrs,
    read_detail,
)

MAGIC = 0xBF
MESH_HEADER = b"\xbf\x01\xbf"
PROTO_VERSION = 1
NEGOTIATION_STALE = 60.0

# --------------------------------------------------------------------------- varints


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int] | None:
    """(value, next position), or None if the buffer ends first. Max 10 bytes."""
    result = shift = 0
    for i in range(pos, min(len(buf), pos + 10)):
        byte = buf[i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i + 1
        shift += 7
    if len(buf) - pos >= 10:
        raise CotError("framing", "varint longer than 10 bytes")
    return None


def _len_field(number: int, payload: bytes) -> bytes:
    return encode_varint((number << 3) | 2) + encode_varint(len(payload)) + payload


def _fields(buf: bytes) -> dict[int, bytes]:
    """Length-delimited fields of one message (last wins); others skipped."""
    out: dict[int, bytes] = {}
    pos, end = 0, len(buf)
    while pos < end:
        tag = decode_varint(buf, pos)
        if tag is None:
            raise CotError("proto", "truncated field tag")
        key, pos = tag
        number, wire = key >> 3, key & 7
        if wire == 0:
            v = decode_varint(buf, pos)
            if v is None:
                raise CotError("proto", "truncated varint")
            pos = v[1]
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            n = decode_varint(buf, pos)
            if n is None:
                raise CotError("proto", "truncated length")
            size, pos = n
            out[number] = buf[pos : pos + size]
            pos += size
        else:
            raise CotError("proto", f"unsupported wire type {wire}")
    if pos != end:
        raise CotError("proto", "field runs past the end of the message")
    return out


# --------------------------------------------------------------------------- encode


def wire_times(ev: CotEvent) -> tuple[int, int, int]:
    """Time, start and stale in milliseconds since 1970, rounded (a float's
    ``time * 1000`` may fall just below the millisecond it means). Raises
    :class:`CotError` for a time the protobuf cannot carry: its times are unsigned,
    and 0 means none."""
    times = (epoch_ms(ev.time, "time"), epoch_ms(ev.start, "start"), epoch_ms(ev.stale, "stale"))
    if min(times) <= 0:
        raise CotError("invalid", "TAK protobuf carries no time before 1970-01-01T00:00:00.001Z")
    return times


def to_message_bytes(ev: CotEvent) -> bytes:
    """A serialized ``TakMessage`` for one event (label in access/caveat/releaseableTo).

    Raises :class:`CotError` for an event it cannot carry (see :func:`wire_times`,
    :func:`~kizuna.sources.cot.codec.check_text`)."""
    check_text(ev)  # protobuf strings could, but the event must relay to XML clients too
    msg = TakMessage()
    c = msg.cotEvent
    c.type, c.uid, c.how = ev.type, ev.uid, ev.how
    c.sendTime, c.startTime, c.staleTime = wire_times(ev)
    c.lat, c.lon, c.hae, c.ce, c.le = ev.lat, ev.lon, ev.hae, ev.ce, ev.le
    if ev.qos:
        c.qos = ev.qos
    caveat, rel = ev.caveat, ev.releaseable_to
    opex = ev.opex
    if ev.label is not None:
        attrs = label_attrs(ev.label)
        c.access = attrs["access"]
        caveat, rel = attrs.get("caveat", ""), attrs.get("releaseableTo", "")
        if ev.label.exercise and not opex:
            opex = "e"
    elif ev.access:
        c.access = ev.access
    if opex:
        c.opex = opex
    d = c.detail
    if ev.callsign or ev.endpoint:
        d.contact.callsign = ev.callsign
        d.contact.endpoint = ev.endpoint
    if ev.group_name or ev.group_role:
        d.group.name, d.group.role = ev.group_name, ev.group_role
    xml_detail = extra_xml(ev)
    if ev.course is not None and ev.speed is not None:
        d.track.course, d.track.speed = ev.course, ev.speed
    elif ev.course is not None or ev.speed is not None:
        # The typed track has no field presence (0 would read as north, or stopped): a
        # <track> with one of the two goes in xmlDetail, as TAK Server sends it.
        name, value = ("course", ev.course) if ev.course is not None else ("speed", ev.speed)
        xml_detail += f'<track {name}="{value!r}"/>'
    if xml_detail:
        d.xmlDetail = xml_detail
    cot = c.SerializeToString()
    if caveat:
        cot += _len_field(16, caveat.encode())
    if rel:
        cot += _len_field(17, rel.encode())
    msg.ClearField("cotEvent")
    return msg.SerializeToString() + _len_field(2, cot)


def encode_stream(ev: CotEvent) -> bytes:
    body = to_message_bytes(ev)
    return bytes([MAGIC]) + encode_varint(len(body)) + body


def encode_mesh(ev: CotEvent) -> bytes:
    return MESH_HEADER + to_message_bytes(ev)


# --------------------------------------------------------------------------- decode


def _finite(name: str, value: float, lo: float, hi: float) -> float:
    if math.isnan(value) or not (lo <= value <= hi):
        raise CotError("invalid", f"{name}={value} is out of range")
    return value


def decode_message(payload: bytes) -> CotEvent:
    """A ``TakMessage`` payload to an event. Raises :class:`CotError`."""
    if len(payload) > MAX_EVENT_BYTES:
        raise CotError("too_large", f"message of {len(payload)} bytes exceeds {MAX_EVENT_BYTES}")
    msg = TakMessage()
    try:
        msg.ParseFromString(payload)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise CotError("proto", f"undecodable TakMessage: {exc}") from None
    if not msg.HasField("cotEvent"):
        raise CotError("proto", "TakMessage has no cotEvent")
    c = msg.cotEvent
    if not c.uid or not c.type:
        raise CotError("invalid", "event lacks uid or type")
    if len(c.uid) > 1024 or len(c.type) > 1024:
        raise CotError("invalid", "uid or type too long")
    if not c.sendTime or not c.staleTime:
        raise CotError("invalid", "event lacks time or stale")
    raw = _fields(_fields(payload).get(2, b""))
    try:
        caveat = bytes(raw.get(16, b"")).decode()
        rel = bytes(raw.get(17, b"")).decode()
    except UnicodeDecodeError:
        raise CotError("proto", "caveat or releaseableTo is not UTF-8") from None
    ev = CotEvent(
        uid=c.uid,
        type=c.type,
        how=c.how or "m-g",
        time=c.sendTime / 1000.0,
        start=(c.startTime or c.sendTime) / 1000.0,
        stale=c.staleTime / 1000.0,
        lat=_finite("lat", c.lat, -90.0, 90.0),
        lon=_finite("lon", c.lon, -180.0, 180.0),
        hae=_finite("hae", c.hae, -1e7, 1e8),
        ce=_finite("ce", c.ce, 0.0, 1e8) if not math.isnan(c.ce) else 9999999.0,
        le=_finite("le", c.le, 0.0, 1e8) if not math.isnan(c.le) else 9999999.0,
        access=c.access,
        caveat=caveat,
        releaseable_to=rel,
        opex=c.opex,
        qos=c.qos,
    )
    d = c.detail
    if c.HasField("detail"):
        if d.HasField("contact"):
            ev.callsign, ev.endpoint = d.contact.callsign, d.contact.endpoint
        if d.HasField("group"):
            ev.group_name, ev.group_role = d.group.name, d.group.role
        if d.HasField("track"):
            course = _finite("course", d.track.course, -360.0, 360.0)
            ev.course = course % 360.0
            ev.speed = d.track.speed if d.track.speed >= 0 else None
            if ev.speed is not None:
                _finite("speed", ev.speed, 0.0, 1e5)
        if d.xmlDetail:
            read_detail(ev, _parse_detail(d.xmlDetail))
    for name in ("time", "start", "stale"):
        epoch_ms(getattr(ev, name), name)  # within what XML can write
    check_text(ev)
    return ev


def _parse_detail(xml_detail: str) -> Element:
    try:
        return DET.fromstring(f"<detail>{xml_detail}</detail>", forbid_dtd=True)
    except DefusedXmlException:
        raise CotError("entities", "entity declarations in xmlDetail refused") from None
    except ET.ParseError as exc:
        raise CotError("xml", f"malformed xmlDetail: {exc}") from None


# --------------------------------------------------------------------------- negotiation


def _control_event(cot_type: str, uid: str, child: str, attrs: dict[str, str]) -> CotEvent:
    now = time.time()
    control = Element("TakControl")
    ET.SubElement(control, child, attrs)
    return CotEvent(
        uid=uid,
        type=cot_type,
        how="m-g",
        time=now,
        start=now,
        stale=now + NEGOTIATION_STALE,
        ce=999999.0,
        le=999999.0,
        hae=0.0,
        extra=[control],
    )


def support_event(uid: str = "protouid") -> CotEvent:
    """``t-x-takp-v``: the server supports TAK protocol version 1."""
    return _control_event("t-x-takp-v", uid, "TakProtocolSupport", {"version": "1"})


def request_event(uid: str, version: int = PROTO_VERSION) -> CotEvent:
    """``t-x-takp-q``: a client asks to switch (used by tests and the bench)."""
    return _control_event("t-x-takp-q", uid, "TakRequest", {"version": str(version)})


def response_event(ok: bool, uid: str = "protouid") -> CotEvent:
    """``t-x-takp-r``: the server accepts (``status="true"``) or refuses."""
    return _control_event("t-x-takp-r", uid, "TakResponse", {"status": str(ok).lower()})


def requested_version(ev: CotEvent) -> int | None:
    """The version in a ``t-x-takp-q``'s ``TakControl/TakRequest``, if readable."""
    for el in ev.extra:
        if el.tag == "TakControl":
            req = el.find("TakRequest")
            if req is not None:
                try:
                    return int(req.get("version", ""))
                except ValueError:
                    return None
    return None
