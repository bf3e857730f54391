"""Cursor-on-Target XML: strict parsing, serialization, labels and tracks.

Parsing goes through ``defusedxml`` with DTDs forbidden, so entity expansion
("billion laughs") and external entities are refused. Every number, range and
time is checked; a bad event raises :class:`CotError` with a short ``reason``
that the server counts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from kizuna.core.labels import (
    DEFAULT_GROUPS,
    Classification,
    GroupRegistry,
    Label,
    LabelError,
    make_label,
    sort_rel_to,
)
from kizuna.picture.models import Provenance, Track
from kizuna.picture.sidc import affiliation_from_cot_type, sidc_from_cot_type

MAX_EVENT_BYTES = 64 * 1024
UNKNOWN_ERROR = 9999999.0  # CoT "unknown" for hae/ce/le
_MAX_ATTR = 1024
_TYPED_DETAIL = ("contact", "__group", "track", "remarks")
MAX_DETAIL_DEPTH = 32  # element levels below <detail>; deeper is refused (serializing recurses)
# Times: ISO-8601 reaches years 1 to 9999 with UTC offsets up to 23:59 either way.
_EPOCH = dt.datetime(1970, 1, 1)
_FIRST_UTC_MS = -62_135_596_800_000  # 0001-01-01T00:00:00.000Z
_LAST_UTC_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_MAX_OFFSET_MS = (23 * 60 + 59) * 60_000
_EARLIEST_MS = _FIRST_UTC_MS - _MAX_OFFSET_MS
_LATEST_MS = _LAST_UTC_MS + _MAX_OFFSET_MS
# Characters XML 1.0 cannot carry (not even as references).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT_FIELDS: tuple[str, ...] = ("uid", "type", "how", "callsign", "endpoint", "group_name")
_TEXT_FIELDS += ("group_role", "access", "caveat", "releaseable_to", "opex", "qos")


class CotError(ValueError):
    """An event refused at the edge; ``reason`` is a short counter key."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class CotEvent:
    """One CoT event. Times are UTC epoch seconds."""

    uid: str
    type: str
    time: float
    start: float
    stale: float
    how: str = "m-g"
    lat: float = 0.0
    lon: float = 0.0
    hae: float = UNKNOWN_ERROR
    ce: float = UNKNOWN_ERROR
    le: float = UNKNOWN_ERROR
    callsign: str = ""
    endpoint: str = ""
    group_name: str = ""
    group_role: str = ""
    course: float | None = None
    speed: float | None = None
    remarks: str | None = None
    # label attributes as received (access/caveat/releaseableTo) and opex/qos
    access: str = ""
    caveat: str = ""
    releaseable_to: str = ""
    opex: str = ""
    qos: str = ""
    # other <detail> children kept verbatim for relaying (chat, takv, status, …)
    extra: list[Element] = field(default_factory=list)
    # the resolved label; set by the server (or by whoever publishes the event)
    label: Label | None = None

    @property
    def is_atom(self) -> bool:
        return self.type.startswith("a-")


# --------------------------------------------------------------------------- time


