"""Exports per reader: each format opens in an independent reader, carries the marking and
the bound STANAG 4774 label, and lacks what the reader's nation may not see."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
import shapely.geometry
import shapely.wkt
from fastkml import kml
from lxml import etree

from kizuna.core.labels import parse_label
from kizuna.core.release import may_release
from kizuna.core.stanag4774 import from_xml
from kizuna.interop.binding import NS_4778, NVG_NS, BindingError, verify
from kizuna.kernel.context import Caller
from tests.interop.support import World, world

NVG = "{" + NVG_NS + "}"
SLAB = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"

# What each reader's export holds, by the fixture's labels (support.world).
EXPECTED = {
    "sato": {"jp-s", "all-u", "jp-nf", "incident", "mda_zone", "rsv-1", "leak-1"},
    "smith": {"jp-s", "all-u", "incident"},
    "jones": {"all-u", "mda_zone", "rsv-1"},
}


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = world(tmp_path_factory.mktemp("jjoc"))
    yield built
    built.node.close()


def readers(w: World) -> list[Caller]:
    return [w.jp, w.us, w.au]


def kinds(ids: set[str], types: set[str]) -> set[str]:
    """Feature ids as the EXPECTED sets name them (incidents and zones by type)."""
    out = {i for i in ids if not i.startswith("cap-") and "-" in i and len(i) < 20}
    return out | {t for t in types if t in ("incident", "mda_zone")}


def check_release(w: World, caller: Caller, markings: list[str]) -> None:
    """Every feature's own marking releases to the reader (none leaked)."""
    for m in markings:
        assert may_release(parse_label(m, groups=w.node.groups), caller.principal), m


def test_kml_opens_in_fastkml_marked_and_per_reader(w: World) -> None:
    for caller in readers(w):
        data = w.interop.export(caller, "kml").data
        doc = kml.KML.from_string(data).features[0]
        marking = w.interop.collect(caller).marking
        assert doc.name.startswith(marking) and doc.description.startswith(marking)
        data_items = {d.name: d.value for d in doc.extended_data.elements}
        assert data_items["marking"] == marking
        assert from_xml(data_items["stanag4774:label"]).render() == marking
        ids, types, markings = set(), set(), []
        for folder in doc.features:
            for mark in folder.features:
                extra = {d.name: d.value for d in mark.extended_data.elements}
                ids.add(extra["id"])
                types.add(extra["record_type"])
                markings.append(extra["marking"])
                assert mark.name.startswith(f"({extra['marking']})")
                assert mark.geometry is not None and mark.geometry.geom_type
        assert kinds(ids, types) == EXPECTED[caller.name], caller.name
        check_release(w, caller, markings)
        assert verify(data, "kml").marking.startswith(marking)
    # A description is shown as HTML by KML viewers: markup in it stays text.
    doc = kml.KML.from_string(w.interop.export(w.au, "kml").data).features[0]
    rsv = next(m for f in doc.features for m in f.features if "Range 3" in m.name)
    assert "&lt;script&gt;" in rsv.description and "<script>" not in rsv.description


def test_geojson_is_valid_geojson_marked_and_per_reader(w: World) -> None:
    for caller in readers(w):
        data = w.interop.export(caller, "geojson").data
        doc = json.loads(data)
        marking = w.interop.collect(caller).marking
        assert doc["type"] == "FeatureCollection"
        assert doc["properties"]["marking"] == marking
        assert from_xml(doc["properties"]["stanag4774"]).render() == marking
        for f in doc["features"]:
            assert shapely.geometry.shape(f["geometry"]).is_valid
        ids = {f["id"] for f in doc["features"]}
        types = {f["properties"]["record_type"] for f in doc["features"]}
        assert kinds(ids, types) == EXPECTED[caller.name], caller.name
        check_release(w, caller, [f["properties"]["marking"] for f in doc["features"]])
        assert verify(data, "geojson").label.render() == marking


def test_csv_first_line_is_the_marking_and_rows_per_reader(w: World) -> None:
    for caller in readers(w):
        data = w.interop.export(caller, "csv").data
        marking = w.interop.collect(caller).marking
        lines = data.decode().split("\r\n")
        assert lines[0] == marking
        rows = list(csv.DictReader(io.StringIO("\r\n".join(lines[3:]))))
        assert {"marking", "record_type", "id", "lat", "lon", "geometry_wkt"} <= set(rows[0])
        for row in rows:
            assert shapely.wkt.loads(row["geometry_wkt"]).is_valid
        ids = {r["id"] for r in rows}
        assert kinds(ids, {r["record_type"] for r in rows}) == EXPECTED[caller.name]
        check_release(w, caller, [r["marking"] for r in rows])
        assert verify(data, "csv").label.render() == marking
        for row in rows:  # no cell a spreadsheet would run as a formula
            assert all(not v.startswith(("=", "+", "@")) for k, v in row.items() if k), row
    rsv = next(r for r in rows if r["id"] == "rsv-1")
    assert rsv["description"].startswith("'=HYPERLINK")


