"""Overlays read from KML, KMZ, GeoJSON and NVG, refusing hostile files with a reason.

Every limit is checked before the work it bounds: the file's size; for a KMZ the number
of entries, each entry's and the total decompressed size (read in bounded chunks: the
sizes a zip declares are not trusted) and the compression ratio (a zip bomb); XML through
``defusedxml`` with DTDs, entity declarations and external references refused (entity
expansion, external entities); JSON nesting depth; the number of features, of positions
in one geometry and in the whole file (enormous coordinate lists), the length of a
coordinates text before it is split. A file is read whole or not at all.
"""

from __future__ import annotations

import io
import json
import math
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import defusedxml  # type: ignore[import-untyped, unused-ignore]
import defusedxml.ElementTree as DET  # type: ignore[import-untyped, unused-ignore]
import msgspec

from kizuna.core.catalog import Message
from kizuna.interop import geometry as geo
from kizuna.interop.binding import KML_NS, NVG_NS
from kizuna.interop.messages import MESSAGES, MessageError

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_KMZ_ENTRIES = 64
MAX_KMZ_BYTES = 32 * 1024 * 1024  # decompressed, all entries
MAX_RATIO = 100  # decompressed / compressed, per entry
MAX_FEATURES = 5_000
MAX_POSITIONS = 10_000  # in one geometry
MAX_TOTAL_POSITIONS = 200_000
MAX_COORD_TEXT = MAX_POSITIONS * 64  # characters of one coordinates text
MAX_DEPTH = 64  # JSON and XML nesting
MAX_TEXT = 2_000  # characters of a name or description kept

FORMATS = ("kml", "kmz", "geojson", "nvg")


class ImportRefused(MessageError):
    """A file refused; ``reason`` is a short code (counted), ``message`` says why (a catalog
    message, rendered in the reader's language)."""

    def __init__(self, reason: str, message: Message, status: int = 422) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


class Overlay(msgspec.Struct, frozen=True, kw_only=True):
    """One feature read from a file: a name, a GeoJSON geometry, a description."""

    name: str
    geometry: dict[str, Any]
    description: str = ""


def sniff(data: bytes, filename: str = "") -> str:
    """The format of a file, from its name or its first bytes."""
    lower = filename.lower()
    for fmt, suffixes in (
        ("kmz", (".kmz",)),
        ("kml", (".kml",)),
        ("geojson", (".geojson", ".json")),
        ("nvg", (".nvg",)),
    ):
        if lower.endswith(suffixes):
            return fmt
    head = data[:512].lstrip()
    if data[:4] == b"PK\x03\x04":
        return "kmz"
    if head[:1] in (b"{", b"["):
        return "geojson"
    if b"<kml" in head or KML_NS.encode() in data[:2048]:
        return "kml"
    if NVG_NS.encode() in data[:2048] or b"<nvg" in head:
        return "nvg"
    raise ImportRefused("unknown_format", MESSAGES.msg("import.not-recognised"))


def read_overlay(data: bytes, fmt: str) -> list[Overlay]:
    """The features of a file (raises :class:`ImportRefused`)."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(
            "too_large",
            MESSAGES.msg("import.too-large", size=len(data), limit=MAX_FILE_BYTES),
            413,
        )
    if fmt == "kmz":
        data = kmz_document(data)
        fmt = "kml"
    if fmt == "geojson":
        features = _geojson(data)
    elif fmt == "kml":
        features = _kml(_xml(data))
    elif fmt == "nvg":
        features = _nvg(_xml(data))
    else:
        raise ImportRefused(
            "unknown_format", MESSAGES.msg("import.unknown-format", format=repr(fmt))
        )
    if not features:
        raise ImportRefused("empty", MESSAGES.msg("import.empty"))
    total = sum(geo.count(f.geometry) for f in features)
    if total > MAX_TOTAL_POSITIONS:
        raise ImportRefused(
            "too_many_positions",
            MESSAGES.msg("import.too-many-positions", total=total, limit=MAX_TOTAL_POSITIONS),
        )
    return features


# -- KMZ -------------------------------------------------------------------------------


def kmz_document(data: bytes) -> bytes:
    """The KML document of a KMZ (``doc.kml``, else the first ``.kml`` entry)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportRefused("bad_kmz", MESSAGES.msg("import.bad-kmz", error=exc)) from None
    if len(infos) > MAX_KMZ_ENTRIES:
        raise ImportRefused(
            "kmz_entries",
            MESSAGES.msg("import.kmz-entries", count=len(infos), limit=MAX_KMZ_ENTRIES),
        )
    kml = [i for i in infos if i.filename.lower().endswith(".kml")]
    if not kml:
        raise ImportRefused("bad_kmz", MESSAGES.msg("import.kmz-no-kml"))
    chosen = next((i for i in kml if i.filename.lower() == "doc.kml"), kml[0])
    declared = sum(i.file_size for i in infos)
    if declared > MAX_KMZ_BYTES:
        raise ImportRefused(
            "zip_bomb",
            MESSAGES.msg("import.kmz-bomb-total", size=declared, limit=MAX_KMZ_BYTES),
        )
    for info in infos:
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise ImportRefused(
                "zip_bomb",
                MESSAGES.msg("import.kmz-bomb-entry", entry=repr(info.filename), ratio=MAX_RATIO),
            )
    limit = min(MAX_FILE_BYTES, MAX_KMZ_BYTES)
    out = bytearray()
    try:
        with zf.open(chosen) as stream:
            while chunk := stream.read(64 * 1024):
                out += chunk
                if len(out) > limit:
                    raise ImportRefused(
                        "zip_bomb",
                        MESSAGES.msg("import.kmz-bomb-size", limit=limit),
                    )
                if len(out) > MAX_RATIO * max(chosen.compress_size, 1):
                    raise ImportRefused(
                        "zip_bomb",
                        MESSAGES.msg("import.kmz-bomb-ratio", ratio=MAX_RATIO),
                    )
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ImportRefused("bad_kmz", MESSAGES.msg("import.kmz-unreadable", error=exc)) from None
    return bytes(out)


