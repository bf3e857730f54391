"""Reference facilities: the CSV named in the settings, release, the route."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import TestClient

from kizuna.api.app import create_app
from kizuna.core.labels import Classification
from kizuna.core.release import make_principal
from kizuna.facilities import FacilitiesSettings, plugin
from kizuna.facilities.rules import facility_from_row
from kizuna.facilities.service import ENV, FacilityService
from kizuna.kernel.context import Caller
from kizuna.kernel.testing import memory_context
from kizuna.store.base import User
from tests.nodes import NodeProcess
from tests.picture.support import in_process_node, user_token

CSV = """id,name_en,name_ja,nation,kind,lat,lon,notes
yokota,Yokota Air Base,横田飛行場,usa,air_base,35.7486,139.3486,USFJ HQ
nolat,No Latitude,,JPN,port,,139.0,
far,Off the Map,,JPN,port,95.0,139.0,
,No Id,,JPN,port,35.0,139.0,
yokosuka, Yokosuka ,横須賀,USA,naval_base,35.2833,139.6667
"""


def caller(nation: str, clearance: Classification) -> Caller:
    user = User(name="u", nation=nation, clearance=clearance.name)
    return Caller(user, make_principal(nation, clearance))


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)


def service(tmp_path: Path, csv: str = "", nation: str = "JPN") -> FacilityService:
    ctx = memory_context("jjoc", nation, root=tmp_path, settings=FacilitiesSettings(csv=csv))
    started = plugin.start(ctx)
    assert isinstance(started, FacilityService)
    return started


def test_rows_are_validated() -> None:
    fac = facility_from_row(
        {"id": " k ", "name_en": "K", "nation": "jpn", "kind": "port", "lat": "1", "lon": "2"}
    )
    assert (fac.id, fac.name_ja, fac.nation, fac.lat, fac.lon) == ("k", "", "JPN", 1.0, 2.0)
    for bad in (
        {"id": "x", "lat": "91", "lon": "0"},
        {"id": "x", "lat": "0", "lon": "-181"},
        {"id": "", "lat": "0", "lon": "0"},
        {"id": "x", "lat": "north", "lon": "0"},
        {"id": "x", "lon": "0"},
        {"id": "x", "lat": None, "lon": "0"},
    ):
        with pytest.raises((KeyError, ValueError, TypeError, AttributeError)):
            facility_from_row(bad)


def test_a_relative_csv_is_read_from_the_node_directory_and_bad_rows_skipped(
    tmp_path: Path,
) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "facilities.csv").write_text(CSV, encoding="utf-8")
    svc = service(tmp_path, "ref/facilities.csv")
    assert svc.path == tmp_path / "ref" / "facilities.csv"
    facilities = svc.all()
    assert [(f.id, f.name_en, f.nation) for f in facilities] == [
        ("yokota", "Yokota Air Base", "USA"),
        ("yokosuka", "Yokosuka", "USA"),
    ]
    assert svc.all() is facilities  # read once


def test_absolute_path_environment_fallback_and_nothing_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(CSV, encoding="utf-8")
    assert len(service(tmp_path, str(path)).all()) == 2
    assert service(tmp_path).path is None and service(tmp_path).all() == []
    monkeypatch.setenv(ENV, str(path))
    assert service(tmp_path).path == path  # the settings name no file: the environment does
    assert service(tmp_path, "missing.csv").all() == []  # unreadable: logged, empty


def test_facilities_are_unclassified_from_our_nation_and_release_checked(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(CSV, encoding="utf-8")
    svc = service(tmp_path, str(path), nation="JPN")
    assert svc.label.classification is Classification.UNCLASSIFIED
    assert svc.label.originator == "JPN"
    assert len(svc.visible(caller("AUS", Classification.UNCLASSIFIED))) == 2


def test_route_answers_todays_json(tmp_path: Path) -> None:
    from kizuna.picture import plugin as picture

    csv = tmp_path / "f.csv"
    csv.write_text(CSV, encoding="utf-8")
    node = in_process_node(
        tmp_path / "usfj", [picture, plugin], facilities={"csv": str(csv.resolve())}
    )
    try:
        token = user_token(node, "kenji", "JPN", "UNCLASSIFIED")
        with TestClient(create_app(node)) as client:
            got = client.get("/api/v1/facilities", headers={"Authorization": f"Bearer {token}"})
            assert client.get("/api/v1/facilities").status_code == 401
            schema = client.get("/api/docs/openapi.json").json()["paths"]["/api/v1/facilities"]
    finally:
        node.close()
    assert got.status_code == 200, got.text
    yokota = got.json()[0]
    assert yokota == {
        "id": "yokota",
        "name": {"en": "Yokota Air Base", "ja": "横田飛行場"},
        "nation": "USA",
        "kind": "air_base",
        "lat": 35.7486,
        "lon": 139.3486,
        # added by issue 14 (the old fields unchanged): its basis and managing authority
        "basis": "sofa_ii_4a",
        "authority": {
            "en": "U.S. Forces Japan (joint use with the JASDF Air Defense Command)",
            "ja": "在日米軍（航空総隊と共同使用）",
        },
        "label": "UNCLASSIFIED",
        "label_fgi": "UNCLASSIFIED",  # our own nation: no FGI marking
        "label_ja": yokota["label_ja"],
        "classification": "UNCLASSIFIED",
        "rel_to": [],
        "noforn": False,
        "exercise": False,
        "originator": "USA",
    }
    assert yokota["label_ja"]
    assert schema["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def test_facilities_on_a_real_node(
    node_factory: Callable[..., NodeProcess], shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, str(shared_data / "reference" / "facilities.csv"))
    node = node_factory("jjoc", "JPN")
    kenji = node.user("kenji", "JPN", "UNCLASSIFIED")
    facilities = kenji.get("/api/v1/facilities").json()
    yokota = next(f for f in facilities if f["id"] == "yokota")
    assert yokota["name"] == {"en": "Yokota Air Base", "ja": "横田飛行場"}
    assert (yokota["nation"], yokota["kind"]) == ("USA", "air_base")
    assert yokota["label"] == "UNCLASSIFIED" and yokota["originator"] == "JPN"
    assert yokota["label_fgi"] == "//JPN UNCLASSIFIED"
    assert len(facilities) >= 10


def test_no_facilities_configured(node_factory: Callable[..., NodeProcess]) -> None:
    node = node_factory("usfj", "USA")
    assert node.user("alice", "USA", "SECRET").get("/api/v1/facilities").json() == []
