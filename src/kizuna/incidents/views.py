"""HTTP routes of incidents (read-only: bulletins arrive through the alerts source)."""

from __future__ import annotations

from typing import ClassVar, TypeAlias

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from kizuna.incidents.models import IncidentFeatures, IncidentOut
from kizuna.incidents.service import IncidentService
from kizuna.kernel.context import CallerDep

IncidentServiceDep: TypeAlias = NamedDependency[IncidentService]


class IncidentController(Controller):
    path = "/api/v1"
    tags: ClassVar[list[str]] = ["incidents"]

    @get("/incidents", summary="Incidents the caller may see, most recently changed first")
    async def list_incidents(
        self, caller: CallerDep, service: IncidentServiceDep
    ) -> list[IncidentOut]:
        return service.list(caller)

    @get(
        "/incidents.geojson",
        summary="Incidents on the map: hypocentres, CAP polygons and circles, known areas",
        media_type="application/geo+json",
    )
    async def incidents_geojson(
        self, caller: CallerDep, service: IncidentServiceDep
    ) -> IncidentFeatures:
        return service.geojson(caller)

    @get("/incidents/{incident_id:str}", summary="One incident (404 if absent or not releasable)")
    async def get_incident(
        self, incident_id: FromPath[str], caller: CallerDep, service: IncidentServiceDep
    ) -> IncidentOut:
        return service.get(caller, incident_id)
