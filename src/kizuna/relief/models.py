"""API shapes of the relief domain: capabilities, stocks, shelters, relief plans, needs."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Position, Text
from kizuna.core.text import MAX_BODY, MAX_TITLE
from kizuna.core.time import DATE_TIME, DateTime
from kizuna.relief.items import CAPABILITIES, ITEMS

CAPABILITY = "capability"
STOCK = "stock"
SHELTER = "shelter"
RELIEF_PLAN = "relief_plan"

Mode = Literal["push", "pull"]
Availability = Literal["open", "full", "closed"]
Kind = Literal["item", "people", "capability"]

# Checks made after decoding that the node's OpenAPI document spells out (kizuna.api.document).
_RULE = "x-kizuna-rule"
# A boolean as the document gives it: Litestar converts a body leniently, and a plain bool
# would take 0, 1, "true" and "0" too; a Literal of the two is decoded strictly.
StrictBool = Literal[True, False]
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
MarkingOrEmpty = Annotated[
    str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking-or-empty"})
]
_NAME = msgspec.Meta(
    extra_json_schema={_RULE: {"text": "Title", "max_length": MAX_TITLE, "needs_text": True}}
)
_BODY = msgspec.Meta(
    extra_json_schema={_RULE: {"text": "Body", "max_length": MAX_BODY, "needs_text": False}}
)
# Positions are checked by the service (a bad one is a 422 naming the field).
_WHERE = msgspec.Meta(extra_json_schema={_RULE: "position"})
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# No white space (what Python's \s matches, spelled out: JavaScript's \s is another set),
# and no /, ? or #.
_SPACE = r"\t\n\x0b\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=f"^[^{_SPACE}/?#]+$")]
Short = Annotated[str, msgspec.Meta(max_length=200)]
# Unit or asset names: not blank (checked by the service).
UnitName = Annotated[
    str, msgspec.Meta(max_length=200, extra_json_schema={"allOf": [{_RULE: "not-blank"}]})
]
# The codes and numbers below are checked by the service (rules.py: a 422 naming the field
# and the bound, or the known codes); the document states the same bounds.
CapabilityCodeName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, extra_json_schema={"enum": list(CAPABILITIES)})
]
StockItem = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        extra_json_schema={"enum": [code for code, i in ITEMS.items() if i.stockable]},
    ),
]
MAX_QUANTITY = 1e12  # rules.MAX_QUANTITY
Quantity = Annotated[float, msgspec.Meta(extra_json_schema={"minimum": 0, "maximum": MAX_QUANTITY})]
Positive = Annotated[
    float, msgspec.Meta(extra_json_schema={"exclusiveMinimum": 0, "maximum": MAX_QUANTITY})
]
# rules.MAX_READINESS_HOURS: a year
Readiness = Annotated[float, msgspec.Meta(extra_json_schema={"minimum": 0, "maximum": 24 * 365})]
Count = Annotated[int, msgspec.Meta(extra_json_schema={"minimum": 0, "maximum": 10_000_000})]
# rules.MAX_DAYS, rules.MAX_POPULATION
Days = Annotated[float, msgspec.Meta(extra_json_schema={"exclusiveMinimum": 0, "maximum": 365})]
Population = Annotated[int, msgspec.Meta(extra_json_schema={"minimum": 0, "maximum": 50_000_000})]
TimeOrEmpty = Annotated[
    str,
    msgspec.Meta(
        pattern=f"^(?:{DATE_TIME[1:-1]})?$",
        description="ISO 8601 date and time; an empty string clears it",
    ),
]


class Where(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A position as written (WGS 84 degrees); the service checks its range."""

    lat: float
    lon: float


# -- lines (the shape of assistance's LineIn) ------------------------------------------


