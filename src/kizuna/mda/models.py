"""Record types, bus topics and API shapes of maritime domain awareness."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Text

MDA_EVENT = "mda_event"  # record type and bus topic of events
MDA_ZONE = "mda_zone"  # record type and bus topic of zones
MDA_WATCH = "mda_watch"  # record type and bus topic of watchlist entries
RECORD_TYPES = (MDA_EVENT, MDA_ZONE, MDA_WATCH)

EventType = Literal["gap", "loitering", "encounter", "spoofing", "zone"]
EVENT_TYPES: tuple[str, ...] = ("gap", "loitering", "encounter", "spoofing", "zone")
EventStatus = Literal["open", "closed", "retracted"]
EVENT_STATUSES: tuple[str, ...] = ("open", "closed", "retracted")
Verdict = Literal["confirmed", "false_positive", "interference"]
VERDICTS: tuple[str, ...] = ("confirmed", "false_positive", "interference")
ZoneKind = Literal["area", "territorial_sea", "contiguous_zone", "eez", "port", "exercise"]
ZONE_KINDS: tuple[str, ...] = (
    "area",
    "territorial_sea",
    "contiguous_zone",
    "eez",
    "port",
    "exercise",
)
# What the spoofing detector names in ``detail.kind`` (the catalog has a text for each).
SPOOF_KINDS: tuple[str, ...] = (
    "identity_conflict",
    "impossible_movement",
    "invalid_identity",
    "gnss_interference",
)
# Why an identity is invalid (``detail.reason`` of ``invalid_identity``).
SPOOF_REASONS: tuple[str, ...] = ("format", "placeholder")
# What the zone detector names in ``detail.kind``.
ZONE_EVENT_KINDS: tuple[str, ...] = ("entry", "exit", "dwell", "watchlist")

_RULE = "x-kizuna-rule"
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
_NAME = msgspec.Meta(max_length=200)
Note = Annotated[str, msgspec.Meta(max_length=2000)]
# The ranges of a point and the least number of points are the service's checks (a bad
# polygon is a 422 naming what is wrong), stated in the document; that the points are
# distinct and the edges do not cross it cannot state.
LatLon = Annotated[
    list[float],
    msgspec.Meta(
        min_length=2,
        max_length=2,
        extra_json_schema={
            "prefixItems": [
                {"type": "number", "minimum": -90.0, "maximum": 90.0},
                {"type": "number", "minimum": -180.0, "maximum": 180.0},
            ],
        },
    ),
]
Polygon = Annotated[list[LatLon], msgspec.Meta(max_length=1000, extra_json_schema={"minItems": 3})]


class Name(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    en: Annotated[str, _NAME] = ""
    ja: Annotated[str, _NAME] = ""


# -- events --------------------------------------------------------------------


class PositionOut(msgspec.Struct, kw_only=True):
    lat: float
    lon: float


class EvidenceOut(msgspec.Struct, kw_only=True):
    """One position that made the event: which vessel, when, where, from which source."""

    mmsi: str
    t: str
    lat: float
    lon: float
    sog: float | None
    source: str


class CoverOut(msgspec.Struct, kw_only=True):
    """A partner's position inside a gap of this node's sensors (covered)."""

    source: str
    t: str
    lat: float
    lon: float


class FilledBy(msgspec.Struct, kw_only=True):
    """The late position that retracted a gap."""

    t: str
    source: str


Number = int | float


class EventDetail(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the detector measured, by type (absent fields do not apply). ``kind``: the
    spoofing kind (``SPOOF_KINDS``) or zone event kind (``ZONE_EVENT_KINDS``)."""

    kind: str | None = None
    # gap
    sources_before: Number | None = None  # receivers and partner nodes that had the vessel
    threshold_s: Number | None = None
    filled_by: FilledBy | None = None
    # gap, loitering, encounter, spoofing
    duration_s: Number | None = None
    distance_m: Number | None = None
    implied_speed_kn: Number | None = None
    mean_speed_kn: Number | None = None
    median_speed_kn: Number | None = None
    min_distance_m: Number | None = None
    segment: Number | None = None
    segments: list[Number] | None = None
    # spoofing
    reason: str | None = None  # invalid_identity: SPOOF_REASONS
    reasons: list[str] | None = None
    separation_m: Number | None = None
    dt_s: Number | None = None
    names: list[str] | None = None
    radius_m: Number | None = None
    centre: PositionOut | None = None
    # zone
    zone: str | None = None  # zone id
    zone_name: str | None = None
    dwell_s: Number | None = None
    first_seen_inside: bool | None = None
    lost: bool | None = None
    watchlist: str | None = None  # watchlist entry id
    matched: str | None = None  # mmsi, imo or name
    # anything else a detector adds (values shown as text when not plain)
    more: dict[str, str | Number | bool | None] | None = None


