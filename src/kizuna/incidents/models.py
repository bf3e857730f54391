"""Bulletins (what an alert source hands in) and incidents (what the API answers).

A :class:`Bulletin` is one parsed JMA or CAP document, source-neutral: the alerts source
builds it, :meth:`IncidentService.apply_bulletin` files it under its incident. An incident
is never stored as such: its record holds every bulletin under its key and its state is
derived from them (``rules.derive``), so bulletins applied in any order give one state.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kizuna.core.label_view import LabelView
from kizuna.core.records import Text
from kizuna.kernel.contract import PluginSettings

INCIDENT = "incident"
TOPIC = "incident"

Source = Literal["jma", "cap"]
Status = Literal["actual", "exercise", "test"]
Kind = Literal["issue", "correction", "cancel"]
State = Literal["active", "cancelled"]
AreaLevel = Literal["pref", "area", "city"]


class IncidentsSettings(PluginSettings, kw_only=True):
    """The ``[incidents]`` table."""

    default_label: str = "UNCLASSIFIED"  # the label of incidents made from alerts


# JMA seismic intensity classes (震度階級), weakest first.
INTENSITIES = ("0", "1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")


class Hypocentre(msgspec.Struct, kw_only=True):
    """Where an earthquake started: lat/lon in degrees, depth in km (None: unknown)."""

    lat: float | None = None
    lon: float | None = None
    depth_km: float | None = None
    name: str = ""  # JMA's epicentre name (Japanese), e.g. 福島県沖
    code: str = ""
    description: str = (
        ""  # JMA's own wording, e.g. 北緯３７．６度　東経１４１．６度　深さ　５０ｋｍ
    )


class Magnitude(msgspec.Struct, kw_only=True):
    value: float | None = None  # None: not determined (JMA's NaN)
    type: str = ""  # Mj, Mw
    description: str = ""  # JMA's wording, e.g. Ｍ不明, Ｍ８を超える巨大地震


class IntensityArea(msgspec.Struct, kw_only=True):
    """An area's observed (or, in an EEW, forecast) maximum intensity."""

    level: AreaLevel
    code: str
    name: str
    intensity: str | None = None  # one of INTENSITIES
    parent: str = ""  # code of the enclosing prefecture or area


class TsunamiArea(msgspec.Struct, kw_only=True):
    """A tsunami forecast area's category in one bulletin (JMA codes: 62 advisory, …)."""

    code: str
    name: str
    kind_code: str
    kind_name: str = ""
    last_kind_code: str = ""
    last_kind_name: str = ""


class Circle(msgspec.Struct, kw_only=True):
    lat: float
    lon: float
    radius_km: float


class Geocode(msgspec.Struct, kw_only=True):
    name: str
    value: str


# A point as CAP writes it: [lat, lon].
LatLon = Annotated[list[float], msgspec.Meta(min_length=2, max_length=2)]


class CapArea(msgspec.Struct, kw_only=True):
    """A CAP <area>: polygons as closed rings of [lat, lon] points (CAP's order)."""

    description: str = ""
    polygons: list[list[LatLon]] = []
    circles: list[Circle] = []
    geocodes: list[Geocode] = []


class CapInfo(msgspec.Struct, kw_only=True):
    """One CAP <info> block (one per language)."""

    language: str = "en-US"
    event: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    severity: str = ""
    urgency: str = ""
    certainty: str = ""
    areas: list[CapArea] = []


