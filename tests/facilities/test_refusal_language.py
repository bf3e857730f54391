"""A training area's problems and an import's bad feature, read in English and in Japanese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kizuna.core.errors import Invalid
from kizuna.facilities import plugin as facilities_plugin
from tests.access.support import start

BOW_TIE = [[[139, 34], [139.2, 34.2], [139.2, 34], [139, 34.2]]]


def _feature(coordinates: Any, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": coordinates},
        "properties": {"name_en": "Imported", **props},
    }


def test_a_bad_area_in_an_import_is_explained_in_either_language(tmp_path: Path) -> None:
    node = start("jjoc", "JPN", root=tmp_path)
    with pytest.raises(Invalid) as err:
        facilities_plugin.import_features(
            node.facilities, node.user("jp"), "training_area", [_feature(BOW_TIE)], "U"
        )
    assert err.value.render("en") == (
        "feature 1: bad training area: polygon: its edges cross or touch (not a simple polygon)"
    )
    assert err.value.render("ja") == (
        "地物 1: 訓練区域の内容が正しくありません: "
        "polygon: 辺が交差または接触しています（単純多角形ではありません）"
    )


def test_a_feature_that_is_not_a_polygon_is_refused_in_japanese(tmp_path: Path) -> None:
    node = start("jjoc", "JPN", root=tmp_path)
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [139, 34]}}
    with pytest.raises(Invalid) as err:
        facilities_plugin.import_features(
            node.facilities, node.user("jp"), "training_area", [point], "U"
        )
    assert err.value.render("en") == "feature 1: a training area is a Polygon, not 'Point'"
    assert err.value.extra["errors"] == ["feature 1: a training area is a Polygon, not 'Point'"]
    assert (
        err.value.render("ja")
        == "地物 1: 訓練区域は Polygon でなければなりません（'Point' は不可）"
    )


def test_a_ceiling_below_the_floor_is_one_of_the_problems(tmp_path: Path) -> None:
    node = start("jjoc", "JPN", root=tmp_path)
    ring = [[[139, 34], [139.2, 34], [139.2, 34.2], [139, 34]]]
    with pytest.raises(Invalid) as err:
        facilities_plugin.import_features(
            node.facilities,
            node.user("jp"),
            "training_area",
            [_feature(ring, floor_m=3000, ceiling_m=1000)],
            "U",
        )
    assert err.value.render("en").endswith("altitude: the ceiling must be above the floor")
    assert err.value.render("ja").endswith("altitude: 上限高度は下限高度より高くなければなりません")
