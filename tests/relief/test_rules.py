"""Pure relief rules: the Sphere figures, packs, matching, the catalogue."""

from __future__ import annotations

import math

import pytest

from kizuna.core.catalog import Catalog, missing_keys
from kizuna.core.records import Text
from kizuna.relief import plugin
from kizuna.relief.items import CAPABILITIES, ITEMS, MODES, UNITS
from kizuna.relief.models import DraftLine
from kizuna.relief.rules import (
    DAY,
    Offerable,
    factor,
    fits,
    in_packs,
    needs,
    stock_quantity,
)

NOW = 1_750_000_000.0


def by_item(lines: list[DraftLine]) -> dict[str, DraftLine]:
    return {line.item: line for line in lines}


def test_water_for_twenty_thousand_people_for_three_days_is_900000_litres() -> None:
    water = by_item(needs(20_000, 3))["water"]
    assert (water.kind, water.unit, water.quantity) == ("item", "L", 900_000.0)
    # 2 L bottles, six to a case: 75,000 cases, and packs × pack size is the quantity
    assert (water.pack_size, water.packs) == (12.0, 75_000.0)
    assert water.packs * water.pack_size == water.quantity
    assert "20,000" in water.description.en and "15 L" in water.description.en
    assert "スフィア" in water.description.ja


def test_sphere_figures_exactly() -> None:
    lines = by_item(needs(20_000, 3))
    assert set(lines) == {"water", "food", "toilet", "shelter_space"}
    assert lines["food"].quantity == 20_000 * 3 * 2_100 == 126_000_000
    assert lines["food"].unit == "kcal"
    assert lines["toilet"].quantity == 1_000 and lines["toilet"].unit == "unit"
    assert lines["shelter_space"].quantity == 70_000 and lines["shelter_space"].unit == "m2"
    assert lines["shelter_space"].packs is None


def test_counts_round_up() -> None:
    lines = by_item(needs(21, 1))
    assert lines["toilet"].quantity == 2  # 21 people need two toilets, not 1.05
    assert lines["shelter_space"].quantity == 73.5
    # 315 L is 26.25 cases: 27 whole cases, 324 L
    assert (lines["water"].packs, lines["water"].quantity) == (27, 324)
    # 44,100 kcal is 1.26 cases of 50 meals: two cases
    assert lines["food"].packs == 2 and lines["food"].quantity == 70_000


def test_fractional_days_are_exact() -> None:
    # 0.1 day as written, not as a binary float: 1,000 people × 0.1 × 15 = 1,500 L = 125 cases
    water = by_item(needs(1_000, 0.1))["water"]
    assert (water.packs, water.quantity) == (125, 1_500)


def test_no_people_no_lines() -> None:
    assert needs(0, 3) == []


@pytest.mark.parametrize(
    ("quantity", "size", "expected"),
    [(12, 12, (12, 1)), (12.0001, 12, (24, 2)), (0, 12, (0, 0)), (7, None, (7, None))],
)
def test_pack_rounding(quantity: float, size: float | None, expected: tuple) -> None:
    assert in_packs(quantity, size) == expected


def test_stock_packs_convert_to_base_units() -> None:
    assert stock_quantity("water", None, 100, None) == (1_200.0, 12.0)
    assert stock_quantity("blanket", 35, None, None) == (35.0, 10.0)
    assert stock_quantity("water", None, 10, 24.0) == (240.0, 24.0)  # 12 × 2 L cases
    for bad in (
        ("wine", 1, None, None),  # unknown item
        ("shelter_space", 1, None, None),  # not stocked
        ("water", 1, 1, None),  # both
        ("water", None, None, None),  # neither
        ("toilet", None, 3, None),  # no pack size to convert
        ("water", -1, None, None),
        ("water", None, 1, 0.0),
    ):
        with pytest.raises(ValueError):
            stock_quantity(*bad)


# -- matching ---------------------------------------------------------------------------