# -- XML -------------------------------------------------------------------------------


def _xml(data: bytes) -> ET.Element:
    try:
        root: ET.Element = DET.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise ImportRefused("dtd", MESSAGES.msg("import.dtd")) from None
    except defusedxml.EntitiesForbidden:
        raise ImportRefused("entities", MESSAGES.msg("import.entities")) from None
    except defusedxml.ExternalReferenceForbidden:
        raise ImportRefused(
            "external_reference", MESSAGES.msg("import.external-reference")
        ) from None
    except defusedxml.DefusedXmlException as exc:
        raise ImportRefused("unsafe_xml", MESSAGES.msg("import.unsafe-xml", error=exc)) from None
    except ET.ParseError as exc:
        raise ImportRefused("malformed", MESSAGES.msg("import.malformed-xml", error=exc)) from None
    except (ValueError, LookupError, UnicodeError) as exc:
        raise ImportRefused("malformed", MESSAGES.msg("import.unreadable-xml", error=exc)) from None
    depth, todo = 0, [(root, 1)]
    while todo:
        el, d = todo.pop()
        depth = max(depth, d)
        if depth > MAX_DEPTH:
            raise ImportRefused("too_deep", MESSAGES.msg("import.xml-too-deep", limit=MAX_DEPTH))
        todo.extend((child, d + 1) for child in el)
    return root


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _first_text(el: ET.Element, name: str) -> str:
    for c in el:
        if _local(c.tag) == name:
            return " ".join((c.text or "").split())[:MAX_TEXT]
    return ""


def _tuples(textval: str | None, sep: str = " ", *, lonlat: bool = True) -> list[list[float]]:
    """Positions of a coordinates text (KML ``lon,lat[,alt] …``; NVG ``x,y …``)."""
    raw = textval or ""
    if len(raw) > MAX_COORD_TEXT:
        raise ImportRefused(
            "too_many_positions",
            MESSAGES.msg(
                "import.coordinates-too-long", limit=MAX_COORD_TEXT, positions=MAX_POSITIONS
            ),
        )
    items = raw.split()
    if len(items) > MAX_POSITIONS:
        raise ImportRefused(
            "too_many_positions",
            MESSAGES.msg("import.geometry-too-many", count=len(items), limit=MAX_POSITIONS),
        )
    out = []
    for item in items:
        parts = item.split(",")
        if len(parts) < 2:
            raise ImportRefused(
                "bad_geometry", MESSAGES.msg("import.coordinate-not-pair", item=repr(item[:40]))
            )
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError:
            raise ImportRefused(
                "bad_geometry", MESSAGES.msg("import.coordinate-not-number", item=repr(item[:40]))
            ) from None
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ImportRefused(
                "bad_geometry", MESSAGES.msg("import.coordinate-not-finite", item=repr(item[:40]))
            )
        out.append([lon, lat])
    return out


def _kml_geometries(el: ET.Element) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for child in el:
        name = _local(child.tag)
        if name == "Point":
            pts = _tuples(_first_text(child, "coordinates") or None)
            if len(pts) != 1:
                raise ImportRefused("bad_geometry", MESSAGES.msg("import.kml-point"))
            out.append({"type": "Point", "coordinates": pts[0]})
        elif name == "LineString":
            coords = next((c.text for c in child if _local(c.tag) == "coordinates"), "")
            out.append({"type": "LineString", "coordinates": _tuples(coords)})
        elif name == "Polygon":
            rings = []
            for bound in ("outerBoundaryIs", "innerBoundaryIs"):
                for b in _children(child, bound):
                    for ring in _children(b, "LinearRing"):
                        coords = next((c.text for c in ring if _local(c.tag) == "coordinates"), "")
                        rings.append(_tuples(coords))
            out.append({"type": "Polygon", "coordinates": rings})
        elif name == "MultiGeometry":
            out += _kml_geometries(child)
    return out