class Bulletin(msgspec.Struct, kw_only=True):
    """One alert document as the incidents domain files it.

    ``key`` identifies the document: JMA (Control/Status, EventID, type, Serial, InfoType;
    ReportDateTime stands in for an empty Serial), CAP (sender, identifier, sent). ``event``
    names the incident: a JMA EventID; for CAP the key of its chain's first alert, which
    the incidents service resolves from ``references`` when it holds an earlier message.
    """

    source: Source
    key: list[str]
    status: Status
    kind: Kind
    event: str
    type: str  # VXSE51, VXSE52, VXSE53, VXSE43, VTSE41; CAP: Alert, Update, Cancel
    issued_at: float  # POSIX seconds (JMA Head/ReportDateTime, CAP sent)
    serial: int | None = None
    title: str = ""  # the document's own title (JMA Head/Title, Japanese)
    headline: str = ""  # JMA Head/Headline/Text
    publisher: str = ""  # JMA PublishingOffice, CAP sender
    references: list[str] = []  # CAP "sender,identifier,sent" of earlier messages
    origin_time: float | None = None
    hypocentre: Hypocentre | None = None
    magnitude: Magnitude | None = None
    max_intensity: str | None = None  # observed (VXSE51, VXSE53)
    forecast_intensity: str | None = None  # EEW forecast (VXSE43), lower bound
    intensity_areas: list[IntensityArea] = []
    tsunami_areas: list[TsunamiArea] = []
    infos: list[CapInfo] = []

    @property
    def key_text(self) -> str:
        return "|".join(self.key)


class ApplyResult(msgspec.Struct, kw_only=True):
    """What one bulletin did: ``new`` incident, ``updated``, ``unchanged`` (held already)
    or ``test`` (a test bulletin: logged and counted, never filed)."""

    outcome: Literal["new", "updated", "unchanged", "test"]
    incident_id: str | None
    bulletin_key: str


# -- API shapes ----------------------------------------------------------------


class TimelineEntryOut(msgspec.Struct, kw_only=True):
    key: str
    source: Source
    type: str
    kind: Kind
    status: Status
    serial: int | None
    issued_at: str
    received_at: str
    headline: str
    cancelled: bool  # a later cancellation withdrew it
    sha256: str
    size: int


class TsunamiStepOut(msgspec.Struct, kw_only=True):
    at: str
    kind_code: str
    kind_name: str
    category: str


class TsunamiAreaOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    kind_code: str
    kind_name: Text
    category: str  # major_warning, warning, advisory, forecast, lifted, none
    history: list[TsunamiStepOut]


class IntensityAreaOut(msgspec.Struct, kw_only=True):
    level: AreaLevel
    code: str
    name: str
    intensity: str | None
    intensity_text: Text | None
    parent: str
    lat: float | None = None
    lon: float | None = None


class IncidentOut(LabelView, kw_only=True):
    """An incident as the API answers it (derived from its bulletins)."""

    id: str
    origin: str
    source: Source
    event: str
    state: State
    title: Text
    summary: Text
    hypocentre: Hypocentre | None
    magnitude: Magnitude | None
    max_intensity: str | None
    max_intensity_text: Text | None
    forecast_intensity: str | None
    origin_time: str | None
    intensity_areas: list[IntensityAreaOut]
    tsunami_areas: list[TsunamiAreaOut]
    cap_areas: list[CapArea]
    cap_infos: list[CapInfo]
    timeline: list[TimelineEntryOut]
    created_at: str
    updated_at: str


class PointGeometry(msgspec.Struct, kw_only=True, tag_field="type", tag="Point"):
    coordinates: list[float]  # [lon, lat] (GeoJSON order)


class PolygonGeometry(msgspec.Struct, kw_only=True, tag_field="type", tag="Polygon"):
    coordinates: list[list[list[float]]]  # rings of [lon, lat]


Geometry = PointGeometry | PolygonGeometry


class FeatureProps(msgspec.Struct, kw_only=True):
    incident_id: str
    role: Literal["hypocentre", "cap_polygon", "cap_circle", "area"]
    title: Text
    state: State
    exercise: bool
    label: str
    name: str = ""
    intensity: str | None = None
    magnitude: float | None = None
    depth_km: float | None = None
    radius_km: float | None = None


class IncidentFeature(msgspec.Struct, kw_only=True):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: Geometry
    properties: FeatureProps


class IncidentFeatures(msgspec.Struct, kw_only=True):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[IncidentFeature]
