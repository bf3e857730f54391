"""Record types, bus topics and API shapes of the ORBAT (task organisation)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.time import DateTime

UNIT = "unit"  # record type and bus topic of units
RELATION = "unit_relation"  # record type and bus topic of relationships between units
RECORD_TYPES = (UNIT, RELATION)
EXPORT_FORMAT = "kizuna-orbat"
EXPORT_VERSION = 1

# Command relationships hold only within one nation's chain; COORDINATION links the
# two chains and is never a command relationship.
Kind = Literal["ORGANIC", "ATTACHED", "OPCON", "TACON", "ADCON", "COORDINATION"]
COMMAND_KINDS: tuple[str, ...] = ("ORGANIC", "ATTACHED", "OPCON", "TACON", "ADCON")
KINDS: tuple[str, ...] = (*COMMAND_KINDS, "COORDINATION")

Echelon = Literal[
    "team",
    "squad",
    "section",
    "platoon",
    "company",
    "battalion",
    "regiment",
    "brigade",
    "division",
    "corps",
    "army",
    "army_group",
    "region",
    "command",
]
# The MIL-STD-2525D echelon amplifier (SIDC digits 9-10) of each echelon.
ECHELON_CODES: dict[str, str] = {
    "team": "11",
    "squad": "12",
    "section": "13",
    "platoon": "14",
    "company": "15",
    "battalion": "16",
    "regiment": "17",
    "brigade": "18",
    "division": "21",
    "corps": "22",
    "army": "23",
    "army_group": "24",
    "region": "25",
    "command": "26",
}
ECHELONS: tuple[str, ...] = tuple(ECHELON_CODES)
HoldingKind = Literal["equipment", "personnel"]

_RULE = "x-kizuna-rule"
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
_NAME = msgspec.Meta(max_length=200)
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Sidc = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{20}$",
        description="MIL-STD-2525D symbol identification code (20 digits)",
    ),
]
Nation = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3")]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class Name(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    en: Annotated[str, _NAME] = ""
    ja: Annotated[str, _NAME] = ""


class Holding(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Equipment or personnel a unit holds: its authorised ``count`` and what is on hand."""

    kind: HoldingKind
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    count: Count
    on_hand: Count


class Commander(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A person holding a post in a unit; the same ``person_id`` on several units is a
    dual-hatted commander."""

    person_id: Id
    name: Name
    post: Name = Name()


class Location(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lat: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
    lon: Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]


_HOLDINGS = msgspec.Meta(max_length=200)
_COMMANDERS = msgspec.Meta(max_length=20)


class UnitIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A unit this node owns. ``nation`` defaults to the node's; ``id`` to a new one."""

    label: Marking
    name: Name
    sidc: Sidc
    echelon: Echelon
    id: Id | None = None
    nation: Nation | None = None
    hq: bool = False
    task_force: bool = False
    holdings: Annotated[list[Holding], _HOLDINGS] = []
    location: Location | None = None
    home_facility: Id | None = None  # an id of the facilities list (facilities.csv)
    commanders: Annotated[list[Commander], _COMMANDERS] = []


class UnitPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking | None = None
    name: Name | None = None
    sidc: Sidc | None = None
    echelon: Echelon | None = None
    hq: bool | None = None
    task_force: bool | None = None
    holdings: Annotated[list[Holding], _HOLDINGS] | None = None
    location: Location | None = None
    home_facility: Id | None = None
    commanders: Annotated[list[Commander], _COMMANDERS] | None = None


class UnitOut(LabelView, kw_only=True):
    id: str
    origin: str  # the owning node
    name: Name
    nation: str
    sidc: str
    echelon: Echelon
    hq: bool
    task_force: bool
    holdings: list[Holding]
    location: Location | None
    home_facility: str | None
    commanders: list[Commander]
    created_at: str
    updated_at: str


class RelationIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An edge from a subordinate (``from_unit``) to its superior (``to_unit``); for
    COORDINATION the two are peers. Valid from ``valid_from`` (default now) until
    ``valid_to`` (open when absent)."""

    label: Marking
    from_unit: Id
    to_unit: Id
    kind: Kind
    id: Id | None = None
    valid_from: DateTime | None = None
    valid_to: DateTime | None = None


class RelationPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """End an edge (``valid_to``) or relabel it; its ends and kind never change."""

    label: Marking | None = None
    valid_to: DateTime | None = None


class Resubordinate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """End the unit's current command edges of ``kind`` (any command kind when ``ends``
    is ``all``) at ``at`` and start one to ``to_unit`` there."""

    to_unit: Id
    kind: Kind
    label: Marking
    at: DateTime | None = None
    ends: Literal["same_kind", "all"] = "all"


class RelationOut(LabelView, kw_only=True):
    id: str
    origin: str
    from_unit: str
    to_unit: str
    kind: Kind
    command: bool  # a command relationship (not COORDINATION)
    valid_from: str
    valid_to: str | None
    created_at: str
    updated_at: str


class TreeUnit(msgspec.Struct, kw_only=True):
    """One unit in the tree (depth first): its superior at the instant and the edge to it."""

    unit: UnitOut
    parent: str | None
    relation: RelationOut | None
    depth: int
    children: list[str]
    # Other command edges valid at the instant (ADCON beside OPCON, say).
    other: list[RelationOut]


class TreeOut(msgspec.Struct, kw_only=True):
    at: str
    units: list[TreeUnit]
    coordination: list[RelationOut]
    # True when units are shown as recorded at ``at``; edges are always as valid at ``at``.
    historical_units: bool


class ExportUnit(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: Id
    origin: str = ""
    label: Marking
    name: Name
    nation: Nation
    sidc: Sidc
    echelon: Echelon
    hq: bool = False
    task_force: bool = False
    holdings: Annotated[list[Holding], _HOLDINGS] = []
    location: Location | None = None
    home_facility: Id | None = None
    commanders: Annotated[list[Commander], _COMMANDERS] = []


class ExportRelation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: Id
    origin: str = ""
    label: Marking
    from_unit: Id
    to_unit: Id
    kind: Kind
    valid_from: DateTime
    valid_to: DateTime | None = None


class OrbatDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The documented JSON exchange form (schema: ``orbat.schema.json`` in the package)."""

    format: Literal["kizuna-orbat"]
    version: Literal[1]
    units: Annotated[list[ExportUnit], msgspec.Meta(max_length=5000)]
    relations: Annotated[list[ExportRelation], msgspec.Meta(max_length=20000)]
    exported_at: DateTime | None = None
    exported_by: str = ""  # the exporting node (not "node": a name the API's dependencies use)


class ImportResult(msgspec.Struct, kw_only=True):
    units_created: int
    units_updated: int
    relations_created: int
    relations_updated: int
