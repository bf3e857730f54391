"""MIL-STD-2525D symbol identification codes (SIDC) from CoT types.

A CoT type such as ``a-f-G-U-C`` names atom, affiliation, battle dimension
and function. The 20-digit 2525D SIDC is laid out as::

    version(2) context(1) identity(1) set(2) status(1) hq/tf/dummy(1)
    amplifier(2) entity(6) modifier1(2) modifier2(2)

Only a few common entities are mapped; anything else gets entity ``000000``
(the frame and dimension still render correctly).
"""

from __future__ import annotations

# affiliation letter -> (standard identity digit, name, forces exercise context)
_IDENTITY: dict[str, tuple[str, str, bool]] = {
    "p": ("0", "pending", False),
    "u": ("1", "unknown", False),
    "a": ("2", "assumed friend", False),
    "f": ("3", "friend", False),
    "n": ("4", "neutral", False),
    "s": ("5", "suspect", False),
    "h": ("6", "hostile", False),
    "j": ("5", "joker", True),  # exercise suspect
    "k": ("6", "faker", True),  # exercise hostile
}

# battle dimension letter -> symbol set
_SYMBOL_SET = {"A": "01", "P": "05", "G": "10", "S": "30", "U": "35", "F": "10"}

# (symbol set, CoT function prefix after the dimension) -> entity; longest prefix wins
_ENTITY: dict[str, dict[str, str]] = {
    "01": {
        "M": "110000",  # military
        "M-F": "110100",  # fixed wing
        "M-H": "110200",  # rotary wing
        "M-Q": "110300",  # unmanned aircraft
        "C": "120000",  # civilian
        "C-F": "120100",
        "C-H": "120200",
    },
    "10": {
        "U-C": "121100",  # ATAK's default "combat" SA type is drawn as infantry
        "U-C-I": "121100",  # infantry
        "U-C-A": "120500",  # armour
        "U-C-R": "121300",  # reconnaissance
        "U-C-E": "140700",  # engineer
        "U-U-M": "161300",  # medical
    },
    "15": {
        "E-V": "120000",  # ground vehicle
        "E-V-C": "120000",
    },
    "30": {
        "C": "120000",  # military combatant
        "N": "130000",  # military non-combatant
        "X": "140000",  # civilian / merchant
    },
    "35": {
        "S": "110000",  # submarine
    },
}


def _parts(cot_type: str) -> list[str]:
    return cot_type.strip().split("-")


def affiliation_from_cot_type(cot_type: str) -> str:
    """``friend``, ``hostile``, ``unknown``, … from the CoT affiliation letter."""
    parts = _parts(cot_type)
    if len(parts) >= 2 and parts[0] == "a":
        entry = _IDENTITY.get(parts[1].lower())
        if entry:
            return entry[1]
    return "unknown"


def sidc_from_cot_type(cot_type: str, exercise: bool = False) -> str:
    """The 20-digit 2525D SIDC for a CoT type; unknown parts fall back safely."""
    parts = _parts(cot_type)
    identity, forced_exercise = "1", False
    if len(parts) >= 2 and parts[0] == "a":
        entry = _IDENTITY.get(parts[1].lower())
        if entry:
            identity, _, forced_exercise = entry
    dimension = parts[2].upper() if len(parts) >= 3 else ""
    symbol_set = _SYMBOL_SET.get(dimension, "10")
    function = [p.upper() for p in parts[3:]]
    if dimension == "G" and function[:1] == ["E"]:
        symbol_set = "15"
    elif dimension == "G" and function[:1] == ["I"]:
        symbol_set = "20"
    entity = "000000"
    table = _ENTITY.get(symbol_set, {})
    for n in range(len(function), 0, -1):
        hit = table.get("-".join(function[:n]))
        if hit:
            entity = hit
            break
    context = "1" if exercise or forced_exercise else "0"
    return f"10{context}{identity}{symbol_set}0000{entity}0000"


def exercise_context(sidc: str) -> str:
    """``sidc`` with the 2525D context digit (the third) set to exercise (``1``) where it
    says reality (``0``): an exercise-marked track never shows as real."""
    if len(sidc) == 20 and sidc[2] == "0":
        return f"{sidc[:2]}1{sidc[3:]}"
    return sidc
