"""Access arrangements (SOFA, RAAs) and the verdicts of the access check: shapes, vocabulary."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.labels import COUNTRIES
from kizuna.core.records import Text
from kizuna.core.time import DateTime

ACCESS_ARRANGEMENT = "access_arrangement"

# What a visiting force does; reservations and exercises name the same activities.
ACTIVITIES: tuple[str, ...] = (
    "live_fire",
    "flight",
    "maritime",
    "ground_manoeuvre",
    "port_call",
    "training",
)
Activity = Literal["live_fire", "flight", "maritime", "ground_manoeuvre", "port_call", "training"]

# The basis on which a facility or area is used (SOFA Article II and others).
BASES: tuple[str, ...] = ("sofa_ii_1", "sofa_ii_4a", "sofa_ii_4b", "jsdf", "other")
Basis = Literal["sofa_ii_1", "sofa_ii_4a", "sofa_ii_4b", "jsdf", "other"]

InstrumentKind = Literal["sofa", "raa", "other"]

# Why a check decided as it did (the catalog has a text for each: ``reason.<code>``).
REASONS: tuple[str, ...] = (
    "covered",
    "host_nation",
    "no_instrument",
    "not_in_force",
    "activity_not_covered",
    "facility_not_covered",
    "unknown_facility",
    "unknown_activity",
)

_RULE = "x-kizuna-rule"
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Date = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description="a calendar date, YYYY-MM-DD (the day in Japan, JST)",
    ),
]
Nation = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=3,
        pattern=r"^[A-Z]{3}$",
        extra_json_schema={"enum": sorted(COUNTRIES)},
    ),
]
Nations = Annotated[list[Nation], msgspec.Meta(min_length=1, max_length=50)]
Activities = Annotated[list[Activity], msgspec.Meta(min_length=1, max_length=len(ACTIVITIES))]
BasisList = Annotated[list[Basis], msgspec.Meta(max_length=len(BASES))]
FacilityIds = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=128)]], msgspec.Meta(max_length=500)
]


class Arrangement(msgspec.Struct, frozen=True, kw_only=True):
    """An instrument as the rules read it (a record's fields, or a seed of the data file).

    ``bases``: the bases of facilities and areas open to the visiting force under it;
    ``facilities``: facility or area ids open to it whatever their basis (an explicit grant,
    e.g. a Joint Committee agreement for one range); ``excluded``: ids closed to it."""

    key: str
    kind: str
    name: Text
    short: Text
    nations: tuple[str, ...]
    in_force: str  # YYYY-MM-DD
    expires: str | None = None
    signed: str | None = None
    activities: tuple[str, ...] = ACTIVITIES
    bases: tuple[str, ...] = ()
    facilities: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    conditions: Text = Text()
    source: str = ""


class ArrangementIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking = "UNCLASSIFIED"
    key: Key
    kind: InstrumentKind = "raa"
    name: Text
    short: Text = Text()
    nations: Nations
    in_force: Date
    expires: Date | None = None
    signed: Date | None = None
    activities: Activities = msgspec.field(default_factory=lambda: list(ACTIVITIES))  # type: ignore[arg-type]
    bases: BasisList = []
    facilities: FacilityIds = []
    excluded: FacilityIds = []
    conditions: Text = Text()
    source: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ArrangementPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking | None = None
    kind: InstrumentKind | None = None
    name: Text | None = None
    short: Text | None = None
    nations: Nations | None = None
    in_force: Date | None = None
    expires: Date | None = None
    clear_expires: bool = False
    signed: Date | None = None
    activities: Activities | None = None
    bases: BasisList | None = None
    facilities: FacilityIds | None = None
    excluded: FacilityIds | None = None
    conditions: Text | None = None
    source: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class ArrangementOut(LabelView, kw_only=True):
    id: str
    origin: str
    key: str
    kind: str
    name: Text
    short: Text
    nations: list[str]
    in_force: str
    expires: str | None
    signed: str | None
    activities: list[str]
    bases: list[str]
    facilities: list[str]
    excluded: list[str]
    conditions: Text
    source: str
    updated_at: str


class AccessVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """The answer of the access check: nation × activity × facility × dates.

    ``instrument`` is the key of the covering instrument (allowed) or of the one that came
    closest (refused); ``needed`` names what would be needed; ``detail`` is EN/JA text."""

    allowed: bool
    instrument: str | None
    reason: str
    needed: str | None
    detail: dict[str, str]


class CheckIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    nation: Nation
    activity: Activity
    facility_id: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    start: DateTime
    end: DateTime
