"""HTTP routes of the ORBAT under ``/api/v1/orbat``: units, relations, the tree as of a
time, export and import. Every read passes the release check; bad input answers
problem+json (a command edge across two nations' chains: 422 with ``reason`` in EN/JA)."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from kizuna.core.errors import KizunaError
from kizuna.core.time import DATE_TIME, parse_iso
from kizuna.kernel.context import CallerDep
from kizuna.orbat.models import (
    ImportResult,
    OrbatDocument,
    RelationIn,
    RelationOut,
    RelationPatch,
    Resubordinate,
    TreeOut,
    UnitIn,
    UnitOut,
    UnitPatch,
)
from kizuna.orbat.service import CATALOG, OrbatService

OrbatServiceDep: TypeAlias = NamedDependency[OrbatService]

AtQuery = Annotated[
    str | None,
    QueryParameter(
        description="ISO 8601: the task organisation as of this instant (default now)",
        schema_extra={"pattern": DATE_TIME},
    ),
]
UnitQuery = Annotated[
    str | None, QueryParameter(description="only edges from or to this unit", max_length=64)
]


def _at(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        detail = CATALOG.msg("error.bad-at", text=repr(text[:60]))
        raise KizunaError(detail, parameter="at") from None


class OrbatController(Controller):
    path = "/api/v1/orbat"
    tags = ("orbat",)

    @get("/units", summary="Units the caller may see")
    async def list_units(self, caller: CallerDep, service: OrbatServiceDep) -> list[UnitOut]:
        return service.units(caller)

    @post("/units", status_code=201, summary="Add a unit this node owns")
    async def create_unit(
        self, data: JSONBody[UnitIn], caller: CallerDep, service: OrbatServiceDep
    ) -> UnitOut:
        return service.create_unit(caller, data)

    @get("/units/{unit_id:str}", summary="One unit (404 if absent or not releasable)")
    async def get_unit(
        self, unit_id: FromPath[str], caller: CallerDep, service: OrbatServiceDep
    ) -> UnitOut:
        return service.unit(caller, unit_id)

    @patch("/units/{unit_id:str}", summary="Change a unit this node owns")
    async def update_unit(
        self,
        unit_id: FromPath[str],
        data: JSONBody[UnitPatch],
        caller: CallerDep,
        service: OrbatServiceDep,
    ) -> UnitOut:
        return service.update_unit(caller, unit_id, data)

    @delete("/units/{unit_id:str}", status_code=204, summary="Remove a unit this node owns")
    async def delete_unit(
        self, unit_id: FromPath[str], caller: CallerDep, service: OrbatServiceDep
    ) -> None:
        service.delete_unit(caller, unit_id)

    @post(
        "/units/{unit_id:str}/resubordinate",
        status_code=200,
        summary="End the unit's command edges at a time and start one to a new superior",
    )
    async def resubordinate(
        self,
        unit_id: FromPath[str],
        data: JSONBody[Resubordinate],
        caller: CallerDep,
        service: OrbatServiceDep,
    ) -> list[RelationOut]:
        return service.resubordinate(caller, unit_id, data)

    @get("/relations", summary="Relationships the caller may see (all of time, or at an instant)")
    async def list_relations(
        self,
        caller: CallerDep,
        service: OrbatServiceDep,
        unit: UnitQuery = None,
        at: AtQuery = None,
    ) -> list[RelationOut]:
        return service.relations(caller, unit=unit, at=_at(at))

    @post(
        "/relations",
        status_code=201,
        summary="Add a relationship (command edges only within one nation's chain)",
    )
    async def create_relation(
        self, data: JSONBody[RelationIn], caller: CallerDep, service: OrbatServiceDep
    ) -> RelationOut:
        return service.create_relation(caller, data)

    @get("/relations/{relation_id:str}", summary="One relationship")
    async def get_relation(
        self, relation_id: FromPath[str], caller: CallerDep, service: OrbatServiceDep
    ) -> RelationOut:
        return service.relation(caller, relation_id)

    @patch("/relations/{relation_id:str}", summary="End a relationship or relabel it")
    async def update_relation(
        self,
        relation_id: FromPath[str],
        data: JSONBody[RelationPatch],
        caller: CallerDep,
        service: OrbatServiceDep,
    ) -> RelationOut:
        return service.update_relation(caller, relation_id, data)

    @delete(
        "/relations/{relation_id:str}",
        status_code=204,
        summary="Remove a relationship recorded in error (ending one keeps its history)",
    )
    async def delete_relation(
        self, relation_id: FromPath[str], caller: CallerDep, service: OrbatServiceDep
    ) -> None:
        service.delete_relation(caller, relation_id)

    @get("/tree", summary="The task organisation as of an instant, as the caller may see it")
    async def get_tree(
        self, caller: CallerDep, service: OrbatServiceDep, at: AtQuery = None
    ) -> TreeOut:
        return service.tree(caller, _at(at))

    @get("/export", summary="The ORBAT the caller may see, in the kizuna-orbat JSON form")
    async def export(self, caller: CallerDep, service: OrbatServiceDep) -> OrbatDocument:
        return service.export(caller)

    @post(
        "/import",
        status_code=200,
        summary="Import a kizuna-orbat document as this node's units and relationships",
    )
    async def import_document(
        self, data: JSONBody[OrbatDocument], caller: CallerDep, service: OrbatServiceDep
    ) -> ImportResult:
        return service.import_document(caller, data)