def line(item: str, quantity: float, unit: str) -> DraftLine:
    kind = "capability" if item in CAPABILITIES else "item"
    return DraftLine(item=item, kind=kind, description=Text(en=item), quantity=quantity, unit=unit)


def cap(code: str, quantity: float, **kw: float | None) -> Offerable:
    return Offerable(
        code=code,
        quantity=quantity,
        available_from=kw.get("available_from"),
        available_to=kw.get("available_to"),
        readiness_hours=kw.get("readiness_hours") or 0.0,
    )


def test_factors() -> None:
    assert factor("water_production", "water", "L") == 1000.0
    assert factor("water_production", "water", "kcal") is None
    assert factor("field_kitchen", "food", "kcal") == 700.0
    assert factor("helicopter", "helicopter", "unit") == 1.0
    assert factor("helicopter", "ship", "unit") is None


def test_a_water_plant_covers_litres_over_the_days_it_overlaps() -> None:
    water = line("water", 900_000, "L")
    caps = [
        cap("water_production", 100),  # 100 m³ a day for 3 days: 300,000 L
        cap("water_production", 100, available_from=NOW + DAY),  # two of the three days
        cap("water_production", 100, readiness_hours=36),  # ready 1.5 days in
        cap("water_production", 100, available_to=NOW - 1),  # gone
        cap("medical_bed", 50),  # not water
    ]
    found = {f.index: f for f in fits(water, caps, NOW, NOW + 3 * DAY, NOW)}
    assert set(found) == {0, 1, 2}
    assert math.isclose(found[0].covers, 300_000) and found[0].whole_window
    assert math.isclose(found[1].covers, 200_000) and not found[1].whole_window
    assert math.isclose(found[2].covers, 150_000)
    assert math.isclose(found[0].fraction, 1 / 3)
    assert [f.index for f in fits(water, caps, NOW, NOW + 3 * DAY, NOW)] == [0, 1, 2]


def test_counts_cover_up_to_the_line() -> None:
    beds = line("medical_bed", 40, "bed")
    found = fits(beds, [cap("medical_bed", 100), cap("medical_bed", 10)], NOW, NOW + DAY, NOW)
    assert [(f.index, f.covers, f.fraction) for f in found] == [(0, 40, 1.0), (1, 10, 0.25)]


def test_a_capability_ready_only_after_the_need_does_not_fit() -> None:
    helos = line("helicopter", 4, "unit")
    assert fits(helos, [cap("helicopter", 4, readiness_hours=48)], NOW, NOW + DAY, NOW) == []


# -- the catalogue and the record types ------------------------------------------------------


def test_catalog_is_complete_in_both_languages() -> None:
    assert missing_keys("kizuna.relief") == {"en": [], "ja": []}


def test_every_code_unit_and_mode_has_a_name() -> None:
    cat = Catalog("kizuna.relief")
    keys = [f"item.{c}" for c in ITEMS] + [f"capability.{c}" for c in CAPABILITIES]
    keys += [f"item.{c}.pack" for c, i in ITEMS.items() if i.pack_size]
    keys += [f"unit.{u}" for u in UNITS] + [f"mode.{m}" for m in MODES]
    for key in keys:
        text = cat.text(key)
        assert text.en and text.ja, key
    assert cat.text("mode.push").ja == "プッシュ型支援"
    assert cat.text("mode.pull").ja == "プル型支援"


def test_the_eight_push_type_basics() -> None:
    basics = {c for c, i in ITEMS.items() if i.push_basic}
    assert basics == {
        "food",
        "infant_formula",
        "infant_diaper",
        "adult_diaper",
        "toilet",
        "toilet_paper",
        "sanitary_product",
        "blanket",
    }
    assert ITEMS["water"].unit == "L" and ITEMS["water"].pack_size == 12.0


def test_every_record_type_is_owned_by_its_origin() -> None:
    owners = {rt.name: rt.owner for rt in plugin.record_types()}
    assert set(owners) == {"capability", "stock", "shelter", "relief_plan"}
