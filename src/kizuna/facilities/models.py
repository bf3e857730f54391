"""Facilities and areas: reference facilities, training areas, and their API shapes."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Text

TRAINING_AREA = "training_area"

# The basis on which a facility or area is used (the access check reads it).
BASES: tuple[str, ...] = ("sofa_ii_1", "sofa_ii_4a", "sofa_ii_4b", "jsdf", "other")
Basis = Literal["sofa_ii_1", "sofa_ii_4a", "sofa_ii_4b", "jsdf", "other"]
AREA_KINDS: tuple[str, ...] = ("training_area", "range", "airspace", "sea_area")
AreaKind = Literal["training_area", "range", "airspace", "sea_area"]
AltitudeUnit = Literal["m", "ft", "FL"]

_RULE = "x-kizuna-rule"
Marking = Annotated[str, msgspec.Meta(max_length=512, extra_json_schema={_RULE: "marking"})]
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
# [[lat, lon], …]: at least 3 distinct points, edges not crossing (the service's 422).
Polygon = Annotated[list[LatLon], msgspec.Meta(max_length=1000, extra_json_schema={"minItems": 3})]
Height = Annotated[float, msgspec.Meta(ge=-500, le=100_000)]


class Facility(msgspec.Struct, frozen=True):
    id: str
    name_en: str
    name_ja: str
    nation: str
    kind: str
    lat: float
    lon: float


class FacilityOut(LabelView, kw_only=True):
    """A facility as the API answers it, with the label every facility carries, its basis
    and managing authority."""

    id: str
    name: Text
    nation: str
    kind: str
    lat: float
    lon: float
    basis: Basis = "other"
    authority: Text = Text()


class AltitudeBandIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An altitude band: ``floor`` to ``ceiling`` (None: unlimited) in metres, feet or
    flight levels (FL 100 = 10,000 ft)."""

    floor: Height = 0.0
    ceiling: Height | None = None
    unit: AltitudeUnit = "m"


class AltitudeBandOut(msgspec.Struct, frozen=True, kw_only=True):
    """A band in metres above mean sea level; ``ceiling_m`` None is unlimited."""

    floor_m: float
    ceiling_m: float | None


class TrainingAreaIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking
    name: Text
    kind: AreaKind = "training_area"
    polygon: Polygon
    altitude: AltitudeBandIn | None = None
    basis: Basis = "other"
    authority: Text = Text()
    facility_id: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    notes: Text = Text()


class TrainingAreaPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: Marking | None = None
    name: Text | None = None
    kind: AreaKind | None = None
    polygon: Polygon | None = None
    altitude: AltitudeBandIn | None = None
    basis: Basis | None = None
    authority: Text | None = None
    facility_id: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    notes: Text | None = None


class TrainingAreaOut(LabelView, kw_only=True):
    id: str
    origin: str
    name: Text
    kind: AreaKind
    polygon: list[list[float]]
    altitude: AltitudeBandOut
    basis: Basis
    authority: Text
    facility_id: str | None
    notes: Text
    created_at: str
    updated_at: str


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """A facility or area as other domains see it (access, reservations): its basis, its
    geometry (a point, or a polygon of [lat, lon]) and altitude band, and its label."""

    id: str
    kind: str
    basis: str
    name: Text
    authority: Text
    lat: float
    lon: float
    polygon: tuple[tuple[float, float], ...] = ()
    floor_m: float = 0.0
    ceiling_m: float | None = None
    label: str = "UNCLASSIFIED"
    facility_id: str | None = None
