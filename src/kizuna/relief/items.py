"""The fixed catalogues: relief items (Japan's eight push-type basics and water) and
capability codes, with base units and default pack sizes. Names live in ``i18n/``
(``item.<code>``, ``item.<code>.pack``, ``capability.<code>``, ``unit.<unit>``).

Base units are what every quantity is held in (RFA lines included); a pack is what is
counted on a pallet: ``packs × pack_size`` gives base units.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Basis = Literal["rate", "count"]  # a capability's quantity: per day, or assets on hand

KCAL_PER_MEAL = 700.0  # Sphere's 2,100 kcal a day as three meals
LITRES_PER_M3 = 1000.0


class ReliefItem(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    unit: str  # base unit
    pack_size: float | None  # base units in one pack (case, bale), if packed
    push_basic: bool  # one of プッシュ型支援 基本8品目
    stockable: bool = True  # held at a site (covered space is not)


class CapabilityCode(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    unit: str  # the unit its quantity is given in (per day for a rate)
    basis: Basis
    # What RFA lines it can fill besides lines naming its own code: (item, line unit) →
    # base units of the line per unit of the capability (water m³ → 1,000 L).
    supplies: tuple[tuple[str, str, float], ...] = ()


ITEMS: dict[str, ReliefItem] = {
    i.code: i
    for i in (
        ReliefItem(code="food", unit="kcal", pack_size=50 * KCAL_PER_MEAL, push_basic=True),
        ReliefItem(code="infant_formula", unit="piece", pack_size=24, push_basic=True),
        ReliefItem(code="infant_diaper", unit="piece", pack_size=4 * 40, push_basic=True),
        ReliefItem(code="adult_diaper", unit="piece", pack_size=4 * 20, push_basic=True),
        ReliefItem(code="toilet", unit="unit", pack_size=None, push_basic=True),
        ReliefItem(code="toilet_paper", unit="piece", pack_size=60, push_basic=True),
        ReliefItem(code="sanitary_product", unit="piece", pack_size=24 * 20, push_basic=True),
        ReliefItem(code="blanket", unit="piece", pack_size=10, push_basic=True),
        ReliefItem(code="water", unit="L", pack_size=6 * 2.0, push_basic=False),
        ReliefItem(
            code="shelter_space", unit="m2", pack_size=None, push_basic=False, stockable=False
        ),
    )
}

CAPABILITIES: dict[str, CapabilityCode] = {
    c.code: c
    for c in (
        CapabilityCode(code="airlift_sortie", unit="sortie", basis="rate"),
        CapabilityCode(code="helicopter", unit="unit", basis="count"),
        CapabilityCode(code="ship", unit="unit", basis="count"),
        CapabilityCode(code="ground_transport", unit="unit", basis="count"),
        CapabilityCode(
            code="water_production",
            unit="m3",
            basis="rate",
            supplies=(("water", "L", LITRES_PER_M3),),
        ),
        CapabilityCode(
            code="field_kitchen",
            unit="meal",
            basis="rate",
            supplies=(("food", "meal", 1.0), ("food", "kcal", KCAL_PER_MEAL)),
        ),
        CapabilityCode(code="bath_facility", unit="person", basis="rate"),
        CapabilityCode(code="medical_bed", unit="bed", basis="count"),
        CapabilityCode(code="medical_team", unit="team", basis="count"),
        CapabilityCode(code="engineer_team", unit="team", basis="count"),
        CapabilityCode(code="search_rescue_team", unit="team", basis="count"),
    )
}

UNITS = ("L", "kcal", "meal", "piece", "unit", "m2", "m3", "person", "sortie", "bed", "team")
MODES: tuple[Literal["push", "pull"], ...] = ("push", "pull")
AVAILABILITY = ("open", "full", "closed")
