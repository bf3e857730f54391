"""SITREP shapes (EDXL-SitRep fields), the request body, and the ports this domain reads.

The ports are small Protocols naming exactly the methods the SITREP calls on the
incidents, assistance and relief services (``ctx.require``): each read is the service's
own release-checked read for the caller; results are read defensively as Structs or dicts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Text
from kizuna.core.time import DateTime
from kizuna.kernel.context import Caller
from kizuna.store.base import User

SITREP = "sitrep"

Version = Literal["Initial", "Update", "Final"]
VERSIONS: tuple[Version, ...] = ("Initial", "Update", "Final")
# EDXL-SitRep ReportConfidence values.
Confidence = Literal["HighlyConfident", "SomewhatConfident", "NotConfident"]
CONFIDENCES: tuple[Confidence, ...] = ("HighlyConfident", "SomewhatConfident", "NotConfident")
Rollup = Literal["NONE", "PARTIAL", "COMPLETE"]
Language = Literal["en", "ja"]
Format = Literal["json", "pdf"]

_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
_Org = Annotated[str, msgspec.Meta(max_length=128)]


# -- ports: what this domain calls on the services it requires ------------------


class IncidentsPort(Protocol):
    def get(self, caller: Caller, incident_id: str) -> Any: ...


class AssistancePort(Protocol):
    def rfas(self, caller: Caller, incident_id: str | None = None) -> list[Any]: ...

    def offers(self, caller: Caller, rfa_id: str | None = None) -> list[Any]: ...

    def tasks(self, caller: Caller, incident_id: str | None = None) -> list[Any]: ...


class ReliefPort(Protocol):
    def shelters(self, caller: Caller, incident_id: str | None = None) -> list[Any]: ...

    def stocks(self, caller: Caller) -> list[Any]: ...


# -- the request body -----------------------------------------------------------


class PersonIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    user: _Name
    organisation: _Org = ""


class PeriodIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    start: DateTime = msgspec.field(name="from")
    end: DateTime = msgspec.field(name="to")


class SitrepIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Issue the next numbered SITREP of an incident (the version follows: Initial first,
    then Update; ``Final`` closes the series)."""

    authorised_by: PersonIn
    period: PeriodIn | None = None  # default: from the last SITREP (or the incident) to now
    version: Version | None = None
    confidence: Confidence = "SomewhatConfident"
    next_contact: DateTime | None = None


# -- the SITREP as answered (per reader) ---------------------------------------


class Person(msgspec.Struct, kw_only=True):
    user: str
    organisation: str


class Period(msgspec.Struct, kw_only=True):
    start: str = msgspec.field(name="from")
    end: str = msgspec.field(name="to")


class Hypocentre(msgspec.Struct, kw_only=True):
    name: Text
    lat: float | None
    lon: float | None
    depth_km: float | None


class AreaOut(msgspec.Struct, kw_only=True):
    name: Text
    code: str
    level: str  # pref, area, city (JMA)
    intensity: str
    intensity_text: Text


class TsunamiAreaOut(msgspec.Struct, kw_only=True):
    name: Text
    code: str
    kind: str  # JMA kind code or the kind's name
    kind_name: Text
    status: str


class IncidentSummary(LabelView, kw_only=True):
    id: str
    title: Text
    summary: Text
    hypocentre: Hypocentre | None
    magnitude: float | None
    max_intensity: str
    max_intensity_text: Text
    areas: list[AreaOut]
    tsunami_areas: list[TsunamiAreaOut]
    state: str
    country: str  # the affected state (ISO 3166-1 alpha-3), "" if unknown
    updated_at: str


class LineOut(msgspec.Struct, kw_only=True):
    item: str
    kind: str
    description: Text
    unit: str
    requested: float
    offered: float
    committed: float
    in_transit: float
    delivered: float
    gap: float


class RfaSummary(LabelView, kw_only=True):
    id: str
    title: Text
    status: str
    status_name: Text
    priority: str
    location: Text  # the site (a shelter, a depot)
    adm1: Text  # the requesting organisation's area (a prefecture)
    country: str
    lines: list[LineOut]
    rollup: Rollup


class OfferLine(msgspec.Struct, kw_only=True):
    item: str
    quantity: float
    unit: str
    in_transit: float
    delivered: float


class OfferSummary(LabelView, kw_only=True):
    id: str
    rfa_id: str
    organisation: str
    status: str
    status_name: Text
    commitment: bool
    unit: str
    asset: str
    lines: list[OfferLine]


class TaskSummary(LabelView, kw_only=True):
    id: str
    rfa_id: str
    offer_id: str
    organisation: str
    unit: str
    activity: Text
    due: str
    status: str
    status_name: Text


class ShelterSummary(LabelView, kw_only=True):
    id: str
    name: Text
    municipality: Text
    capacity_day: int
    capacity_night: int
    population_day: int
    population_night: int
    status: str
    status_name: Text


class StockSummary(LabelView, kw_only=True):
    id: str
    site: Text
    item: str
    item_name: Text
    quantity: float
    unit: str


class Totals(msgspec.Struct, kw_only=True):
    rfas: int
    lines: int
    lines_with_gap: int
    rollups: dict[str, int]
    offers: int
    commitments: int
    tasks: int
    shelters: int
    shelter_population: int
    shelter_capacity: int


class SitrepOut(LabelView, kw_only=True):
    """A SITREP as one reader may see it; the label fields are its banner: the highest
    label of everything in it (classification, the intersection of the REL TO lists)."""

    incident_id: str
    issue_id: str | None  # the recorded issue; None: a preview, not yet issued
    number: int | None
    version: Version
    period: Period
    confidence: Confidence
    next_contact: str | None
    prepared_by: Person
    authorised_by: Person | None
    issued_at: str | None
    generated_at: str
    generated_for: Person
    banner: Text
    incident: IncidentSummary
    rfas: list[RfaSummary]
    offers: list[OfferSummary]
    tasks: list[TaskSummary]
    shelters: list[ShelterSummary]
    stocks: list[StockSummary]
    totals: Totals


def organisation_of(user: User, node_id: str) -> str:
    """A user's organisation as a SITREP names it: the node (command) and its nation."""
    return f"{node_id.upper()} ({user.nation})"
