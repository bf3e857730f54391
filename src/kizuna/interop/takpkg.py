"""TAK data packages (ATAK/WinTAK "mission packages"): a zip with ``MANIFEST/manifest.xml``.

The package holds the reader's export as a KML overlay (marked and bound, as
:func:`~kizuna.interop.formats.to_kml` writes it), one CoT event per feature (a spot
marker for a point, a ``u-d-f`` drawing for a line or an area, with the feature's label in
``access``/``caveat``/``releaseableTo``) and the package's STANAG 4774 label. The manifest
is ``MissionPackageManifest`` version 2: ``Configuration`` (uid, name) and ``Contents``, one
``Content zipEntry`` per file, CoT entries naming their event's uid.
"""

from __future__ import annotations

import io
import re
import time
import uuid
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime

from kizuna.core.labels import Label, sort_rel_to
from kizuna.interop import geometry as geo
from kizuna.interop.binding import label_xml
from kizuna.interop.collect import Export
from kizuna.interop.formats import text, title, to_kml
from kizuna.kernel.contract import Feature

MEDIA_TYPE = "application/zip"
MANIFEST = "MANIFEST/manifest.xml"
MARKER = "b-m-p-s-m"  # a spot map marker
SHAPE = "u-d-f"  # a drawn line or area
STALE_S = 24 * 3600.0
_UID = re.compile(r"[^A-Za-z0-9._:-]")


def _iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def cot_uid(node_id: str, feature: Feature) -> str:
    return _UID.sub("_", f"kizuna.{node_id}.{feature.id}")


def label_attrs(label: Label) -> dict[str, str]:
    """A label as CoT event attributes (as the node's CoT server writes them)."""
    attrs = {"access": label.classification.marking}
    if label.noforn:
        attrs["caveat"] = "NOFORN"
    if label.rel_to:
        attrs["releaseableTo"] = " ".join(sort_rel_to(label.rel_to))
    if label.exercise:
        attrs["opex"] = "e"
    return attrs


def cot_event(
    node_id: str, feature: Feature, label: Label, lang: str = "en", now: float | None = None
) -> ET.Element:
    """One CoT event for a feature: a marker for a point, else a drawing of its first part."""
    moment = time.time() if now is None else now
    kind, rings = next(geo.parts(feature.geometry))
    lon, lat = geo.anchor(feature.geometry)
    event = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": cot_uid(node_id, feature),
            "type": MARKER if kind == "Point" else SHAPE,
            "how": "h-g-i-g-o",
            "time": _iso(moment),
            "start": _iso(moment),
            "stale": _iso(moment + STALE_S),
            **label_attrs(label),
        },
    )
    ET.SubElement(
        event,
        "point",
        {
            "lat": f"{lat:.7f}",
            "lon": f"{lon:.7f}",
            "hae": "0.0",
            "ce": "9999999.0",
            "le": "9999999.0",
        },
    )
    detail = ET.SubElement(event, "detail")
    name = f"({label.render()}) {text(feature.name, lang)}".strip()
    ET.SubElement(detail, "contact", {"callsign": name})
    if kind == "Point":
        ET.SubElement(detail, "color", {"argb": "-65536"})
    else:
        for plon, plat in rings[0]:
            ET.SubElement(detail, "link", {"point": f"{plat:.7f},{plon:.7f}"})
        ET.SubElement(detail, "strokeColor", {"value": "-65536"})
        ET.SubElement(detail, "strokeWeight", {"value": "3.0"})
        ET.SubElement(detail, "fillColor", {"value": "1090453504" if kind == "Polygon" else "0"})
        ET.SubElement(detail, "labels_on", {"value": "true"})
    ET.SubElement(
        detail, "remarks"
    ).text = f"{label.render()} {text(feature.description, lang)}".strip()
    return event


def manifest(uid: str, name: str, entries: list[tuple[str, str | None]]) -> bytes:
    root = ET.Element("MissionPackageManifest", {"version": "2"})
    config = ET.SubElement(root, "Configuration")
    ET.SubElement(config, "Parameter", {"name": "uid", "value": uid})
    ET.SubElement(config, "Parameter", {"name": "name", "value": name})
    ET.SubElement(config, "Parameter", {"name": "onReceiveDelete", "value": "false"})
    contents = ET.SubElement(root, "Contents")
    for entry, cot in entries:
        content = ET.SubElement(contents, "Content", {"ignore": "false", "zipEntry": entry})
        if cot is not None:
            ET.SubElement(content, "Parameter", {"name": "uid", "value": cot})
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8")


def data_package(export: Export, lang: str = "en", *, name: str = "") -> bytes:
    """The export as a TAK data package (bytes of a zip)."""
    uid = str(uuid.uuid4())
    label = (name or title(export))[:200]
    files: list[tuple[str, bytes, str | None]] = [
        (f"{uid}/kizuna-overlay.kml", to_kml(export, lang), None),
        (f"{uid}/label.xml", label_xml(export.label).encode("utf-8"), None),
    ]
    now = time.time()
    for n, (feature, flabel) in enumerate(export.features):
        event = cot_event(export.node_id, feature, flabel, lang, now)
        body = (
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(event, encoding="unicode").encode()
        )
        files.append((f"{uid}/cot/{n:05d}.cot", body, event.get("uid")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, manifest(uid, label, [(e, c) for e, _, c in files]))
        for entry, data, _ in files:
            zf.writestr(entry, data)
    return buf.getvalue()