def test_nvg_structure_marking_and_per_reader(w: World) -> None:
    """No NVG 2.0 XSD is on this machine (and none may be downloaded): the structure is
    checked with lxml: the NVG namespace and version, every element known to NVG 2.0 with
    its required attributes, points inside the coordinate ranges."""
    allowed = {"nvg", "metadata", "g", "point", "polyline", "polygon", "textInfo", "exclude"}
    allowed |= {"linear-ring"}
    for caller in readers(w):
        data = w.interop.export(caller, "nvg").data
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        assert root.tag == f"{NVG}nvg" and root.get("version", "").startswith("2.0")
        marking = w.interop.collect(caller).marking
        group = root.find(f"{NVG}g")
        assert group is not None and group.get("label", "").startswith(marking)
        label = root.find(f"{NVG}metadata/{{{NS_4778}}}BindingInformation//{{{SLAB}}}*/..")
        assert label is not None
        ids, types, markings = set(), set(), []
        for el in root.iter():
            if not isinstance(el.tag, str) or not el.tag.startswith(NVG):
                continue
            name = etree.QName(el).localname
            assert name in allowed, name
            if name == "point":
                assert -180 <= float(el.get("x")) <= 180 and -90 <= float(el.get("y")) <= 90
            if name in ("polygon", "polyline"):
                pts = [p.split(",") for p in el.get("points").split()]
                assert len(pts) >= (3 if name == "polygon" else 2)
            if name in ("point", "polygon", "polyline"):
                uri = el.get("uri")
                _, _, kind, fid = uri.split(":", 3)
                ids.add(fid)
                types.add(kind)
                markings.append(el.get("label")[1:].split(") ", 1)[0].rstrip(")"))
        assert kinds(ids, types) == EXPECTED[caller.name], caller.name
        check_release(w, caller, markings)
        assert verify(data, "nvg").label.render() == marking


def test_bbox_and_types_narrow_an_export(w: World) -> None:
    only = w.interop.collect(w.jp, types={"track"}, bbox=(139.5, 35.3, 139.7, 35.5))
    assert [f.id for f, _ in only.features] == ["all-u"]
    assert only.marking == "//JPN UNCLASSIFIED"


@pytest.mark.parametrize("fmt", ["kml", "nvg", "geojson", "csv"])
def test_tampering_is_detected(w: World, fmt: str) -> None:
    data = w.interop.export(w.us, fmt).data
    verify(data, fmt)
    # A changed feature, a widened marking, a changed label: each is detected.
    if fmt == "csv":
        changed = [data.replace(b"jp-s", b"jp-x")]
    elif fmt == "geojson":
        changed = [data.replace(b'"jp-s"', b'"jp-x"')]
    else:
        changed = [data.replace(b"jp-s", b"jp-x")]
    changed.append(data.replace(b"REL TO USA, JPN", b"REL TO USA, AUS, JPN", 1))
    changed.append(data.replace(b"SECRET", b"UNCLASSIFIED"))
    for bad in changed:
        assert bad != data
        with pytest.raises(BindingError):
            verify(bad, fmt)


def test_a_failing_plugin_does_not_break_the_export(w: World) -> None:
    """A plugin whose features raise is left out and named; the rest is exported."""

    class Broken:
        name = "broken"

        def features(self, service: object, caller: object) -> list[object]:
            raise RuntimeError("boom")

    exports = w.node.exports
    exports.add(Broken(), None)  # type: ignore[arg-type]
    try:
        got = w.interop.collect(w.au)
        assert got.failed == ["broken"] and len(got.features) == 3
    finally:
        exports._started.pop()


def test_xml_label_parses_back(w: World) -> None:
    root = ET.fromstring(w.interop.export(w.au, "nvg").data)
    el = root.find(f".//{{{SLAB}}}originatorConfidentialityLabel")
    assert el is not None
    assert from_xml(ET.tostring(el)).render() == "//JPN SECRET//REL TO AUS, JPN"