def _kml(root: ET.Element) -> list[Overlay]:
    if _local(root.tag) != "kml":
        raise ImportRefused("not_kml", MESSAGES.msg("import.not-kml", root=_local(root.tag)))
    features: list[Overlay] = []
    for mark in root.iter():
        if _local(mark.tag) != "Placemark":
            continue
        if len(features) >= MAX_FEATURES:
            raise ImportRefused(
                "too_many_features", MESSAGES.msg("import.too-many-features", limit=MAX_FEATURES)
            )
        for g in _kml_geometries(mark):
            features.append(
                _overlay(_first_text(mark, "name"), g, _first_text(mark, "description"))
            )
    return features


def _nvg(root: ET.Element) -> list[Overlay]:
    if _local(root.tag) != "nvg":
        raise ImportRefused("not_nvg", MESSAGES.msg("import.not-nvg", root=_local(root.tag)))
    features: list[Overlay] = []
    for el in root.iter():
        kind = _local(el.tag)
        if kind not in ("point", "polygon", "polyline", "multipoint"):
            continue
        if len(features) >= MAX_FEATURES:
            raise ImportRefused(
                "too_many_features", MESSAGES.msg("import.too-many-features", limit=MAX_FEATURES)
            )
        name = " ".join((el.get("label") or "").split())[:MAX_TEXT]
        info = _first_text(el, "textInfo")
        if kind == "point":
            pts = _tuples(f"{el.get('x', '')},{el.get('y', '')}")
            g: dict[str, Any] = {"type": "Point", "coordinates": pts[0]}
        elif kind == "multipoint":
            g = {"type": "MultiPoint", "coordinates": _tuples(el.get("points"))}
        elif kind == "polyline":
            g = {"type": "LineString", "coordinates": _tuples(el.get("points"))}
        else:
            ring = _tuples(el.get("points"))
            if ring and ring[0] != ring[-1]:
                ring.append(ring[0])
            g = {"type": "Polygon", "coordinates": [ring]}
        features.append(_overlay(name, g, info))
    return features


# -- GeoJSON ---------------------------------------------------------------------------


def _geojson(data: bytes) -> list[Overlay]:
    try:
        doc = json.loads(data)
    except RecursionError:
        raise ImportRefused("too_deep", MESSAGES.msg("import.json-too-deep")) from None
    except ValueError as exc:
        raise ImportRefused("malformed", MESSAGES.msg("import.malformed-json", error=exc)) from None
    if not isinstance(doc, dict):
        raise ImportRefused("not_geojson", MESSAGES.msg("import.geojson-object"))
    kind = doc.get("type")
    if kind == "FeatureCollection":
        items = doc.get("features")
        if not isinstance(items, list):
            raise ImportRefused("not_geojson", MESSAGES.msg("import.geojson-features"))
    elif kind == "Feature":
        items = [doc]
    elif kind in geo.TYPES:
        items = [{"type": "Feature", "geometry": doc, "properties": {}}]
    else:
        raise ImportRefused("not_geojson", MESSAGES.msg("import.geojson-type", kind=repr(kind)))
    if len(items) > MAX_FEATURES:
        raise ImportRefused(
            "too_many_features",
            MESSAGES.msg("import.too-many-features-count", count=len(items), limit=MAX_FEATURES),
        )
    features = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or item.get("type") != "Feature":
            raise ImportRefused("not_geojson", MESSAGES.msg("import.geojson-not-feature", n=n))
        g = item.get("geometry")
        if g is None:
            continue
        props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        assert isinstance(props, dict)
        name = props.get("name") or props.get("title") or ""
        desc = props.get("description") or ""
        gs = (
            g.get("geometries")
            if isinstance(g, dict) and g.get("type") == "GeometryCollection"
            else [g]
        )
        for one in gs if isinstance(gs, list) else []:
            features.append(_overlay(str(name), one, str(desc)))
    return features


def _overlay(name: str, geometry: Any, description: str) -> Overlay:
    try:
        n = geo.count(geometry)
    except geo.GeometryError as exc:
        raise ImportRefused(
            "bad_geometry",
            MESSAGES.msg("import.feature-geometry", name=repr(name[:60]), problem=exc.message),
        ) from None
    if n > MAX_POSITIONS:
        raise ImportRefused(
            "too_many_positions",
            MESSAGES.msg(
                "import.feature-too-many", name=repr(name[:60]), count=n, limit=MAX_POSITIONS
            ),
        )
    return Overlay(name=name[:MAX_TEXT], geometry=geometry, description=description[:MAX_TEXT])
