"""Reservations of facilities and areas: shapes, vocabulary, settings."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.labels import COUNTRIES
from kizuna.core.records import Text
from kizuna.core.time import DateTime
from kizuna.kernel.contract import PluginSettings

RESERVATION = "reservation"

# The access domain's activities (a test checks the two lists are the same).
ACTIVITIES: tuple[str, ...] = (
    "live_fire",
    "flight",
    "maritime",
    "ground_manoeuvre",
    "port_call",
    "training",
)
Activity = Literal["live_fire", "flight", "maritime", "ground_manoeuvre", "port_call", "training"]
Status = Literal["active", "cancelled"]
AltitudeUnit = Literal["m", "ft", "FL"]

_RULE = "x-kizuna-rule"
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Nation = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=3,
        pattern=r"^[A-Z]{3}$",
        extra_json_schema={"enum": sorted(COUNTRIES)},
    ),
]
Height = Annotated[float, msgspec.Meta(ge=-500, le=100_000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]


class ReservationsSettings(PluginSettings, kw_only=True):
    """The ``[reservations]`` table: which activities refuse a conflict (the others are
    accepted and flagged), and the least notice per kind of place, in hours."""

    refuse_on_conflict: list[str] = msgspec.field(default_factory=lambda: ["live_fire"])
    lead_hours: dict[str, float] = msgspec.field(default_factory=lambda: {"sea_area": 48.0})


class ReservationAltitudeIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``floor`` to ``ceiling`` (None: unlimited) in metres, feet or flight levels."""

    floor: Height = 0.0
    ceiling: Height | None = None
    unit: AltitudeUnit = "m"


class ReservationIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking
    place_id: Id  # a facility (its id in the facilities list) or a training area (record id)
    start: DateTime
    end: DateTime
    activity: Activity
    nation: Nation | None = None  # the requesting nation; default: the caller's
    unit: Short = ""
    exercise_id: Id | None = None
    altitude: ReservationAltitudeIn | None = None  # default: the area's band
    title: Text = Text()


class PlaceOut(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    name: Text
    basis: str
    lat: float
    lon: float
    polygon: list[list[float]]


class ReservationAltitudeOut(msgspec.Struct, kw_only=True):
    floor_m: float
    ceiling_m: float | None


class ConflictOut(msgspec.Struct, kw_only=True):
    """Another reservation sharing place, altitude and time (one the reader may see)."""

    id: str
    origin: str
    place_id: str
    start: str
    end: str
    activity: str
    nation: str
    unit: str


class ReservationOut(LabelView, kw_only=True):
    id: str
    origin: str
    place: PlaceOut
    start: str
    end: str
    activity: Activity
    nation: str
    unit: str
    exercise_id: str | None
    altitude: ReservationAltitudeOut
    title: Text
    status: Status
    instrument: str | None  # the access arrangement that covers it (None: the host nation)
    access: Text  # the access check's text
    conflicts: list[ConflictOut]  # visible active reservations it conflicts with
    notice_by: str  # when the notice is due (start less the lead time of its kind of place)
    created_by: str
    created_at: str
    updated_at: str


class CancelIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ScheduleOut(msgspec.Struct, kw_only=True):
    """The weekly schedule notice: the active reservations of one ISO week (JST)."""

    week: str
    start: str
    end: str
    reservations: list[ReservationOut]
