"""Imports over the API: overlays become zones under the importer's label, all or nothing;
hostile files (external entities, entity expansion, a zip bomb in KMZ, enormous coordinate
lists) are refused with a clear reason and counted, and the node keeps serving."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from kizuna.api.app import create_app
from kizuna.node.users import make_user
from tests.interop.support import World, world

PROBLEM = "application/problem+json"
SQUARE = [[135.0, 34.0], [135.2, 34.0], [135.2, 34.2], [135.0, 34.2], [135.0, 34.0]]


def kml_doc(
    coords: str = "135,34 135.2,34 135.2,34.2 135,34.2 135,34", name: str = "Area"
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>{name}</name>
<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates></LinearRing>
</outerBoundaryIs></Polygon></Placemark></Document></kml>""".encode()


def kmz(doc: bytes, name: str = "doc.kml") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, doc)
    return buf.getvalue()


def geojson(*rings: list[list[float]], name: str = "Area") -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": f"{name} {n}"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
                for n, ring in enumerate(rings)
            ],
        }
    ).encode()


NVG_DOC = b"""<?xml version="1.0" encoding="UTF-8"?>
<nvg:nvg xmlns:nvg="https://tide.act.nato.int/schemas/2012/10/nvg" version="2.0.2">
  <nvg:polygon label="Exercise box" points="135,34 135.2,34 135.2,34.2 135,34.2"/>
</nvg:nvg>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&xxe;</name>
<Point><coordinates>135,34</coordinates></Point></Placemark></kml>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol3;</name></Placemark></kml>"""


def zip_bomb() -> bytes:
    """A KMZ whose doc.kml is 40 MiB of spaces, compressed to some 40 KB."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("doc.kml", "w", force_zip64=True) as entry,
    ):
        chunk = b" " * (1 << 20)
        for _ in range(40):
            entry.write(chunk)
    return buf.getvalue()


def huge_coordinates() -> bytes:
    coords = " ".join(f"{135 + i * 1e-6:.6f},34" for i in range(60_000))
    return kml_doc(coords)


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = world(tmp_path_factory.mktemp("jjoc"))
    yield built
    built.node.close()


@pytest.fixture(scope="module")
def client(w: World) -> Iterator[tuple[TestClient[Any], dict[str, str], dict[str, str]]]:
    users = w.node.backend.users
    watch, token = make_user("kato", "JPN", "SECRET", [], ["watch"], w.node.groups)
    users.add_user(watch)
    aus, au_token = make_user("brown", "AUS", "SECRET", [], ["watch"], w.node.groups)
    users.add_user(aus)
    with TestClient(create_app(w.node)) as c:
        yield c, {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {au_token}"}


def post(client: Any, headers: dict[str, str], data: bytes, filename: str, **params: str) -> Any:
    params = {"kind": "zone", "label": "S//REL TO JPN, USA", **params}
    return client.post(
        "/api/v1/import", params=params, files={"file": (filename, data)}, headers=headers
    )


def zones(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/api/v1/mda/zones", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json())


def bad_input(w: World, reason: str) -> float:
    return (
        w.node.metrics.registry.get_sample_value(
            "kizuna_bad_input_total", {"source": "interop", "reason": reason}
        )
        or 0.0
    )


def test_overlays_become_zones_under_the_importers_label(client: Any, w: World) -> None:
    c, jp, au = client
    before = len(zones(c, jp))
    for data, name in (
        (kml_doc(name="KML area"), "a.kml"),
        (kmz(kml_doc(name="KMZ area")), "a.kmz"),
        (geojson(SQUARE, name="GeoJSON area"), "a.geojson"),
        (NVG_DOC, "a.nvg"),
    ):
        r = post(c, jp, data, name)
        assert r.status_code == 201, r.text
        assert r.json()["imported"] == 1 and r.json()["label"] == "//JPN SECRET//REL TO USA, JPN"
    held = zones(c, jp)
    assert len(held) == before + 4
    names = {z["name"]["en"] for z in held}
    assert {"KML area", "KMZ area", "GeoJSON area 0", "Exercise box"} <= names
    assert all(z["label_fgi"] == "//JPN SECRET//REL TO USA, JPN" for z in held[-4:])
    # The importer's label decides who sees them: not AUS.
    assert not {"KML area", "KMZ area"} & {z["name"]["en"] for z in zones(c, au)}


def test_a_file_is_imported_whole_or_not_at_all(client: Any, w: World) -> None:
    c, jp, _ = client
    before = len(zones(c, jp))
    bowtie = [[135.0, 34.0], [135.2, 34.2], [135.2, 34.0], [135.0, 34.2], [135.0, 34.0]]
    r = post(c, jp, geojson(SQUARE, bowtie), "two.geojson")
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert "feature 1" in r.json()["detail"]
    point = b'{"type": "Point", "coordinates": [135, 34]}'
    r = post(c, jp, point, "p.geojson")
    assert r.status_code == 422 and "area" in r.json()["detail"], r.text
    assert len(zones(c, jp)) == before


def test_the_importers_label_passes_the_ingress_rule(client: Any) -> None:
    c, jp, au = client
    r = post(c, au, kml_doc(), "a.kml", label="S//REL TO JPN")  # AUS may not write it
    assert r.status_code == 403, r.text
    r = post(c, jp, kml_doc(), "a.kml", label="SECRET//REL TO MARS")
    assert r.status_code == 422, r.text
    r = post(c, jp, kml_doc(), "a.kml", kind="drawing")
    assert r.status_code == 422 and "kinds: " in r.json()["detail"], r.text


@pytest.mark.parametrize(
    ("name", "build", "reason", "words"),
    [
        ("xxe.kml", lambda: XXE, "dtd", "external entities"),
        ("laughs.kml", lambda: LAUGHS, "dtd", "entity expansion"),
        ("bomb.kmz", zip_bomb, "zip_bomb", "zip bomb"),
        ("huge.kml", huge_coordinates, "too_many_positions", "positions"),
        ("huge.kmz", lambda: kmz(huge_coordinates()), "too_many_positions", "positions"),
        ("deep.geojson", lambda: b"[" * 100_000 + b"]" * 100_000, "too_deep", "nests"),
        ("junk.kmz", lambda: b"PK\x03\x04 not a zip", "bad_kmz", "KMZ"),
    ],
)
def test_hostile_files_are_refused_with_a_reason(
    client: Any, w: World, name: str, build: Any, reason: str, words: str
) -> None:
    c, jp, _ = client
    before = len(zones(c, jp))
    counted = bad_input(w, reason)
    r = post(c, jp, build(), name)
    assert r.status_code in (413, 422), r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["type"] == f"/problems/import-{reason.replace('_', '-')}", body
    assert words in body["detail"], body
    assert bad_input(w, reason) == counted + 1
    assert c.get("/healthz").status_code == 200  # the node keeps serving
    assert len(zones(c, jp)) == before