DETAIL_FIELDS = frozenset(EventDetail.__struct_fields__) - {"more"}


class VerdictOut(LabelView, kw_only=True):
    """An analyst's verdict: one per node, owned by the node that gave it."""

    node: str
    verdict: Verdict
    note: str
    by: str
    at: str


class EventOut(LabelView, kw_only=True):
    """An MDA event as ``GET /api/v1/mda/events/{id}`` answers it (and the bus pushes it)."""

    id: str
    origin: str
    type: EventType
    status: EventStatus
    start: str
    end: str | None
    vessels: list[str]
    position: PositionOut
    evidence: list[EvidenceOut]
    detail: EventDetail
    verdicts: list[VerdictOut]
    covered_by: list[CoverOut]
    title: Text
    created_at: str
    updated_at: str


class VerdictIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    verdict: Verdict
    note: Note = ""
    # The verdict's label (default: the event's); it never reaches further than the event.
    label: Marking | None = None


# -- zones and watchlists ----------------------------------------------------------


# A zone's name needs English or Japanese text (the service's check, stated in the document).
_ZONE_NAME = msgspec.Meta(
    extra_json_schema={_RULE: {"text": "ZoneName", "max_length": 200, "needs_text": True}}
)


class ZoneIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking
    name: Annotated[Name, _ZONE_NAME]
    polygon: Polygon  # [[lat, lon], …], at least 3 points, not self-intersecting
    kind: ZoneKind = "area"


class ZonePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking | None = None
    name: Name | None = None
    polygon: Polygon | None = None
    kind: ZoneKind | None = None


class ZoneOut(LabelView, kw_only=True):
    id: str
    origin: str
    name: Name
    polygon: list[list[float]]
    kind: ZoneKind
    created_at: str
    updated_at: str


Mmsi = Annotated[int, msgspec.Meta(ge=0, le=999_999_999)]
Imo = Annotated[int, msgspec.Meta(ge=1_000_000, le=9_999_999)]


class WatchIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A vessel on the watchlist, by MMSI, IMO number or name (at least one)."""

    label: Marking
    mmsi: Mmsi | None = None
    imo: Imo | None = None
    name: Annotated[str, _NAME] = ""
    reason: Note = ""


class WatchPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking | None = None
    mmsi: Mmsi | None = None
    imo: Imo | None = None
    name: Annotated[str, _NAME] | None = None
    reason: Note | None = None


class WatchOut(LabelView, kw_only=True):
    id: str
    origin: str
    mmsi: str | None
    imo: int | None
    name: str
    reason: str
    created_at: str
    updated_at: str


class MdaStatus(msgspec.Struct, kw_only=True):
    """The domain's counters (``GET /api/v1/mda/status``)."""

    enabled: bool
    fixes: int  # fixes fed to detection
    partner_fixes: int  # partners' fixes kept for coverage
    dropped: int  # fixes dropped because the detection queue was full
    emissions: int  # emissions the detectors made
    written: int  # events written (creates and patches)
    data_clock: str | None
    ports: int
    zones: int
    watchlist: int
