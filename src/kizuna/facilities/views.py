"""HTTP routes of facilities."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from kizuna.core.label_view import label_fields
from kizuna.core.labels import Label
from kizuna.core.records import Text
from kizuna.facilities.models import Facility, FacilityOut
from kizuna.facilities.service import FacilityService
from kizuna.kernel.context import CallerDep


def facility_view(fac: Facility, label: Label) -> FacilityOut:
    return FacilityOut(
        id=fac.id,
        name=Text(en=fac.name_en, ja=fac.name_ja),
        nation=fac.nation,
        kind=fac.kind,
        lat=fac.lat,
        lon=fac.lon,
        **label_fields(label),
    )


@get("/api/v1/facilities", tags=["facilities"], summary="Reference facilities (UNCLASSIFIED)")
async def list_facilities(
    caller: CallerDep, service: NamedDependency[FacilityService]
) -> list[FacilityOut]:
    label = service.label
    return [facility_view(f, label) for f in service.visible(caller)]
