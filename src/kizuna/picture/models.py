"""Tracks of the common operational picture, and the API shapes of the picture."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.labels import Label
from kizuna.core.time import DateTime

TRACK = "track"  # the type name in sharing agreements and of the federated stream


class Provenance(msgspec.Struct, kw_only=True):
    """What one source last said about a track."""

    source: str  # "ais", "cot", …
    source_id: str  # MMSI, CoT uid, …
    observed_at: float  # UTC epoch seconds
    connection: str = ""  # feed or client that delivered it


class Track(msgspec.Struct, kw_only=True):
    """One object on the picture. ``id`` is stable across sources of the same object."""

    id: str  # e.g. "ais-431000000", "cot-ANDROID-1234"
    source: str
    source_id: str
    lat: float
    lon: float
    observed_at: float  # UTC epoch seconds
    stale_at: float
    label: Label
    sidc: str  # MIL-STD-2525D 20-digit symbol identification code
    cot_type: str = "a-u-G"
    affiliation: str = "unknown"  # pending, unknown, friend, neutral, hostile, …
    callsign: str = ""
    name: str = ""
    course: float | None = None  # degrees true
    speed: float | None = None  # metres per second
    hae: float | None = None  # metres
    exercise: bool = False
    ship_type: int | None = None
    mmsi: int | None = None
    remarks: str = ""
    sources: list[Provenance] = []


# -- API shapes ---------------------------------------------------------------

_ID = msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@-]+$")
_SOURCE = msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_-]*$")
_TEXT = msgspec.Meta(max_length=200)
# A security marking, checked after decoding by the core rules; the node's OpenAPI document
# spells them out (kizuna.api.document).
_MARKING = msgspec.Meta(max_length=512, extra_json_schema={"x-kizuna-rule": "marking"})


class TrackIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A manual track report (operators, tests)."""

    label: Annotated[str, _MARKING]
    lat: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
    lon: Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
    id: Annotated[str, _ID] | None = None
    source: Annotated[str, _SOURCE] = "manual"
    source_id: Annotated[str, _ID] | None = None
    callsign: Annotated[str, _TEXT] = ""
    name: Annotated[str, _TEXT] = ""
    cot_type: Annotated[str, msgspec.Meta(pattern=r"^[a-z](-[A-Za-z0-9]{1,8}){0,10}$")] = "a-u-G"
    sidc: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{20}$")] | None = None
    course: Annotated[float, msgspec.Meta(ge=0.0, le=360.0)] | None = None
    speed: Annotated[float, msgspec.Meta(ge=0.0, le=10_000.0)] | None = None
    hae: Annotated[float, msgspec.Meta(ge=-20_000.0, le=1_000_000.0)] | None = None
    observed_at: DateTime | None = None  # at most max_future ahead of the node
    stale_at: DateTime | None = None
    mmsi: Annotated[int, msgspec.Meta(ge=0, le=999_999_999)] | None = None
    ship_type: Annotated[int, msgspec.Meta(ge=0, le=255)] | None = None
    remarks: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class SourceOut(msgspec.Struct, kw_only=True):
    """One source of a track as the API shows it."""

    source: str
    source_id: str
    observed_at: str
    connection: str


class TrackOut(LabelView, kw_only=True):
    """A track as the API (and the live picture) shows it: a fused, visible view."""

    id: str
    source: str
    source_id: str
    callsign: str
    name: str
    lat: float
    lon: float
    course: float | None
    speed: float | None
    hae: float | None
    sidc: str
    cot_type: str
    affiliation: str
    observed_at: str
    stale_at: str
    stale: bool
    ship_type: int | None
    mmsi: int | None
    remarks: str
    sources: list[SourceOut]


class HistoryOut(msgspec.Struct, kw_only=True):
    """One point of a track's history."""

    lat: float
    lon: float
    observed_at: str
    course: float | None
    speed: float | None


class ReportResult(msgspec.Struct, kw_only=True):
    """What happened to a batch of manual reports."""

    accepted: int
    unchanged: int
    rejected: int
    problems: list[str]
    ids: list[str]


class Point(msgspec.Struct, kw_only=True):
    type: Literal["Point"] = "Point"
    coordinates: list[float]  # lon, lat


class Feature(msgspec.Struct, kw_only=True):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: Point
    properties: TrackOut


class FeatureCollection(msgspec.Struct, kw_only=True):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
