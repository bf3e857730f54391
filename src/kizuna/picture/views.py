"""HTTP routes of the picture; every item passes ``may_release``.

The live picture rides the node's WebSocket (``/api/v1/ws``): see
:mod:`kizuna.picture.live`.
"""

from __future__ import annotations

import time
from typing import Annotated, ClassVar, TypeAlias

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from kizuna.core.errors import Invalid, KizunaError, NotFound
from kizuna.core.ids import new_id
from kizuna.core.labels import Label
from kizuna.core.time import parse_iso
from kizuna.kernel.access import label_for_write
from kizuna.kernel.context import Caller, CallerDep
from kizuna.kernel.params import BBoxQuery, bbox_form_problem
from kizuna.picture.models import (
    TRACK,
    Feature,
    FeatureCollection,
    HistoryOut,
    Point,
    Provenance,
    ReportResult,
    Track,
    TrackIn,
    TrackOut,
)
from kizuna.picture.rules import MESSAGES, BBox, parse_bbox
from kizuna.picture.service import PictureService, history_view, track_view
from kizuna.picture.sidc import affiliation_from_cot_type, sidc_from_cot_type

MAX_REPORTS = 10_000
DEFAULT_STALE = 300.0

PictureServiceDep: TypeAlias = NamedDependency[PictureService]


def _bbox(text: str | None) -> BBox | None:
    if text is None:
        return None
    try:
        problem = bbox_form_problem(text)
        if problem:
            raise ValueError(problem)
        return parse_bbox(text)
    except ValueError as exc:
        raise KizunaError(
            MESSAGES.msg("error.bad-bbox", text=text[:60], reason=str(exc)), parameter="bbox"
        ) from None


def _time(text: str | None, what: str, index: int) -> float | None:
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        raise Invalid(MESSAGES.msg("error.bad-time", n=index, field=what, text=text)) from None


def _track_from(
    item: TrackIn, index: int, label: Label, caller: Caller, now: float, max_future: float
) -> Track:
    observed = _time(item.observed_at, "observed_at", index) or now
    if observed > now + max_future:
        raise Invalid(MESSAGES.msg("error.future", n=index, limit=max_future))
    stale = _time(item.stale_at, "stale_at", index) or observed + DEFAULT_STALE
    stale = max(stale, observed)  # stale before it was observed: stale when observed
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


def _feature(view: TrackOut) -> Feature:
    return Feature(id=view.id, geometry=Point(coordinates=[view.lon, view.lat]), properties=view)


def _visible(service: PictureService, caller: Caller, track_id: str) -> Track:
    view = service.visible(caller.principal, track_id)
    if view is None:
        if service.entry(track_id) is not None:
            service.ctx.refuse("read_label", caller.name, record_type=TRACK, record_id=track_id)
        raise NotFound(MESSAGES.msg("error.track-not-found", id=track_id))
    return view


class TrackController(Controller):
    path = "/api/v1/tracks"
    tags: ClassVar[list[str]] = ["picture"]

    @get(
        "/", summary="Tracks the caller may see, optionally inside bbox=minlon,minlat,maxlon,maxlat"
    )
    async def list_tracks(
        self, caller: CallerDep, service: PictureServiceDep, bbox: BBoxQuery = None
    ) -> list[TrackOut]:
        box = _bbox(bbox)
        now = time.time()
        return [track_view(t, now) for t in service.query(caller.principal, box)]

    @post("/", status_code=200, summary="Report tracks by hand (a JSON list)")
    async def report(
        self,
        data: JSONBody[Annotated[list[TrackIn], msgspec.Meta(max_length=MAX_REPORTS)]],
        caller: CallerDep,
        service: PictureServiceDep,
    ) -> ReportResult:
        if len(data) > MAX_REPORTS:  # the annotation documents it; Litestar does not check it
            raise Invalid(MESSAGES.msg("error.batch", limit=MAX_REPORTS, count=len(data)))
        labels: dict[str, Label] = {}
        tracks = []
        now = time.time()
        for i, item in enumerate(data):
            label = labels.get(item.label)
            if label is None:
                label = labels[item.label] = label_for_write(service.ctx, caller, item.label)
            tracks.append(_track_from(item, i, label, caller, now, service.max_future))
        result = service.apply(tracks)
        service.ctx.audit.append(
            "track.report", caller.name, "ok", count=len(tracks), accepted=result.accepted
        )
        return ReportResult(
            accepted=result.accepted,
            unchanged=result.unchanged,
            rejected=result.rejected,
            problems=result.problems,
            ids=list(dict.fromkeys(t.id for t in tracks)),
        )

    @get("/{track_id:str}", summary="One track (404 if absent or not releasable)")
    async def get_track(
        self, track_id: FromPath[str], caller: CallerDep, service: PictureServiceDep
    ) -> TrackOut:
        return track_view(_visible(service, caller, track_id), time.time())

    @get("/{track_id:str}/history", summary="Recent positions of a track, oldest first")
    async def history(
        self,
        track_id: FromPath[str],
        caller: CallerDep,
        service: PictureServiceDep,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 500,
    ) -> list[HistoryOut]:
        _visible(service, caller, track_id)
        return [history_view(p) for p in service.history(caller.principal, track_id, limit)]


@get(
    "/api/v1/tracks.geojson",
    tags=["picture"],
    media_type="application/geo+json",
    summary="Tracks as a GeoJSON FeatureCollection (same filter as /api/v1/tracks)",
)
async def tracks_geojson(
    caller: CallerDep, service: PictureServiceDep, bbox: BBoxQuery = None
) -> FeatureCollection:
    box = _bbox(bbox)
    now = time.time()
    return FeatureCollection(
        features=[_feature(track_view(t, now)) for t in service.query(caller.principal, box)]
    )
