"""HTTP and WebSocket routes of the picture; every item passes ``may_release``."""

from __future__ import annotations

import time
from typing import Annotated, Any, ClassVar

import msgspec
from litestar import Controller, Response, WebSocket, get, post, websocket
from litestar.params import Parameter

from kizuna.api.auth import authenticate, node_of
from kizuna.api.problems import Problem
from kizuna.core.errors import Invalid, KizunaError, NotFound
from kizuna.core.ids import new_id
from kizuna.core.labels import Label
from kizuna.core.release import may_release
from kizuna.core.time import parse_iso
from kizuna.kernel.access import label_for_write
from kizuna.node.runtime import Caller, Node
from kizuna.picture.models import Provenance, Track
from kizuna.picture.rules import BBox, parse_bbox
from kizuna.picture.service import facility_view, history_view, track_view
from kizuna.picture.sidc import affiliation_from_cot_type, sidc_from_cot_type

_ID = msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@-]+$")
_SOURCE = msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_-]*$")
_TEXT = msgspec.Meta(max_length=200)
MAX_REPORTS = 10_000
DEFAULT_STALE = 300.0


class TrackIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A manual track report (operators, tests)."""

    label: Annotated[str, msgspec.Meta(max_length=512)]
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
    observed_at: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    stale_at: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    mmsi: Annotated[int, msgspec.Meta(ge=0, le=999_999_999)] | None = None
    ship_type: Annotated[int, msgspec.Meta(ge=0, le=255)] | None = None
    remarks: Annotated[str, msgspec.Meta(max_length=2000)] = ""


def _bbox(text: str | None) -> BBox | None:
    if text is None:
        return None
    try:
        return parse_bbox(text)
    except ValueError as exc:
        raise KizunaError(f"bad bbox {text[:60]!r}: {exc}", parameter="bbox") from None


def _time(text: str | None, what: str, index: int) -> float | None:
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        raise Invalid(f"item {index}: {what} {text!r} is not an ISO 8601 time") from None


def _track_from(
    item: TrackIn, index: int, label: Label, caller: Caller, now: float, max_future: float
) -> Track:
    observed = _time(item.observed_at, "observed_at", index) or now
    if observed > now + max_future:
        raise Invalid(f"item {index}: observed_at is more than {max_future:.0f} s in the future")
    stale = _time(item.stale_at, "stale_at", index) or observed + DEFAULT_STALE
    if stale < observed:
        raise Invalid(f"item {index}: stale_at is before observed_at")
    source_id = item.source_id or item.id or new_id()
    tid = item.id or f"{item.source}-{source_id}"
    exercise = label.exercise
    return Track(
        id=tid,
        source=item.source,
        source_id=source_id,
        lat=item.lat,
        lon=item.lon,
        observed_at=observed,
        stale_at=stale,
        label=label,
        sidc=item.sidc or sidc_from_cot_type(item.cot_type, exercise),
        cot_type=item.cot_type,
        affiliation=affiliation_from_cot_type(item.cot_type),
        callsign=item.callsign,
        name=item.name,
        course=item.course,
        speed=item.speed,
        hae=item.hae,
        exercise=exercise,
        ship_type=item.ship_type,
        mmsi=item.mmsi,
        remarks=item.remarks,
        sources=[
            Provenance(
                source=item.source,
                source_id=source_id,
                observed_at=observed,
                connection=f"api:{caller.name}",
            )
        ],
    )


def _feature(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": view["id"],
        "geometry": {"type": "Point", "coordinates": [view["lon"], view["lat"]]},
        "properties": view,
    }


class TrackController(Controller):
    path = "/api/v1/tracks"
    tags: ClassVar[list[str]] = ["picture"]

    @get(
        "/", summary="Tracks the caller may see, optionally inside bbox=minlon,minlat,maxlon,maxlat"
    )
    async def list_tracks(
        self, caller: Caller, node: Node, bbox: str | None = None
    ) -> list[dict[str, Any]]:
        box = _bbox(bbox)
        now = time.time()
        return [track_view(t, now) for t in node.picture.query(caller.principal, box)]

    @post("/", status_code=200, summary="Report tracks by hand (a JSON list)")
    async def report(
        self,
        data: Annotated[list[TrackIn], msgspec.Meta(max_length=MAX_REPORTS)],
        caller: Caller,
        node: Node,
    ) -> dict[str, Any]:
        picture = node.picture
        labels: dict[str, Label] = {}
        tracks = []
        now = time.time()
        for i, item in enumerate(data):
            label = labels.get(item.label)
            if label is None:
                label = labels[item.label] = label_for_write(node, caller, item.label)
            tracks.append(_track_from(item, i, label, caller, now, picture.max_future))
        result = picture.apply(tracks)
        node.audit.append(
            "track.report", caller.name, "ok", count=len(tracks), accepted=result.accepted
        )
        return {
            "accepted": result.accepted,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "problems": result.problems,
            "ids": list(dict.fromkeys(t.id for t in tracks)),
        }

    @get("/{track_id:str}", summary="One track (404 if absent or not releasable)")
    async def get_track(self, track_id: str, caller: Caller, node: Node) -> dict[str, Any]:
        return track_view(_visible(node, caller, track_id), time.time())

    @get("/{track_id:str}/history", summary="Recent positions of a track, oldest first")
    async def history(
        self,
        track_id: str,
        caller: Caller,
        node: Node,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 500,
    ) -> list[dict[str, Any]]:
        _visible(node, caller, track_id)
        return [history_view(p) for p in node.picture.history(caller.principal, track_id, limit)]


def _visible(node: Node, caller: Caller, track_id: str) -> Track:
    view = node.picture.visible(caller.principal, track_id)
    if view is None:
        if node.picture.entry(track_id) is not None:
            node.refuse("read_label", caller.name, record_type="track", record_id=track_id)
        raise NotFound(f"no track {track_id}")
    return view


@get(
    "/api/v1/tracks.geojson",
    tags=["picture"],
    summary="Tracks as a GeoJSON FeatureCollection (same filter as /api/v1/tracks)",
)
async def tracks_geojson(caller: Caller, node: Node, bbox: str | None = None) -> Response[Any]:
    box = _bbox(bbox)
    now = time.time()
    features = [_feature(track_view(t, now)) for t in node.picture.query(caller.principal, box)]
    return Response(
        {"type": "FeatureCollection", "features": features}, media_type="application/geo+json"
    )


@get("/api/v1/facilities", tags=["picture"], summary="Reference facilities (UNCLASSIFIED)")
async def facilities(caller: Caller, node: Node) -> list[dict[str, Any]]:
    label = node.picture.facility_label
    if not may_release(label, caller.principal):
        return []
    return [facility_view(f, label) for f in node.picture.facilities()]


@websocket("/api/v1/ws")
async def live_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """Live picture: see :mod:`kizuna.picture.live` for the protocol."""
    node = node_of(socket)
    try:
        caller = authenticate(socket)
    except Problem:
        await socket.close(code=1008, reason="missing or bad token")
        return
    await socket.accept()
    await node.picture.hub.serve(socket, caller.principal, caller.name)


PICTURE_HANDLERS: list[Any] = [TrackController, tracks_geojson, facilities, live_socket]
