"""HTTP routes of MDA under ``/api/v1/mda``: events, verdicts, zones, the watchlist.

Every read passes the release check (``kernel/access.py``); bad input answers problem+json
(a bad bbox, time, type or status: 400 naming the parameter; a bad polygon: 422).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, TypeAlias

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from kizuna.core.errors import KizunaError
from kizuna.core.time import DATE_TIME, parse_iso
from kizuna.kernel.context import CallerDep
from kizuna.kernel.params import BBoxQuery, bbox_form_problem
from kizuna.mda import rules
from kizuna.mda.models import (
    EVENT_STATUSES,
    EVENT_TYPES,
    EventOut,
    MdaStatus,
    VerdictIn,
    WatchIn,
    WatchOut,
    WatchPatch,
    ZoneIn,
    ZoneOut,
    ZonePatch,
)
from kizuna.mda.service import CATALOG, MdaService

MdaServiceDep: TypeAlias = NamedDependency[MdaService]

TypeQuery = Annotated[
    str | None,
    QueryParameter(
        description="gap, loitering, encounter, spoofing or zone",
        # Checked by _choice, to answer with the choices.
        schema_extra={"enum": list(EVENT_TYPES)},
    ),
]
StatusQuery = Annotated[
    str | None,
    QueryParameter(
        description="open, closed or retracted", schema_extra={"enum": list(EVENT_STATUSES)}
    ),
]
SinceQuery = Annotated[
    str | None,
    QueryParameter(
        description="ISO 8601: events still going on at or after this time",
        schema_extra={"pattern": DATE_TIME},
    ),
]
LimitQuery = Annotated[int, QueryParameter(ge=1, le=10_000)]


def _choice(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if value is None or value in allowed:
        return value
    raise KizunaError(
        CATALOG.msg("error.bad-choice", name=name, value=value[:40], allowed=", ".join(allowed)),
        parameter=name,
    )


class MdaController(Controller):
    path = "/api/v1/mda"
    tags: ClassVar[list[str]] = ["mda"]

    # -- events ----------------------------------------------------------------------

    @get("/events", summary="MDA events the caller may see, newest first")
    async def list_events(
        self,
        caller: CallerDep,
        service: MdaServiceDep,
        type: TypeQuery = None,
        status: StatusQuery = None,
        bbox: BBoxQuery = None,
        since: SinceQuery = None,
        limit: LimitQuery = 1000,
    ) -> list[EventOut]:
        box = None
        if bbox is not None:
            try:
                problem = bbox_form_problem(bbox)
                if problem:
                    raise ValueError(problem)
                box = rules.parse_bbox(bbox)
            except ValueError as exc:
                raise KizunaError(
                    CATALOG.msg("error.bad-bbox", text=bbox[:60], reason=str(exc)),
                    parameter="bbox",
                ) from None
        after = None
        if since is not None:
            try:
                after = parse_iso(since)
            except ValueError:
                raise KizunaError(
                    CATALOG.msg("error.bad-since", text=since[:60]), parameter="since"
                ) from None
        return service.events(
            caller,
            type=_choice(type, EVENT_TYPES, "type"),
            status=_choice(status, EVENT_STATUSES, "status"),
            bbox=box,
            since=after,
            limit=limit,
        )

    @get("/events/{event_id:str}", summary="One MDA event (404 if absent or not releasable)")
    async def get_event(
        self, event_id: FromPath[str], caller: CallerDep, service: MdaServiceDep
    ) -> EventOut:
        return service.event(caller, event_id)

    @post(
        "/events/{event_id:str}/verdict",
        status_code=200,
        summary="This node's verdict on an event (confirmed, false_positive, interference)",
    )
    async def give_verdict(
        self,
        event_id: FromPath[str],
        data: JSONBody[VerdictIn],
        caller: CallerDep,
        service: MdaServiceDep,
    ) -> EventOut:
        return service.give_verdict(caller, event_id, data)

    @get("/status", summary="MDA detection counters on this node")
    async def mda_status(self, caller: CallerDep, service: MdaServiceDep) -> MdaStatus:
        return service.status()

    # -- zones -------------------------------------------------------------------------

    @get("/zones", summary="Zones the caller may see")
    async def list_zones(self, caller: CallerDep, service: MdaServiceDep) -> list[ZoneOut]:
        return service.zones(caller)

    @post("/zones", status_code=201, summary="Add a zone (a polygon of [lat, lon] points)")
    async def create_zone(
        self, data: JSONBody[ZoneIn], caller: CallerDep, service: MdaServiceDep
    ) -> ZoneOut:
        return service.create_zone(caller, data)

    @get("/zones/{zone_id:str}", summary="One zone")
    async def get_zone(
        self, zone_id: FromPath[str], caller: CallerDep, service: MdaServiceDep
    ) -> ZoneOut:
        return service.zone(caller, zone_id)

    @patch("/zones/{zone_id:str}", summary="Change a zone this node originated")
    async def update_zone(
        self,
        zone_id: FromPath[str],
        data: JSONBody[ZonePatch],
        caller: CallerDep,
        service: MdaServiceDep,
    ) -> ZoneOut:
        return service.update_zone(caller, zone_id, data)

    @delete("/zones/{zone_id:str}", status_code=204, summary="Remove a zone this node originated")
    async def delete_zone(
        self, zone_id: FromPath[str], caller: CallerDep, service: MdaServiceDep
    ) -> None:
        service.delete_zone(caller, zone_id)

    # -- the watchlist -------------------------------------------------------------------

    @get("/watchlist", summary="Watchlist entries the caller may see")
    async def list_watch(self, caller: CallerDep, service: MdaServiceDep) -> list[WatchOut]:
        return service.watchlist(caller)

    @post(
        "/watchlist", status_code=201, summary="Add a vessel (MMSI, IMO or name) to the watchlist"
    )
    async def create_watch(
        self, data: JSONBody[WatchIn], caller: CallerDep, service: MdaServiceDep
    ) -> WatchOut:
        return service.create_watch(caller, data)

    @get("/watchlist/{watch_id:str}", summary="One watchlist entry")
    async def get_watch(
        self, watch_id: FromPath[str], caller: CallerDep, service: MdaServiceDep
    ) -> WatchOut:
        return service.watch(caller, watch_id)

    @patch("/watchlist/{watch_id:str}", summary="Change a watchlist entry this node originated")
    async def update_watch(
        self,
        watch_id: FromPath[str],
        data: JSONBody[WatchPatch],
        caller: CallerDep,
        service: MdaServiceDep,
    ) -> WatchOut:
        return service.update_watch(caller, watch_id, data)

    @delete(
        "/watchlist/{watch_id:str}",
        status_code=204,
        summary="Remove a watchlist entry this node originated",
    )
    async def delete_watch(
        self, watch_id: FromPath[str], caller: CallerDep, service: MdaServiceDep
    ) -> None:
        service.delete_watch(caller, watch_id)
