"""AIS ship type → MIL-STD-2525D symbol (SIDC), CoT type and affiliation.

SIDC layout (MIL-STD-2525D, 20 digits), as built by :func:`sidc`:
``10`` version · context (``0`` reality, ``1`` exercise) · standard identity ·
``30`` symbol set (sea surface) · ``0`` status (present) · ``0`` HQ/TF/dummy ·
``00`` amplifier · 6-digit entity/type/subtype · ``00`` ``00`` sector modifiers.

Standard identity digits: 1 unknown, 4 neutral.

Choices (documented so an operator knows what they see):
- Civilian ship types are **neutral** (2525D identity 4, CoT ``a-n-…``), as is
  common for AIS in TAK: AIS says what a vessel claims to be, not whose side it
  is on. Operators re-identify tracks; this only sets the starting point.
- "Military operations" (35), "not available" (0) and reserved types are
  **unknown** (identity 1, CoT ``a-u-S``): a military vessel broadcasting AIS
  is not thereby friendly.

Entity codes are the sea-surface (symbol set 30) civilian entities of
MIL-STD-2525D Appendix A, as tabulated by the open-source renderer milsymbol
(``src/numbersidc/sidc`` sea surface: 140000 civilian, 140100 merchant ship,
140101 cargo, 140103 dredge, 140109 oiler/tanker, 140110 passenger ship,
140111 tug (ocean going), 140112 tow, 140113 transport ship hazardous material,
140116 hospital ship, 140200 fishing vessel, 140300 law enforcement vessel,
140400 leisure craft sailing, 140500 leisure craft motorized; 110000 military).
CoT types follow the 2525B function-id hierarchy used by TAK CoTtypes.xml
(``S-X`` non-military surface, ``X-M`` merchant, ``X-M-C`` cargo, ``X-M-O``
oiler/tanker, ``X-M-P`` passenger, ``X-M-T-U`` tug, ``X-M-T-O`` towing vessel,
``X-F`` fishing, ``X-R`` leisure craft, ``X-L`` law enforcement).
AIS ship type codes: ITU-R M.1371-5, Table 53.
"""

from __future__ import annotations

from typing import NamedTuple

SYMBOL_SET_SEA_SURFACE = "30"


class ShipSymbol(NamedTuple):
    entity: str  # 6-digit 2525D sea-surface entity code
    cot_type: str
    affiliation: str  # "neutral" or "unknown"
    identity: str  # 2525D standard identity digit
    description: str


_UNKNOWN = ShipSymbol("000000", "a-u-S", "unknown", "1", "unknown vessel")
_CIVILIAN = ShipSymbol("140000", "a-n-S-X", "neutral", "4", "civilian vessel")
_MILITARY = ShipSymbol("110000", "a-u-S", "unknown", "1", "military operations")
_MERCHANT = ShipSymbol("140100", "a-n-S-X-M", "neutral", "4", "merchant ship")


def _civ(entity: str, cot: str, text: str) -> ShipSymbol:
    return ShipSymbol(entity, cot, "neutral", "4", text)


def _build() -> tuple[ShipSymbol, ...]:
    table = [_UNKNOWN] * 256
    for code in range(20, 30):
        table[code] = _civ("140000", "a-n-S-X", "wing in ground")
    table[30] = _civ("140200", "a-n-S-X-F", "fishing")
    table[31] = _civ("140112", "a-n-S-X-M-T-O", "towing")
    table[32] = _civ("140112", "a-n-S-X-M-T-O", "towing, large")
    table[33] = _civ("140103", "a-n-S-X-M", "dredging or underwater operations")
    table[34] = _civ("140000", "a-n-S-X", "diving operations")
    table[35] = _MILITARY
    table[36] = _civ("140400", "a-n-S-X-R", "sailing")
    table[37] = _civ("140500", "a-n-S-X-R", "pleasure craft")
    for code in range(40, 50):
        table[code] = _civ("140100", "a-n-S-X-M", "high-speed craft")
    table[50] = _civ("140000", "a-n-S-X", "pilot vessel")
    table[51] = _civ("140000", "a-n-S-X", "search and rescue vessel")
    table[52] = _civ("140111", "a-n-S-X-M-T-U", "tug")
    table[53] = _civ("140000", "a-n-S-X", "port tender")
    table[54] = _civ("140000", "a-n-S-X", "anti-pollution equipment")
    table[55] = _civ("140300", "a-n-S-X-L", "law enforcement")
    table[56] = _CIVILIAN
    table[57] = _CIVILIAN
    table[58] = _civ("140116", "a-n-S-X-M", "medical transport")
    table[59] = _civ("140000", "a-n-S-X", "noncombatant ship (RR Resolution 18)")
    for code in range(60, 70):
        table[code] = _civ("140110", "a-n-S-X-M-P", "passenger")
    for code in range(70, 80):
        table[code] = _civ("140101", "a-n-S-X-M-C", "cargo")
    for code in range(71, 75):  # hazardous categories A–D
        table[code] = _civ("140113", "a-n-S-X-M-C", "cargo, hazardous category")
    for code in range(80, 90):
        table[code] = _civ("140109", "a-n-S-X-M-O", "tanker")
    for code in range(90, 100):
        table[code] = _CIVILIAN._replace(description="other type")
    return tuple(table)


SHIP_SYMBOLS: tuple[ShipSymbol, ...] = _build()


def ship_symbol(ship_type: int | None) -> ShipSymbol:
    """The symbol for an AIS ship type; unknown for None or out-of-range codes."""
    if ship_type is None or not 0 <= ship_type < 256:
        return _UNKNOWN
    return SHIP_SYMBOLS[ship_type]


def sidc(symbol: ShipSymbol, *, exercise: bool = False) -> str:
    """The 20-digit MIL-STD-2525D SIDC for a sea-surface symbol."""
    context = "1" if exercise else "0"
    return f"10{context}{symbol.identity}{SYMBOL_SET_SEA_SURFACE}0000{symbol.entity}0000"


# (ship_type or -1, exercise) → (sidc, cot_type, affiliation); filled lazily.
_CACHE: dict[tuple[int, bool], tuple[str, str, str]] = {}


def track_symbology(ship_type: int | None, exercise: bool) -> tuple[str, str, str]:
    """``(sidc, cot_type, affiliation)`` for a track, cached per ship type."""
    key = (-1 if ship_type is None else ship_type, exercise)
    hit = _CACHE.get(key)
    if hit is None:
        sym = ship_symbol(ship_type)
        hit = (sidc(sym, exercise=exercise), sym.cot_type, sym.affiliation)
        _CACHE[key] = hit
    return hit
