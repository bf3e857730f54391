"""HTTP routes of facilities and areas: ``/api/v1/facilities`` (reference facilities, as
before, now with basis and authority) and ``/api/v1/training-areas``."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from kizuna.core.label_view import label_fields
from kizuna.core.labels import Label
from kizuna.core.records import Text
from kizuna.facilities.models import (
    Facility,
    FacilityOut,
    Marking,
    TrainingAreaIn,
    TrainingAreaOut,
    TrainingAreaPatch,
)
from kizuna.facilities.service import MAX_IMPORT, FacilityService, basis_of
from kizuna.kernel.context import CallerDep

FacilitiesDep: TypeAlias = NamedDependency[FacilityService]


def facility_view(fac: Facility, label: Label) -> FacilityOut:
    basis, authority = basis_of(fac)
    return FacilityOut(
        id=fac.id,
        name=Text(en=fac.name_en, ja=fac.name_ja),
        nation=fac.nation,
        kind=fac.kind,
        lat=fac.lat,
        lon=fac.lon,
        basis=basis,  # type: ignore[arg-type]
        authority=authority,
        **label_fields(label),
    )


@get("/api/v1/facilities", tags=["facilities"], summary="Reference facilities (UNCLASSIFIED)")
async def list_facilities(caller: CallerDep, service: FacilitiesDep) -> list[FacilityOut]:
    label = service.label
    return [facility_view(f, label) for f in service.visible(caller)]


class TrainingAreaImportIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A GeoJSON FeatureCollection of Polygon features; ``label`` marks every area."""

    label: Marking
    type: str = "FeatureCollection"
    features: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1, max_length=MAX_IMPORT)]


class AreaController(Controller):
    path = "/api/v1/training-areas"
    tags = ["facilities"]  # noqa: RUF012

    @get("/", summary="Training areas, ranges, airspace and sea areas the caller may see")
    async def list_areas(self, caller: CallerDep, service: FacilitiesDep) -> list[TrainingAreaOut]:
        return service.areas(caller)

    @post("/", status_code=201, summary="Add a training area (a polygon of [lat, lon] points)")
    async def create_area(
        self, data: JSONBody[TrainingAreaIn], caller: CallerDep, service: FacilitiesDep
    ) -> TrainingAreaOut:
        return service.create_area(caller, data)

    @post("/import", status_code=201, summary="Import training areas from GeoJSON polygons")
    async def import_areas(
        self, data: JSONBody[TrainingAreaImportIn], caller: CallerDep, service: FacilitiesDep
    ) -> list[TrainingAreaOut]:
        return service.import_areas(caller, data.features, data.label)

    @get("/{area_id:str}", summary="One training area")
    async def get_area(
        self, area_id: FromPath[str], caller: CallerDep, service: FacilitiesDep
    ) -> TrainingAreaOut:
        return service.area(caller, area_id)

    @patch("/{area_id:str}", summary="Change a training area this node originated")
    async def update_area(
        self,
        area_id: FromPath[str],
        data: JSONBody[TrainingAreaPatch],
        caller: CallerDep,
        service: FacilitiesDep,
    ) -> TrainingAreaOut:
        return service.update_area(caller, area_id, data)

    @delete(
        "/{area_id:str}", status_code=204, summary="Remove a training area this node originated"
    )
    async def delete_area(
        self, area_id: FromPath[str], caller: CallerDep, service: FacilitiesDep
    ) -> None:
        service.delete_area(caller, area_id)
