"""API shapes and vocabulary of requests for assistance (RFA), offers and tasks."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.labels import COUNTRIES
from kizuna.core.records import Text
from kizuna.core.time import DateTime

RFA = "rfa"
OFFER = "offer"
TASK = "task"

MAX_LINES = 200
PrecedenceName = Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]
PriorityName = Literal["critical", "high", "medium", "low"]
Advantage = Literal["capability", "availability", "timeliness"]
Coverage = Literal["NONE", "PARTIAL", "COMPLETE"]
LineKind = Literal["item", "people", "capability"]

_RULE = "x-kizuna-rule"
# A boolean as the document gives it: Litestar converts a body leniently, and a plain bool
# would take 0, 1, "true" and "0" too; a Literal of the two is decoded strictly.
StrictBool = Literal[True, False]
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
MarkingOrEmpty = Annotated[
    str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking-or-empty"})
]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
NodeId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# A nation the service knows (it answers 422 "unknown nation" for another).
Nation = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=3,
        pattern=r"^[A-Z]{3}$",
        extra_json_schema={"enum": sorted(COUNTRIES)},
    ),
]
Short = Annotated[str, msgspec.Meta(max_length=2_000)]
# Units are checked by the rules (a problem+json naming the base units of the line's kind),
# not the decoder; the document lists every unit a line may be in: the base units of every
# kind and those converted to one (rules.BASE_UNITS, rules.CONVERSIONS; views.py checks).
UNITS: tuple[str, ...] = (
    "L",
    "kcal",
    "meal",
    "piece",
    "m2",
    "unit",
    "person",
    "sortie",
    "bed",
    "team",
    "m3",
    "kL",
    "mL",
    "Mcal",
    "pcs",
    "each",
    "persons",
    "people",
)
UnitText = Annotated[
    str, msgspec.Meta(min_length=1, max_length=16, extra_json_schema={"enum": list(UNITS)})
]
# The bounds of a line's numbers, checked by the rules (422 naming the line).
MAX_QUANTITY = 1e12  # rules.MAX_QUANTITY
Quantity = Annotated[float, msgspec.Meta(extra_json_schema={"minimum": 0, "maximum": MAX_QUANTITY})]
Positive = Annotated[
    float, msgspec.Meta(extra_json_schema={"exclusiveMinimum": 0, "maximum": MAX_QUANTITY})
]


class RfaStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    VALIDATED = "VALIDATED"
    OPEN = "OPEN"
    COMMITTED = "COMMITTED"
    COMPLETED = "COMPLETED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    SUPERSEDED = "SUPERSEDED"


class OfferStatus(enum.StrEnum):
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"


class TaskStatus(enum.StrEnum):
    PLANNED = "PLANNED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


# -- input --------------------------------------------------------------------


class LineIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A line of items, people or capabilities. ``packs`` × ``pack_size`` gives the
    quantity; a unit other than the base one (m3, kL, mL, Mcal, …) is converted."""

    item: Code
    kind: LineKind = "item"
    description: Text = Text()
    quantity: Quantity | None = None
    unit: UnitText
    pack_size: Positive | None = None
    packs: Quantity | None = None


class SiteIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    id: Id
    name: Text = Text()