class DraftLine(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A draft RFA line: ``packs × pack_size`` gives ``quantity`` (base units)."""

    item: str
    kind: Kind
    description: Text
    quantity: float
    unit: str
    pack_size: float | None = None
    packs: float | None = None


# -- capabilities -----------------------------------------------------------------------


class CapabilityIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking
    code: CapabilityCodeName
    quantity: Positive  # per day for a rate capability, on hand for a count
    unit_name: UnitName  # the unit or asset ("1st Helicopter Brigade", "JS Osumi")
    military: StrictBool = True
    available_from: DateTime | None = None
    available_to: DateTime | None = None
    readiness_hours: Readiness = 0.0  # notice needed before it can start
    caveats: Annotated[Text, _BODY] = Text()
    position: Annotated[Where | None, _WHERE] = None  # home base
    incident_id: Ref | None = None


class CapabilityPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: MarkingOrEmpty | None = None
    quantity: Positive | None = None
    unit_name: UnitName | None = None
    military: StrictBool | None = None
    available_from: TimeOrEmpty | None = None
    available_to: TimeOrEmpty | None = None
    readiness_hours: Readiness | None = None
    caveats: Annotated[Text | None, _BODY] = None
    position: Annotated[Where | None, _WHERE] = None
    incident_id: Ref | None = None


class CapabilityOut(LabelView, kw_only=True):
    id: str
    origin: str
    nation: str
    code: str
    name: Text
    unit: str
    basis: Literal["rate", "count"]
    quantity: float
    unit_name: str
    military: bool
    available_from: str | None
    available_to: str | None
    readiness_hours: float
    caveats: Text
    position: Position | None
    incident_id: str | None
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str


class MatchIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    lines: Annotated[list[DraftLine], msgspec.Meta(min_length=1, max_length=1000)]
    start: DateTime | None = None  # when the need starts (default: now)
    days: Days = 1.0  # how long it lasts


class CapabilityCandidate(msgspec.Struct, kw_only=True):
    capability: CapabilityOut
    covers: float  # of the line, in the line's base units
    fraction: float  # covers / the line's quantity
    whole_window: bool  # available (after its readiness) over the whole need


class LineMatch(msgspec.Struct, kw_only=True):
    line: int  # index in the lines given
    item: str
    unit: str
    quantity: float
    candidates: list[CapabilityCandidate]
    covered: float  # all candidates together, at most the line's quantity
    gap: float


# -- stocks -----------------------------------------------------------------------------


class StockIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Give ``quantity`` in base units, or ``packs`` (of ``pack_size``, default the item's)."""

    label: Marking
    site_id: Ref
    site_name: Annotated[Text, _NAME]
    position: Annotated[Where, _WHERE]
    item: StockItem
    quantity: Quantity | None = None
    packs: Quantity | None = None
    pack_size: Positive | None = None
    incident_id: Ref | None = None


class StockPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: MarkingOrEmpty | None = None
    site_name: Annotated[Text | None, _NAME] = None
    position: Annotated[Where | None, _WHERE] = None
    quantity: Quantity | None = None
    packs: Quantity | None = None
    pack_size: Positive | None = None
    incident_id: Ref | None = None


class StockOut(LabelView, kw_only=True):
    id: str
    origin: str
    nation: str
    site_id: str
    site_name: Text
    position: Position
    item: str
    item_name: Text
    unit: str
    quantity: float
    pack_size: float | None
    packs: float | None  # quantity in packs (fractional when a pack is broken)
    incident_id: str | None
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str


# -- shelters ---------------------------------------------------------------------------


class ShelterIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking
    name: Annotated[Text, _NAME]
    municipality: Annotated[Text, _NAME]
    municipality_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{5,6}$")] | None = None
    position: Annotated[Where, _WHERE]
    capacity_day: Count
    capacity_night: Count
    population_day: Count = 0
    population_night: Count = 0
    availability: Availability = "open"
    incident_id: Ref | None = None


class ShelterPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: MarkingOrEmpty | None = None
    name: Annotated[Text | None, _NAME] = None
    municipality: Annotated[Text | None, _NAME] = None
    municipality_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{5,6}$")] | None = None
    position: Annotated[Where | None, _WHERE] = None
    capacity_day: Count | None = None
    capacity_night: Count | None = None
    population_day: Count | None = None
    population_night: Count | None = None
    availability: Availability | None = None
    incident_id: Ref | None = None


class ShelterOut(LabelView, kw_only=True):
    id: str
    origin: str
    name: Text
    municipality: Text
    municipality_code: str | None
    position: Position
    capacity_day: int
    capacity_night: int
    population_day: int
    population_night: int
    availability: Availability
    availability_name: Text
    over_capacity_day: bool  # allowed, and flagged
    over_capacity_night: bool
    incident_id: str | None
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str


# -- relief plans (push → pull) -----------------------------------------------------------


class ReliefPlanIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking
    incident_id: Ref
    mode: Mode = "push"
    reason: Annotated[Text, _BODY] = Text()
    switched_at: DateTime | None = None  # default: now


class ReliefPlanPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A switch of mode (push ↔ pull), with its reason; or a relabel alone."""

    label: MarkingOrEmpty | None = None
    mode: Mode | None = None
    reason: Annotated[Text | None, _BODY] = None
    switched_at: DateTime | None = None


class PlanChange(msgspec.Struct, kw_only=True):
    mode: Mode
    mode_name: Text
    switched_at: str
    by: str
    reason: Text


class ReliefPlanOut(LabelView, kw_only=True):
    id: str
    origin: str
    incident_id: str
    mode: Mode
    mode_name: Text
    switched_at: str
    by: str
    reason: Text
    history: list[PlanChange]  # oldest first, the current mode last
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str


# -- needs ------------------------------------------------------------------------------


class NeedsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``population`` (or the shelter's, the larger of day and night) for ``days``."""

    days: Days
    population: Population | None = None
    shelter_id: Ref | None = None


class NeedsOut(msgspec.Struct, kw_only=True):
    population: int
    days: float
    shelter_id: str | None
    shelter_name: Text | None
    lines: list[DraftLine]


# -- the catalogue ----------------------------------------------------------------------


class ItemOut(msgspec.Struct, kw_only=True):
    code: str
    name: Text
    unit: str
    unit_name: Text
    pack_size: float | None
    pack: Text | None  # what one pack is ("case of 6 × 2 L bottles")
    push_basic: bool
    stockable: bool


class CapabilityCodeOut(msgspec.Struct, kw_only=True):
    code: str
    name: Text
    unit: str
    unit_name: Text
    basis: Literal["rate", "count"]


class ModeOut(msgspec.Struct, kw_only=True):
    code: Mode
    name: Text


class CatalogueOut(msgspec.Struct, kw_only=True):
    items: list[ItemOut]
    capabilities: list[CapabilityCodeOut]
    modes: list[ModeOut]