def parse_time(text: str | None, name: str) -> float:
    """ISO-8601 to epoch seconds; a time without zone is taken as UTC."""
    if not text:
        raise CotError("invalid", f"event has no {name} time")
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CotError("invalid", f"{name} {text[:40]!r} is not an ISO-8601 time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    epoch = value.timestamp()
    epoch_ms(epoch, name)  # refuses only what rounds past the last millisecond writable
    return epoch


def epoch_ms(epoch: float, name: str = "time") -> int:
    """Epoch seconds to whole milliseconds (rounded, as both wires carry them).

    Raises :class:`CotError` unless the time can be written as ISO-8601: years 1 to
    9999 in some UTC offset, which is every time an ISO-8601 parser returns.
    """
    if not math.isfinite(epoch):
        raise CotError("invalid", f"{name} {epoch} is not a time")
    ms = round(epoch * 1000)
    if not _EARLIEST_MS <= ms <= _LATEST_MS:
        raise CotError("invalid", f"{name} {epoch} is out of range")
    return ms


def format_time(epoch: float) -> str:
    """ISO-8601 with milliseconds: in UTC ("Z") within years 1 to 9999, else in the
    smallest UTC offset that keeps the calendar within them (year 0 is not written).
    Raises :class:`CotError` for a time no offset can write."""
    ms = epoch_ms(epoch)
    if ms < _FIRST_UTC_MS:
        minutes = -((ms - _FIRST_UTC_MS) // 60_000)  # ceil((first - ms) / 1 min)
    elif ms > _LAST_UTC_MS:
        minutes = (_LAST_UTC_MS - ms) // 60_000  # -ceil((ms - last) / 1 min)
    else:
        minutes = 0
    local = _EPOCH + dt.timedelta(milliseconds=ms + minutes * 60_000)
    zone = f"{'+' if minutes > 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return local.isoformat(timespec="milliseconds") + (zone if minutes else "Z")


# --------------------------------------------------------------------------- parse


def _num(el: Element, attr: str, default: float | None, lo: float, hi: float) -> float:
    raw = el.get(attr)
    if raw is None or raw == "":
        if default is None:
            raise CotError("invalid", f"<{el.tag}> lacks {attr}")
        return default
    try:
        value = float(raw)
    except ValueError:
        raise CotError("invalid", f"<{el.tag}> {attr}={raw[:40]!r} is not a number") from None
    if math.isnan(value) and default is not None:
        return default  # some clients send ce="NaN"
    if not (lo <= value <= hi):
        raise CotError("invalid", f"<{el.tag}> {attr}={value} is out of range")
    return value


def _opt_num(el: Element | None, attr: str, lo: float, hi: float) -> float | None:
    if el is None or el.get(attr) in (None, ""):
        return None
    value = _num(el, attr, None, lo, hi)
    return value


def _attr(el: Element, name: str, *, required: bool = False) -> str:
    value = el.get(name, "")
    if required and not value:
        raise CotError("invalid", f"<{el.tag}> lacks {name}")
    if len(value) > _MAX_ATTR:
        raise CotError("invalid", f"<{el.tag}> {name} is longer than {_MAX_ATTR}")
    return value


def parse_xml(data: bytes | str) -> CotEvent:
    """Parse one ``<event>`` strictly. Raises :class:`CotError`."""
    if len(data) > MAX_EVENT_BYTES:
        raise CotError("too_large", f"event of {len(data)} bytes exceeds {MAX_EVENT_BYTES}")
    try:
        root = DET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise CotError("entities", f"DTD or entity declarations refused: {exc}") from None
    except ET.ParseError as exc:
        raise CotError("xml", f"malformed XML: {exc}") from None
    except (LookupError, ValueError) as exc:  # a declared encoding unknown or multi-byte
        raise CotError("xml", f"unsupported encoding: {exc}") from None
    return event_from_element(root)


def event_from_element(root: Element) -> CotEvent:
    if root.tag != "event":
        raise CotError("invalid", f"root element is <{root.tag}>, not <event>")
    ev = CotEvent(
        uid=_attr(root, "uid", required=True),
        type=_attr(root, "type", required=True),
        how=_attr(root, "how") or "m-g",
        time=parse_time(root.get("time"), "time"),
        start=parse_time(root.get("start") or root.get("time"), "start"),
        stale=parse_time(root.get("stale"), "stale"),
        access=_attr(root, "access"),
        caveat=_attr(root, "caveat"),
        releaseable_to=(
            _attr(root, "releaseableTo") or _attr(root, "releasableTo") or _attr(root, "rel_to")
        ),
        opex=_attr(root, "opex"),
        qos=_attr(root, "qos"),
    )
    point = root.find("point")
    if point is None:
        raise CotError("invalid", "event has no <point>")
    ev.lat = _num(point, "lat", None, -90.0, 90.0)
    ev.lon = _num(point, "lon", None, -180.0, 180.0)
    ev.hae = _num(point, "hae", UNKNOWN_ERROR, -1e7, 1e8)
    ev.ce = _num(point, "ce", UNKNOWN_ERROR, 0.0, 1e8)
    ev.le = _num(point, "le", UNKNOWN_ERROR, 0.0, 1e8)
    detail = root.find("detail")
    if detail is not None:
        read_detail(ev, detail)
    return ev


def _depth(top: Element) -> int:
    """Levels of elements from ``top`` down (iteratively: the input decides how many)."""
    deepest, todo = 0, [(top, 1)]
    while todo:
        el, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in el)
    return deepest


def read_detail(ev: CotEvent, detail: Element) -> None:
    for child in detail:
        tag = child.tag
        if tag == "contact":
            ev.callsign = _attr(child, "callsign")
            ev.endpoint = _attr(child, "endpoint")
        elif tag == "__group":
            ev.group_name = _attr(child, "name")
            ev.group_role = _attr(child, "role")
        elif tag == "track":
            ev.course = _opt_num(child, "course", -360.0, 360.0)
            ev.speed = _opt_num(child, "speed", -1.0, 1e5)
            if ev.speed is not None and ev.speed < 0:
                ev.speed = None  # -1 / negative: unknown
            if ev.course is not None:
                ev.course %= 360.0
        elif tag == "remarks":
            text = child.text or ""
            if len(text) > MAX_EVENT_BYTES:
                raise CotError("invalid", "remarks too long")
            ev.remarks = text
        else:
            if _depth(child) > MAX_DETAIL_DEPTH:
                raise CotError("invalid", f"<detail> nests more than {MAX_DETAIL_DEPTH} deep")
            ev.extra.append(child)


def check_text(ev: CotEvent) -> None:
    """Raise :class:`CotError` if a text of the event has a character XML cannot carry
    (protobuf strings can: U+0001, U+FFFE, …), so that it is written on neither wire."""
    for name in _TEXT_FIELDS:
        if _NOT_XML.search(getattr(ev, name)):
            raise CotError("invalid", f"{name} has a character XML cannot carry")
    if ev.remarks is not None and _NOT_XML.search(ev.remarks):
        raise CotError("invalid", "remarks has a character XML cannot carry")


# --------------------------------------------------------------------------- labels


def _split_codes(text: str) -> list[str]:
    return [c for c in text.replace(",", " ").replace(";", " ").split() if c]


def label_from_event(
    ev: CotEvent, default: Label, originator: str, groups: GroupRegistry = DEFAULT_GROUPS
) -> Label:
    """The event's label from ``access``/``caveat``/``releaseableTo``, else ``default``.

    ``originator`` is the host node's nation, never the sending client's (the
    ingress rule, ADR 0006); ``groups`` are the node's, so ``releaseableTo="ACM"``
    reads where the node defines ACM. Whether the sender may write the label is
    the server's check. Raises :class:`CotError` (reason ``label``) for a marking
    we cannot read: guessing would be unsafe.
    """
    exercise = ev.opex.lower().startswith("e")
    if not (ev.access or ev.caveat or ev.releaseable_to):
        if exercise and not default.exercise:
            return make_label(
                default.classification,
                rel_to=default.rel_to,
                noforn=default.noforn,
                exercise=True,
                originator=default.originator,
                groups=groups,
            )
        return default
    try:
        if ev.access:
            # access may be "SECRET" or a full marking "SECRET//REL TO USA, JPN"
            head, *rest = ev.access.split("//")
            classification = Classification.parse(head)
        else:
            classification, rest = default.classification, []
        noforn = False
        rel: list[str] = []
        for seg in [*rest, *ev.caveat.replace(",", "//").split("//")]:
            word = " ".join(seg.upper().split())
            if not word:
                continue
            if word in ("NOFORN", "NF"):
                noforn = True
            elif word == "EXERCISE":
                exercise = True
            elif word.startswith("REL TO "):
                rel += _split_codes(word[7:])
            else:
                raise LabelError(f"unknown caveat {seg.strip()!r}")
        rel += _split_codes(ev.releaseable_to.upper())
        return make_label(
            classification,
            rel_to=rel,
            noforn=noforn,
            exercise=exercise,
            originator=originator,
            groups=groups,
        )
    except LabelError as exc:
        raise CotError("label", f"unreadable security marking: {exc}") from None


def label_attrs(label: Label) -> dict[str, str]:
    attrs = {"access": label.classification.marking}
    if label.noforn:
        attrs["caveat"] = "NOFORN"
    if label.rel_to:
        attrs["releaseableTo"] = " ".join(sort_rel_to(label.rel_to))
    return attrs


# --------------------------------------------------------------------------- serialize


def _fmt(value: float) -> str:
    return repr(float(value)) if value != int(value) or abs(value) >= 1e16 else f"{value:.1f}"


def to_element(ev: CotEvent) -> Element:
    """The event as an XML element, with its label (if set) written out.

    Raises :class:`CotError` for an event XML cannot carry (see :func:`check_text`,
    :func:`format_time`)."""
    check_text(ev)
    attrs = {
        "version": "2.0",
        "uid": ev.uid,
        "type": ev.type,
        "how": ev.how,
        "time": format_time(ev.time),
        "start": format_time(ev.start),
        "stale": format_time(ev.stale),
    }
    if ev.label is not None:
        attrs.update(label_attrs(ev.label))
        if ev.label.exercise and not ev.opex:
            attrs["opex"] = "e"
    else:
        for key, value in (
            ("access", ev.access),
            ("caveat", ev.caveat),
            ("releaseableTo", ev.releaseable_to),
        ):
            if value:
                attrs[key] = value
    if ev.opex:
        attrs["opex"] = ev.opex
    if ev.qos:
        attrs["qos"] = ev.qos
    root = Element("event", attrs)
    ET.SubElement(
        root,
        "point",
        {
            "lat": _fmt(ev.lat),
            "lon": _fmt(ev.lon),
            "hae": _fmt(ev.hae),
            "ce": _fmt(ev.ce),
            "le": _fmt(ev.le),
        },
    )
    detail = ET.SubElement(root, "detail")
    if ev.callsign or ev.endpoint:
        contact = {"callsign": ev.callsign} if ev.callsign else {}
        if ev.endpoint:
            contact["endpoint"] = ev.endpoint
        ET.SubElement(detail, "contact", contact)
    if ev.group_name or ev.group_role:
        ET.SubElement(detail, "__group", {"name": ev.group_name, "role": ev.group_role})
    if ev.course is not None or ev.speed is not None:
        track = {}
        if ev.course is not None:
            track["course"] = _fmt(ev.course)
        if ev.speed is not None:
            track["speed"] = _fmt(ev.speed)
        ET.SubElement(detail, "track", track)
    detail.extend(ev.extra)
    if ev.remarks is not None:
        ET.SubElement(detail, "remarks").text = ev.remarks
    return root


def to_xml(ev: CotEvent, *, declaration: bool = True) -> bytes:
    """Serialize for sending to a TAK client. Raises :class:`CotError` (see
    :func:`to_element`)."""
    body = ET.tostring(to_element(ev), encoding="unicode").encode()
    if declaration:
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
    return body


def extra_xml(ev: CotEvent) -> str:
    """Non-typed detail children (plus remarks) as one XML string (protobuf xmlDetail)."""
    parts = [ET.tostring(el, encoding="unicode") for el in ev.extra]
    if ev.remarks is not None:
        rem = Element("remarks")
        rem.text = ev.remarks
        parts.append(ET.tostring(rem, encoding="unicode"))
    return "".join(parts)


# --------------------------------------------------------------------------- tracks


def track_from_event(ev: CotEvent, *, connection: str = "") -> Track:
    """A picture track from an atom event whose label has been resolved."""
    if ev.label is None:
        raise ValueError("event label must be resolved before it becomes a track")
    exercise = ev.label.exercise
    return Track(
        id=f"cot-{ev.uid}",
        source="cot",
        source_id=ev.uid,
        lat=ev.lat,
        lon=ev.lon,
        observed_at=ev.time,
        stale_at=ev.stale,
        label=ev.label,
        sidc=sidc_from_cot_type(ev.type, exercise),
        cot_type=ev.type,
        affiliation=affiliation_from_cot_type(ev.type),
        callsign=ev.callsign,
        course=ev.course,
        speed=ev.speed,
        hae=None if ev.hae >= UNKNOWN_ERROR else ev.hae,
        exercise=exercise,
        remarks=ev.remarks or "",
        sources=[
            Provenance(source="cot", source_id=ev.uid, observed_at=ev.time, connection=connection)
        ],
    )


def event_from_track(track: Track, *, how: str = "m-g") -> CotEvent:
    """A CoT event for a track of any source (AIS, federation, …), label included."""
    uid = track.source_id if track.source == "cot" else track.id
    return CotEvent(
        uid=uid,
        type=track.cot_type,
        how=how,
        time=track.observed_at,
        start=track.observed_at,
        stale=max(track.stale_at, track.observed_at),
        lat=track.lat,
        lon=track.lon,
        hae=track.hae if track.hae is not None else UNKNOWN_ERROR,
        callsign=track.callsign or track.name or track.id,
        course=track.course,
        speed=track.speed,
        remarks=track.remarks or None,
        label=track.label,
    )