class Oslo(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Oslo Guidelines for foreign military and civil defence assets: a last resort, with
    a unique advantage, handed over to civilians on a date, at no cost to the affected state."""

    civilian_alternative_considered: StrictBool
    unique_advantage: Advantage
    handover_date: DateTime
    no_cost_to_affected_state: StrictBool


class RfaIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    incident_id: Id | None = None
    affected_state: Nation | None = None  # default: this node's nation
    affected_node: NodeId | None = None  # default: this node, when it is the affected state's
    requesting_org: Text = Text()  # e.g. a prefecture
    site: SiteIn
    title: Text = Text()
    needed_by: DateTime | None = None
    priority: PriorityName | None = None  # the affected state's node only
    lines: Annotated[list[LineIn], msgspec.Meta(min_length=1, max_length=MAX_LINES)]
    military_assets: StrictBool = False
    oslo: Oslo | None = None  # required when military assets are requested
    label: Marking
    precedence: PrecedenceName = "ROUTINE"


class RfaPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Content (requester side, before validation) or priority (affected state)."""

    lines: Annotated[list[LineIn], msgspec.Meta(min_length=1, max_length=MAX_LINES)] | None = None
    needed_by: DateTime | None = None
    requesting_org: Text | None = None
    site: SiteIn | None = None
    title: Text | None = None
    priority: PriorityName | None = None


class RfaTransitionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    to: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    reason: Annotated[str, msgspec.Meta(max_length=64)] = ""
    note: Short = ""
    priority: PriorityName | None = None  # with VALIDATED, by the affected state
    superseded_by: Id | None = None  # with SUPERSEDED


class OfferIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    rfa_id: Id | None = None  # None: unsolicited
    incident_id: Id | None = None
    affected_state: Nation | None = None  # taken from the RFA when it is held here
    affected_node: NodeId | None = None  # taken from the RFA when it is held here
    lines: Annotated[list[LineIn], msgspec.Meta(min_length=1, max_length=MAX_LINES)]
    capability: Code | None = None  # e.g. "airlift_sortie", "water_purification"
    asset: Short = ""  # e.g. "C-130J, 36th Airlift Squadron"
    unit: Short = ""  # the executing unit of the tasks an acceptance produces
    military: StrictBool = False
    oslo: Oslo | None = None  # required for a military offer
    available_from: DateTime | None = None
    available_to: DateTime | None = None
    note: Text = Text()
    label: Marking
    precedence: PrecedenceName = "ROUTINE"


class ProgressIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Totals so far for one line of a commitment, in base units (not increments)."""

    item: Code
    in_transit: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    delivered: Annotated[float, msgspec.Meta(ge=0)] = 0.0


class OfferTransitionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    to: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    reason: Annotated[str, msgspec.Meta(max_length=64)] = ""
    note: Short = ""
    rfa_id: Id | None = None  # with ACCEPTED: the RFA an unsolicited offer is accepted for
    progress: Annotated[list[ProgressIn], msgspec.Meta(max_length=MAX_LINES)] = []


class ProgressReport(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    progress: Annotated[list[ProgressIn], msgspec.Meta(min_length=1, max_length=MAX_LINES)]


class TaskIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A further task of an accepted offer (the first is made when it is accepted)."""

    offer_id: Id
    unit: Short = ""
    due: DateTime | None = None
    track_id: Id | None = None
    description: Text = Text()
    label: MarkingOrEmpty = ""  # "": the offer's label


class TaskPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    unit: Short | None = None
    due: DateTime | None = None
    track_id: Annotated[str, msgspec.Meta(max_length=128)] | None = None  # "": unlink
    description: Text | None = None


class TaskTransitionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    to: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    reason: Annotated[str, msgspec.Meta(max_length=64)] = ""
    note: Short = ""


# -- answers ------------------------------------------------------------------


class Site(msgspec.Struct, kw_only=True):
    id: str
    name: Text


class LineOut(msgspec.Struct, kw_only=True):
    """One RFA line with its roll-up, every quantity in the base unit."""

    item: str
    kind: LineKind
    description: Text
    unit: str
    pack_size: float | None
    packs: float | None
    requested: float
    offered: float
    committed: float
    in_transit: float
    delivered: float
    gap: float
    coverage: Coverage


class Closing(msgspec.Struct, kw_only=True):
    """Why a record reached a negative or terminal state: a reason code and its names."""

    status: str
    reason: str
    reason_name: Text | None
    note: str
    node: str
    by: str
    at: str


class RfaOut(LabelView, kw_only=True):
    """An RFA as the caller may see it; roll-ups count only offers the caller may see."""

    id: str
    origin: str
    incident_id: str | None
    affected_state: str
    affected_node: str
    requesting_org: Text
    site: Site
    title: Text
    needed_by: str | None
    priority: PriorityName | None
    status: str
    status_name: Text
    closing: Closing | None
    superseded_by: str | None
    lines: list[LineOut]
    coverage: Coverage
    coverage_name: Text
    military_assets: bool
    oslo: Oslo | None
    offers: list[str]
    precedence: PrecedenceName
    allowed_transitions: list[str]
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str


class OfferLineOut(msgspec.Struct, kw_only=True):
    item: str
    kind: LineKind
    description: Text
    unit: str
    pack_size: float | None
    packs: float | None
    quantity: float
    in_transit: float
    delivered: float


class OfferOut(LabelView, kw_only=True):
    id: str
    origin: str
    nation: str
    rfa_id: str | None
    accepted_for: str | None
    solicited: bool
    committed: bool
    incident_id: str | None
    affected_state: str
    affected_node: str
    status: str
    status_name: Text
    closing: Closing | None
    lines: list[OfferLineOut]
    capability: str | None
    asset: str
    unit: str
    military: bool
    oslo: Oslo | None
    available_from: str | None
    available_to: str | None
    note: Text
    precedence: PrecedenceName
    allowed_transitions: list[str]
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str


class TaskOut(LabelView, kw_only=True):
    id: str
    origin: str
    nation: str
    offer_id: str
    rfa_id: str | None
    incident_id: str | None
    unit: str
    due: str | None
    track_id: str | None
    description: Text
    status: str
    status_name: Text
    closing: Closing | None
    allowed_transitions: list[str]
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str
