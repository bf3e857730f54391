"""A bulletin's prefectures are drawn on the map at their offices with their intensities."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from kizuna.incidents.gazetteer import PREFECTURE_OFFICES
from tests.incidents.support import caller, start

SEIS = {"s": "http://xml.kishou.go.jp/jmaxml1/body/seismology1/"}


def test_each_prefecture_of_a_vxse53_is_a_point_with_the_documents_intensity(
    shared_data: Path,
) -> None:
    path = shared_data / "jma" / "20210217190220_0_VXSE53_010000.xml"
    raw = path.read_bytes()
    # What the document says, read without the parser under test.
    expected = {
        p.findtext("s:Code", namespaces=SEIS): p.findtext("s:MaxInt", namespaces=SEIS)
        for p in ET.fromstring(raw).iterfind(".//s:Observation/s:Pref", SEIS)
    }
    assert expected
    ctx, incidents, alerts = start()
    alerts.ingest_bytes(raw, name=path.name)
    features = incidents.geojson(caller(ctx)).features
    points = {
        f.id.rsplit("/", 1)[1]: (f.geometry.coordinates, f.properties.intensity)
        for f in features
        if f.properties.role == "area"
    }
    assert set(points) == set(expected)
    for code, intensity in expected.items():
        lat, lon = PREFECTURE_OFFICES[code]
        assert points[code] == ([lon, lat], intensity)


def test_every_prefecture_office_lies_in_japan() -> None:
    assert len(PREFECTURE_OFFICES) == 47
    for lat, lon in PREFECTURE_OFFICES.values():
        assert 24 <= lat <= 46 and 122 <= lon <= 146
