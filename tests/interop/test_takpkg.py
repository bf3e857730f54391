"""TAK data packages and the export routes and commands, per reader."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET
import pytest
import typer
from fastkml import kml
from litestar.testing import TestClient
from typer.testing import CliRunner

from kizuna.api.app import create_app
from kizuna.core.release import may_release
from kizuna.interop.binding import verify
from kizuna.interop.cli import export_app, import_app
from kizuna.node.users import make_user
from kizuna.sources.cot.codec import label_from_event, parse_xml
from tests.interop.support import World, world
from tests.sources.fakes import FakeHandle


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = world(tmp_path_factory.mktemp("jjoc"))
    yield built
    built.node.close()


@pytest.fixture(scope="module")
def api(w: World) -> Iterator[tuple[Any, dict[str, str], dict[str, str]]]:
    tokens = []
    for name, nation in (("ito", "JPN"), ("clark", "AUS")):
        user, token = make_user(name, nation, "SECRET", [], [], w.node.groups)
        w.node.backend.users.add_user(user)
        tokens.append({"Authorization": f"Bearer {token}"})
    with TestClient(create_app(w.node)) as c:
        yield c, tokens[0], tokens[1]


def unpack(data: bytes) -> tuple[Any, dict[str, bytes]]:
    """A data package as ATAK reads it: the manifest, then every entry it names."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    manifest = DET.fromstring(files.pop("MANIFEST/manifest.xml"), forbid_dtd=True)
    return manifest, files


def test_a_data_package_matches_its_manifest_and_holds_what_the_reader_may_see(
    api: Any, w: World
) -> None:
    c, jp, au = api
    seen: dict[str, set[str]] = {}
    for who, headers, principal in (("jp", jp, w.jp.principal), ("au", au, w.au.principal)):
        r = c.get("/api/v1/export/takpkg", headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text
        manifest, files = unpack(r.content)
        assert manifest.tag == "MissionPackageManifest" and manifest.get("version") == "2"
        params = {p.get("name"): p.get("value") for p in manifest.find("Configuration")}
        assert params["uid"] and params["name"].startswith(r.headers["x-kizuna-marking"])
        entries = [e.get("zipEntry") for e in manifest.find("Contents")]
        assert sorted(entries) == sorted(files)  # every entry listed, every listed entry there
        overlay = next(e for e in entries if e.endswith(".kml"))
        assert (
            kml.KML.from_string(files[overlay])
            .features[0]
            .name.startswith(r.headers["x-kizuna-marking"])
        )
        assert verify(files[overlay], "kml").marking.startswith(r.headers["x-kizuna-marking"])
        types = set()
        for content in manifest.find("Contents"):
            entry = content.get("zipEntry")
            if not entry.endswith(".cot"):
                continue
            event = parse_xml(files[entry])  # the node's strict CoT reader
            uid = next(p.get("value") for p in content if p.get("name") == "uid")
            assert event.uid == uid and event.type in ("b-m-p-s-m", "u-d-f")
            label = label_from_event(event, None, "JPN", w.node.groups)  # type: ignore[arg-type]
            assert may_release(label, principal), (who, label)
            assert event.callsign.startswith(f"({label.render()})")
            types.add(uid.split(".")[2].split("_")[0].split("-")[0])
        seen[who] = types
    assert any("cap" in t for t in seen["jp"]) and not any("cap" in t for t in seen["au"])


def test_one_incident_as_a_data_package(api: Any, w: World) -> None:
    c, jp, _ = api
    incident = next(f for f, _ in w.interop.collect(w.jp).features if f.record_type == "incident")
    r = c.get(
        "/api/v1/export/takpkg",
        params={"record": incident.properties["incident_id"]},
        headers=jp,
    )
    _, files = unpack(r.content)
    cot = [e for e in files if e.endswith(".cot")]
    assert r.headers["x-kizuna-features"] == "1" and len(cot) == 1
    assert parse_xml(files[cot[0]]).type == "u-d-f"  # the CAP area, a drawing


def test_export_route_formats_and_problems(api: Any) -> None:
    c, jp, au = api
    r = c.get("/api/v1/export", params={"format": "geojson", "types": "track"}, headers=au)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    assert [f["id"] for f in r.json()["features"]] == ["all-u"]
    assert r.headers["x-kizuna-marking"] == "//JPN UNCLASSIFIED"
    assert "attachment" in r.headers["content-disposition"]
    r = c.get("/api/v1/export", params={"format": "shp"}, headers=jp)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    r = c.get("/api/v1/export", params={"format": "kml", "bbox": "1,2,3"}, headers=jp)
    assert r.status_code == 400, r.text
    assert c.get("/api/v1/export", params={"format": "kml"}).status_code == 401
    status = c.get("/api/v1/interop", headers=jp).json()
    assert "zone" in status["import_kinds"] and "takpkg" in status["export_formats"]


def test_kizuna_export_and_import_commands(w: World, tmp_path: Path) -> None:
    handle = FakeHandle({"interop": w.interop})
    root = typer.Typer()
    root.add_typer(export_app(lambda _: handle), name="export")
    root.add_typer(import_app(lambda _: handle), name="import")
    runner = CliRunner()
    out = tmp_path / "jones.nvg"
    args = ["export", "--dir", str(tmp_path), "--as", "jones", "--format", "nvg", "--out", str(out)]
    result = runner.invoke(root, args)
    assert result.exit_code == 0, result.output
    assert "//JPN SECRET//REL TO AUS, JPN" in result.output and "3 features" in result.output
    assert verify(out.read_bytes(), "nvg").label.render() == "//JPN SECRET//REL TO AUS, JPN"
    result = runner.invoke(root, ["export", "--dir", ".", "--as", "nobody", "--format", "kml"])
    assert result.exit_code == 2 and "no user" in result.output
    area = tmp_path / "area.geojson"
    area.write_text(
        '{"type":"Polygon","coordinates":[[[135,34],[135.1,34],[135.1,34.1],[135,34]]]}'
    )
    imp = ["import", "--dir", ".", "--as", "sato", "--kind", "zone", "--label", "U"]
    result = runner.invoke(root, [*imp, str(area)])
    assert result.exit_code == 0 and "1 zone imported" in result.output, result.output
    bomb = tmp_path / "bomb.kml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><kml/>')
    result = runner.invoke(root, [*imp, str(bomb)])
    assert result.exit_code == 1 and "DTD is not allowed" in result.output, result.output
