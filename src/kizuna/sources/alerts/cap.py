"""CAP 1.2 (urn:oasis:names:tc:emergency:cap:1.2) → :class:`Bulletin`.

Key: (sender, identifier, sent). ``msgType`` Alert / Update / Cancel → issue / correction /
cancel (Ack and Error are refused: they describe messages, not hazards); ``status``
Actual → actual, Exercise → exercise, Test / System / Draft → test (logged only). The chain
is followed through ``references`` ("sender,identifier,sent" entries, space-separated).
Polygons are "lat,lon lat,lon …" rings (closed, at least four points); circles
"lat,lon radius" with the radius in km; geocodes valueName/value pairs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kizuna.incidents.models import Bulletin, CapArea, CapInfo, Circle, Geocode
from kizuna.sources.alerts.xmlsafe import AlertError, required, text, timestamp

CAP = "urn:oasis:names:tc:emergency:cap:1.2"
NS = {"c": CAP}

STATUS = {"Actual": "actual", "Exercise": "exercise", "Test": "test", "System": "test"}
STATUS["Draft"] = "test"
MSG_TYPE = {"Alert": "issue", "Update": "correction", "Cancel": "cancel"}
MAX_POINTS = 10_000


def is_cap(root: ET.Element) -> bool:
    return root.tag == f"{{{CAP}}}alert"


def parse_cap(root: ET.Element) -> Bulletin:
    if not is_cap(root):
        raise AlertError("not_an_alert", f"root element {root.tag} is not a CAP 1.2 alert")
    sender = required(root, "c:sender", NS, "sender")
    identifier = required(root, "c:identifier", NS, "identifier")
    sent = required(root, "c:sent", NS, "sent")
    issued_at = timestamp(sent, "sent")
    status_raw = required(root, "c:status", NS, "status")
    status = STATUS.get(status_raw)
    if status is None:
        raise AlertError("bad_value", f"status {status_raw!r} is not a CAP 1.2 status")
    msg_type = required(root, "c:msgType", NS, "msgType")
    if msg_type in ("Ack", "Error"):
        raise AlertError("unsupported_type", f"msgType {msg_type} carries no hazard")
    kind = MSG_TYPE.get(msg_type)
    if kind is None:
        raise AlertError("bad_value", f"msgType {msg_type!r} is not a CAP 1.2 message type")
    references = text(root.find("c:references", NS)).split()
    for ref in references:
        parts = ref.split(",")
        if len(parts) != 3 or not all(parts):
            raise AlertError("bad_value", f"reference {ref!r} is not sender,identifier,sent")
        timestamp(parts[2], "reference sent")
    if kind != "issue" and not references:
        raise AlertError("missing_field", f"a {msg_type} must reference the messages it follows")
    key = [sender, identifier, sent]
    infos = [_info(el) for el in root.findall("c:info", NS)]
    if kind != "cancel" and not infos:
        raise AlertError("missing_field", f"an {msg_type} without any info block")
    return Bulletin(
        source="cap",
        key=key,
        status=status,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        event=",".join(key),
        type=msg_type,
        issued_at=issued_at,
        title=infos[0].headline if infos else "",
        headline=infos[0].headline if infos else "",
        publisher=sender,
        references=references,
        infos=infos,
    )


def _info(el: ET.Element) -> CapInfo:
    return CapInfo(
        language=text(el.find("c:language", NS)) or "en-US",
        event=required(el, "c:event", NS, "info/event"),
        headline=text(el.find("c:headline", NS)),
        description=text(el.find("c:description", NS)),
        instruction=text(el.find("c:instruction", NS)),
        severity=required(el, "c:severity", NS, "info/severity"),
        urgency=required(el, "c:urgency", NS, "info/urgency"),
        certainty=required(el, "c:certainty", NS, "info/certainty"),
        areas=[_area(a) for a in el.findall("c:area", NS)],
    )


def _area(el: ET.Element) -> CapArea:
    return CapArea(
        description=required(el, "c:areaDesc", NS, "area/areaDesc"),
        polygons=[_polygon(text(p)) for p in el.findall("c:polygon", NS)],
        circles=[_circle(text(c)) for c in el.findall("c:circle", NS)],
        geocodes=[
            Geocode(
                name=required(g, "c:valueName", NS, "geocode/valueName"),
                value=required(g, "c:value", NS, "geocode/value"),
            )
            for g in el.findall("c:geocode", NS)
        ],
    )


def _point(pair: str, what: str) -> tuple[float, float]:
    parts = pair.split(",")
    if len(parts) != 2:
        raise AlertError("bad_value", f"{what} point {pair!r} is not lat,lon")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise AlertError("bad_value", f"{what} point {pair!r} is not numeric") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise AlertError("bad_value", f"{what} point {pair!r} is out of range (lat,lon order)")
    return lat, lon


def _polygon(value: str) -> list[list[float]]:
    pairs = value.split()
    if len(pairs) > MAX_POINTS:
        raise AlertError("bad_value", f"polygon of {len(pairs)} points exceeds {MAX_POINTS}")
    ring = [list(_point(p, "polygon")) for p in pairs]
    if len(ring) < 4:
        raise AlertError("bad_value", f"polygon has {len(ring)} points; CAP needs at least 4")
    if ring[0] != ring[-1]:
        raise AlertError("bad_value", "polygon is not closed (first and last points differ)")
    return ring


def _circle(value: str) -> Circle:
    parts = value.split()
    if len(parts) != 2:
        raise AlertError("bad_value", f"circle {value!r} is not 'lat,lon radius'")
    lat, lon = _point(parts[0], "circle")
    try:
        radius = float(parts[1])
    except ValueError:
        raise AlertError("bad_value", f"circle radius {parts[1]!r} is not numeric") from None
    if not 0 <= radius <= 20_000:
        raise AlertError("bad_value", f"circle radius {radius} km is out of range")
    return Circle(lat=lat, lon=lon, radius_km=radius)
