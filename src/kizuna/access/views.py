"""HTTP routes of access under ``/api/v1/access``: arrangements (read by all, kept by
administrators) and the check."""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from kizuna.access.models import (
    AccessVerdict,
    ArrangementIn,
    ArrangementOut,
    ArrangementPatch,
    CheckIn,
)
from kizuna.access.rules import CATALOG
from kizuna.access.service import AccessService
from kizuna.core.errors import Invalid
from kizuna.core.time import parse_iso
from kizuna.kernel.context import CallerDep

AccessDep: TypeAlias = NamedDependency[AccessService]


def window(start: str, end: str) -> tuple[dt.datetime, dt.datetime]:
    """Start and end as aware datetimes; 422 unless start is before end."""
    a = dt.datetime.fromtimestamp(parse_iso(start), dt.UTC)
    b = dt.datetime.fromtimestamp(parse_iso(end), dt.UTC)
    if b <= a:
        raise Invalid(CATALOG.msg("error.end-before-start"), errors=["end: not after start"])
    return a, b


class AccessController(Controller):
    path = "/api/v1/access"
    tags = ["access"]  # noqa: RUF012

    @get("/arrangements", summary="Access arrangements (SOFA, RAAs) the caller may see")
    async def list_arrangements(
        self, caller: CallerDep, service: AccessDep
    ) -> list[ArrangementOut]:
        return service.arrangements(caller)

    @post("/arrangements", status_code=201, summary="Add an access arrangement (admin)")
    async def create_arrangement(
        self, data: JSONBody[ArrangementIn], caller: CallerDep, service: AccessDep
    ) -> ArrangementOut:
        return service.create(caller, data)

    @get("/arrangements/{rid:str}", summary="One access arrangement")
    async def get_arrangement(
        self, rid: FromPath[str], caller: CallerDep, service: AccessDep
    ) -> ArrangementOut:
        return service.get(caller, rid)

    @patch("/arrangements/{rid:str}", summary="Change an arrangement this node keeps (admin)")
    async def update_arrangement(
        self,
        rid: FromPath[str],
        data: JSONBody[ArrangementPatch],
        caller: CallerDep,
        service: AccessDep,
    ) -> ArrangementOut:
        return service.update(caller, rid, data)

    @delete("/arrangements/{rid:str}", status_code=204, summary="Remove an arrangement (admin)")
    async def delete_arrangement(
        self, rid: FromPath[str], caller: CallerDep, service: AccessDep
    ) -> None:
        service.delete(caller, rid)

    @post(
        "/check",
        status_code=200,
        summary="May a nation's forces do an activity at a facility on dates? (the access check)",
    )
    async def check_access(
        self, data: JSONBody[CheckIn], caller: CallerDep, service: AccessDep
    ) -> AccessVerdict:
        start, end = window(data.start, data.end)
        return service.check(data.nation, data.activity, data.facility_id, start, end)
