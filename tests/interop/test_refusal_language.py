"""Import refusals, geometry and binding problems read in English and in Japanese."""

from __future__ import annotations

import pytest

from kizuna.interop import geometry as geo
from kizuna.interop.binding import BindingError, verify
from kizuna.interop.imports import ImportRefused, read_overlay
from kizuna.interop.service import Refused


def _japanese(text: str) -> bool:
    return any("\u3040" <= c <= "\u9fff" for c in text)


def _refused(data: bytes, fmt: str) -> Refused:
    with pytest.raises(ImportRefused) as err:
        read_overlay(data, fmt)
    return Refused(err.value)


def test_an_import_refusal_is_rendered_in_the_callers_language() -> None:
    out = _refused(b"<!DOCTYPE kml><kml/>", "kml")
    assert out.kind == "import-dtd"
    assert out.render("en") == (
        "a DTD is not allowed (entity expansion and external entities are refused)"
    )
    assert out.render("ja") == "DTD は使用できません（実体展開と外部実体は拒否します）"


def test_a_geometry_problem_inside_an_import_refusal_follows_the_language() -> None:
    point = b'{"type":"Feature","properties":{"name":"buoy"},"geometry":{"type":"Point","coordinates":[500,1]}}'
    out = _refused(point, "geojson")
    assert out.kind == "import-bad-geometry"
    assert out.render("en") == "feature 'buoy': position (500.0, 1.0) is out of range"
    assert out.render("ja") == "地物 'buoy': 座標点 (500.0, 1.0) が範囲外です"


def test_geometry_and_binding_errors_carry_a_message() -> None:
    with pytest.raises(geo.GeometryError) as gerr:
        geo.count({"type": "Polygon", "coordinates": []})
    assert _japanese(gerr.value.message.render("ja")) and not _japanese(str(gerr.value))
    with pytest.raises(BindingError) as berr:
        verify(b"hello", "csv")
    assert str(berr.value) == "a labelled CSV starts with marking, label and digest lines"
    assert _japanese(berr.value.message.render("ja"))
