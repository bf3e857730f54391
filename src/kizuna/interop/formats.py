"""An :class:`~kizuna.interop.collect.Export` written as GeoJSON, CSV, KML 2.2 or NVG 2.0.

Each document shows the export's marking where a reader looks first, each feature its
own portion marking, and carries the STANAG 4774 label bound in the manner of STANAG 4778
(:mod:`kizuna.interop.binding`).
"""

from __future__ import annotations

import csv
import html
import io
import re
import xml.etree.ElementTree as ET
from typing import Any

from kizuna.core.labels import Label
from kizuna.core.stanag4774 import NAMESPACE as NS_4774
from kizuna.interop import geometry as geo
from kizuna.interop.binding import (
    C14N,
    DIGEST_ALGORITHM,
    JSON_CANON,
    KML_DIGEST,
    KML_LABEL,
    KML_NS,
    NS_4778,
    NVG_NS,
    label_xml,
    parse_xml,
    seal_csv,
    seal_json,
    seal_xml,
)
from kizuna.interop.collect import Export
from kizuna.kernel.contract import Feature

FORMATS = ("kml", "nvg", "geojson", "csv")
MEDIA_TYPES = {
    "kml": "application/vnd.google-earth.kml+xml",
    "nvg": "application/xml",
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
}
SUFFIX = {"kml": "kml", "nvg": "nvg", "geojson": "geojson", "csv": "csv"}

ET.register_namespace("nvg", NVG_NS)
ET.register_namespace("mb", NS_4778)
ET.register_namespace("slab", NS_4774)


def text(value: dict[str, str], lang: str) -> str:
    """A bilingual text in ``lang``, else the other language."""
    return value.get(lang) or value.get("en") or value.get("ja") or ""


def title(export: Export) -> str:
    return f"{export.marking} | Kizuna export from {export.node_id} for {export.reader}"


def summary(export: Export) -> str:
    return (
        f"{export.marking}\nKizuna export: {len(export.features)} features from node "
        f"{export.node_id} ({export.nation}) for {export.reader}, {export.created}. "
        "Marked as a whole with the label above; each feature carries its own."
    )


def portion(label: Label) -> str:
    return f"({label.render()})"


def write(export: Export, fmt: str, lang: str = "en") -> bytes:
    if fmt == "geojson":
        return to_geojson(export, lang)
    if fmt == "csv":
        return to_csv(export, lang)
    if fmt == "kml":
        return to_kml(export, lang)
    if fmt == "nvg":
        return to_nvg(export, lang)
    raise ValueError(f"unknown format {fmt!r}")


# -- GeoJSON -----------------------------------------------------------------------------


def to_geojson(export: Export, lang: str = "en") -> bytes:
    features = []
    for f, label in export.features:
        features.append(
            {
                "type": "Feature",
                "id": f.id,
                "geometry": f.geometry,
                "properties": {
                    **{k: v for k, v in f.properties.items() if _plain(v)},
                    "record_type": f.record_type,
                    "name": text(f.name, lang),
                    "name_en": f.name.get("en", ""),
                    "name_ja": f.name.get("ja", ""),
                    "description": text(f.description, lang),
                    "marking": label.render(),
                    "time": f.time,
                    "end": f.end,
                    "sidc": f.sidc,
                },
            }
        )
    doc: dict[str, Any] = {
        "type": "FeatureCollection",
        "properties": {
            "marking": export.marking,
            "title": title(export),
            "node": export.node_id,
            "reader": export.reader,
            "created": export.created,
            "stanag4774": label_xml(export.label),
            "stanag4778": {
                "algorithm": "SHA-256",
                "canonicalization": JSON_CANON,
                "scope": "the whole document with this digest empty",
                "digest": "",
            },
        },
        "features": features,
    }
    return seal_json(doc)


def _plain(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


# -- CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = [
    "marking",
    "record_type",
    "id",
    "name_en",
    "name_ja",
    "lat",
    "lon",
    "geometry_wkt",
    "time",
    "end",
    "sidc",
    "description",
]


def cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(export: Export, lang: str = "en") -> bytes:
    extra = sorted(
        {k for f, _ in export.features for k, v in f.properties.items() if _plain(v)}
        - set(CSV_COLUMNS)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS + extra)
    for f, label in export.features:
        lon, lat = geo.anchor(f.geometry)
        writer.writerow(
            [
                label.render(),
                cell(f.record_type),
                cell(f.id),
                cell(f.name.get("en", "")),
                cell(f.name.get("ja", "")),
                f"{lat:.6f}",
                f"{lon:.6f}",
                geo.wkt(f.geometry),
                cell(f.time or ""),
                cell(f.end or ""),
                cell(f.sidc or ""),
                cell(text(f.description, lang)),
                *(_prop(f.properties.get(k)) for k in extra),
            ]
        )
    return seal_csv(export.marking, export.label, out.getvalue())


def _prop(value: Any) -> str:
    if value is None:
        return ""
    return cell(value) if isinstance(value, str) else str(value)


# -- KML 2.2 -----------------------------------------------------------------------------

_K = ""  # KML is written in the default namespace (declared on the root), as readers expect
_NCNAME = re.compile(r"[^A-Za-z0-9._-]")


def _sub(parent: ET.Element, tag: str, value: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if value is not None:
        el.text = value
    return el


def _xml_id(prefix: str, raw: str) -> str:
    return prefix + _NCNAME.sub("_", raw)


def _kml_coords(points: list[geo.Position]) -> str:
    return " ".join(f"{lon:.7g},{lat:.7g}" for lon, lat in points)


def _kml_geometry(parent: ET.Element, geometry: dict[str, Any]) -> None:
    items = list(geo.parts(geometry))
    if len(items) > 1:
        parent = _sub(parent, f"{_K}MultiGeometry")
    for kind, rings in items:
        if kind == "Point":
            _sub(_sub(parent, f"{_K}Point"), f"{_K}coordinates", _kml_coords(rings[0]))
        elif kind == "LineString":
            line = _sub(parent, f"{_K}LineString")
            _sub(line, f"{_K}tessellate", "1")
            _sub(line, f"{_K}coordinates", _kml_coords(rings[0]))
        else:
            poly = _sub(parent, f"{_K}Polygon")
            _sub(poly, f"{_K}tessellate", "1")
            for n, ring in enumerate(rings):
                boundary = _sub(poly, f"{_K}outerBoundaryIs" if n == 0 else f"{_K}innerBoundaryIs")
                _sub(_sub(boundary, f"{_K}LinearRing"), f"{_K}coordinates", _kml_coords(ring))


def _kml_data(parent: ET.Element, values: dict[str, Any]) -> None:
    data = _sub(parent, f"{_K}ExtendedData")
    for key, value in values.items():
        if _plain(value) and value is not None:
            _sub(_sub(data, f"{_K}Data", name=key), f"{_K}value", str(value))


def kml_document(export: Export, lang: str = "en") -> tuple[ET.Element, ET.Element]:
    """The KML tree and its digest slot (sealed by the caller)."""
    root = ET.Element("kml", {"xmlns": KML_NS})
    doc = _sub(root, f"{_K}Document", id="kizuna-export")
    _sub(doc, f"{_K}name", title(export))
    _sub(doc, f"{_K}open", "1")
    _sub(doc, f"{_K}description", summary(export))
    data = _sub(doc, f"{_K}ExtendedData")
    _sub(_sub(data, f"{_K}Data", name="marking"), f"{_K}value", export.marking)
    _sub(_sub(data, f"{_K}Data", name=KML_LABEL), f"{_K}value", label_xml(export.label))
    binding = _sub(data, f"{_K}Data", name=KML_DIGEST)
    _sub(binding, f"{_K}displayName", f"STANAG 4778 binding ({C14N}, SHA-256)")
    slot = _sub(binding, f"{_K}value", "")
    folders: dict[str, ET.Element] = {}
    for f, label in export.features:
        folder = folders.get(f.record_type)
        if folder is None:
            folder = folders[f.record_type] = _sub(
                doc, f"{_K}Folder", id=_xml_id("t-", f.record_type)
            )
            _sub(folder, f"{_K}name", f.record_type)
        mark = _sub(folder, f"{_K}Placemark", id=_xml_id("f-", f.id))
        _sub(mark, f"{_K}name", f"{portion(label)} {text(f.name, lang)}".strip())
        # Viewers render a description as HTML: its text is escaped so it stays text.
        body = html.escape(f"{label.render()}\n{text(f.description, lang)}".strip())
        _sub(mark, f"{_K}description", body)
        if f.time and f.end:
            span = _sub(mark, f"{_K}TimeSpan")
            _sub(span, f"{_K}begin", f.time)
            _sub(span, f"{_K}end", f.end)
        elif f.time:
            _sub(_sub(mark, f"{_K}TimeStamp"), f"{_K}when", f.time)
        _kml_data(
            mark,
            {
                "id": f.id,
                "record_type": f.record_type,
                "marking": label.render(),
                "name_en": f.name.get("en", ""),
                "name_ja": f.name.get("ja", ""),
                "sidc": f.sidc,
                **f.properties,
            },
        )
        _kml_geometry(mark, f.geometry)
    ET.indent(root)
    return root, slot


def to_kml(export: Export, lang: str = "en") -> bytes:
    root, slot = kml_document(export, lang)
    return seal_xml(root, slot)


# -- NVG 2.0 -----------------------------------------------------------------------------

_N = "{" + NVG_NS + "}"
_B = "{" + NS_4778 + "}"
NVG_VERSION = "2.0.2"


def _nvg_points(points: list[geo.Position]) -> str:
    return " ".join(f"{lon:.7g},{lat:.7g}" for lon, lat in points)


def _nvg_item(parent: ET.Element, f: Feature, label: Label, lang: str) -> None:
    items = list(geo.parts(f.geometry))
    name = f"{portion(label)} {text(f.name, lang)}".strip()
    uri = f"urn:kizuna:{f.record_type}:{f.id}"
    if len(items) > 1:
        parent = _sub(parent, f"{_N}g", label=name, uri=uri)
    for n, (kind, rings) in enumerate(items):
        attrs = {"label": name, "uri": uri if len(items) == 1 else f"{uri}#{n}"}
        if kind == "Point":
            lon, lat = rings[0][0]
            attrs |= {"x": f"{lon:.7g}", "y": f"{lat:.7g}"}
            if f.sidc:
                attrs["symbol"] = f"2525d:{f.sidc}"
            el = _sub(parent, f"{_N}point", **attrs)
        elif kind == "LineString":
            el = _sub(parent, f"{_N}polyline", points=_nvg_points(rings[0]), **attrs)
        else:
            el = _sub(parent, f"{_N}polygon", points=_nvg_points(rings[0][:-1]), **attrs)
            for hole in rings[1:]:
                _sub(_sub(el, f"{_N}exclude"), f"{_N}linear-ring", points=_nvg_points(hole[:-1]))
        _sub(el, f"{_N}textInfo", f"{label.render()} {text(f.description, lang)}".strip())


def nvg_document(export: Export, lang: str = "en") -> tuple[ET.Element, ET.Element]:
    root = ET.Element(f"{_N}nvg", {"version": NVG_VERSION})
    meta = _sub(root, f"{_N}metadata")
    binding = _sub(meta, f"{_B}BindingInformation")
    holder = _sub(binding, f"{_B}Metadata")
    holder.append(parse_xml(label_xml(export.label).encode()))
    ref = _sub(binding, f"{_B}DataReference", URI="", Canonicalization=C14N)
    _sub(ref, f"{_B}DigestMethod", Algorithm=DIGEST_ALGORITHM)
    slot = _sub(ref, f"{_B}DigestValue", "")
    group = _sub(root, f"{_N}g", label=title(export), uri=f"urn:kizuna:export:{export.node_id}")
    for f, label in export.features:
        _nvg_item(group, f, label, lang)
    ET.indent(root)
    return root, slot


def to_nvg(export: Export, lang: str = "en") -> bytes:
    root, slot = nvg_document(export, lang)
    return seal_xml(root, slot)
