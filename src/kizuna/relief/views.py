"""HTTP routes of relief: capabilities (and matching), stocks, shelters, relief plans,
the needs calculator and the item and capability catalogue."""

from __future__ import annotations

from typing import Annotated, ClassVar, TypeAlias

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from kizuna.core.time import parse_iso
from kizuna.kernel.context import CallerDep
from kizuna.relief.models import (
    CapabilityIn,
    CapabilityOut,
    CapabilityPatch,
    CatalogueOut,
    LineMatch,
    MatchIn,
    NeedsIn,
    NeedsOut,
    ReliefPlanIn,
    ReliefPlanOut,
    ReliefPlanPatch,
    ShelterIn,
    ShelterOut,
    ShelterPatch,
    StockIn,
    StockOut,
    StockPatch,
)
from kizuna.relief.service import ReliefService

ReliefServiceDep: TypeAlias = NamedDependency[ReliefService]
Filter = Annotated[str | None, QueryParameter(max_length=200)]
CONFLICT = {"problems": (409,)}


class CapabilityController(Controller):
    path = "/api/v1/capabilities"
    tags: ClassVar[list[str]] = ["relief"]

    @post("/", status_code=201, summary="Offer a capability of this node's nation")
    async def create(
        self, data: JSONBody[CapabilityIn], caller: CallerDep, service: ReliefServiceDep
    ) -> CapabilityOut:
        return service.create_capability(caller, data)

    @get("/", summary="Capabilities the caller may see, most recently changed first")
    async def list_capabilities(
        self,
        caller: CallerDep,
        service: ReliefServiceDep,
        code: Filter = None,
        nation: Filter = None,
    ) -> list[CapabilityOut]:
        return service.capabilities(caller, code=code, nation=nation)

    @post(
        "/match",
        status_code=200,
        summary="For each RFA line, the visible capabilities that fit it and how much each covers",
    )
    async def match(
        self, data: JSONBody[MatchIn], caller: CallerDep, service: ReliefServiceDep
    ) -> list[LineMatch]:
        start = parse_iso(data.start) if data.start else None
        return service.matches(caller, data.lines, start=start, days=data.days)

    @get("/{capability_id:str}", summary="One capability (404 if absent or not releasable)")
    async def get_capability(
        self, capability_id: FromPath[str], caller: CallerDep, service: ReliefServiceDep
    ) -> CapabilityOut:
        return service.capability(caller, capability_id)

    @patch("/{capability_id:str}", summary="Change a capability this node originated")
    async def update(
        self,
        capability_id: FromPath[str],
        data: JSONBody[CapabilityPatch],
        caller: CallerDep,
        service: ReliefServiceDep,
    ) -> CapabilityOut:
        return service.update_capability(caller, capability_id, data)


class StockController(Controller):
    path = "/api/v1/stocks"
    tags: ClassVar[list[str]] = ["relief"]

    @post(
        "/",
        status_code=201,
        summary="Record the stock of an item at a site (quantity, or packs)",
        opt=CONFLICT,
    )
    async def create(
        self, data: JSONBody[StockIn], caller: CallerDep, service: ReliefServiceDep
    ) -> StockOut:
        return service.create_stock(caller, data)

    @get("/", summary="Stocks the caller may see")
    async def list_stocks(
        self,
        caller: CallerDep,
        service: ReliefServiceDep,
        item: Filter = None,
        site_id: Filter = None,
        incident_id: Filter = None,
    ) -> list[StockOut]:
        return service.stocks(caller, item=item, site_id=site_id, incident_id=incident_id)

    @get("/{stock_id:str}", summary="One stock (404 if absent or not releasable)")
    async def get_stock(
        self, stock_id: FromPath[str], caller: CallerDep, service: ReliefServiceDep
    ) -> StockOut:
        return service.stock(caller, stock_id)

    @patch("/{stock_id:str}", summary="Set a stock this node originated")
    async def update(
        self,
        stock_id: FromPath[str],
        data: JSONBody[StockPatch],
        caller: CallerDep,
        service: ReliefServiceDep,
    ) -> StockOut:
        return service.update_stock(caller, stock_id, data)


class ShelterController(Controller):
    path = "/api/v1/shelters"
    tags: ClassVar[list[str]] = ["relief"]

    @post("/", status_code=201, summary="Open an evacuation shelter record")
    async def create(
        self, data: JSONBody[ShelterIn], caller: CallerDep, service: ReliefServiceDep
    ) -> ShelterOut:
        return service.create_shelter(caller, data)

    @get("/", summary="Shelters the caller may see")
    async def list_shelters(
        self, caller: CallerDep, service: ReliefServiceDep, incident_id: Filter = None
    ) -> list[ShelterOut]:
        return service.shelters(caller, incident_id=incident_id)

    @get("/{shelter_id:str}", summary="One shelter (404 if absent or not releasable)")
    async def get_shelter(
        self, shelter_id: FromPath[str], caller: CallerDep, service: ReliefServiceDep
    ) -> ShelterOut:
        return service.shelter(caller, shelter_id)

    @patch("/{shelter_id:str}", summary="Change a shelter this node originated")
    async def update(
        self,
        shelter_id: FromPath[str],
        data: JSONBody[ShelterPatch],
        caller: CallerDep,
        service: ReliefServiceDep,
    ) -> ShelterOut:
        return service.update_shelter(caller, shelter_id, data)


class ReliefPlanController(Controller):
    path = "/api/v1/relief-plans"
    tags: ClassVar[list[str]] = ["relief"]

    @post(
        "/",
        status_code=201,
        summary="Start an incident's relief plan (push-type support by default)",
        opt=CONFLICT,
    )
    async def create(
        self, data: JSONBody[ReliefPlanIn], caller: CallerDep, service: ReliefServiceDep
    ) -> ReliefPlanOut:
        return service.create_plan(caller, data)

    @get("/", summary="Relief plans the caller may see")
    async def list_plans(
        self, caller: CallerDep, service: ReliefServiceDep, incident_id: Filter = None
    ) -> list[ReliefPlanOut]:
        return service.plans(caller, incident_id=incident_id)

    @get("/{incident_id:str}", summary="An incident's relief plan")
    async def get_plan(
        self, incident_id: FromPath[str], caller: CallerDep, service: ReliefServiceDep
    ) -> ReliefPlanOut:
        return service.plan(caller, incident_id)

    @patch(
        "/{incident_id:str}",
        summary="Switch an incident's support mode (push ↔ pull, with a reason), or relabel",
        opt=CONFLICT,
    )
    async def update(
        self,
        incident_id: FromPath[str],
        data: JSONBody[ReliefPlanPatch],
        caller: CallerDep,
        service: ReliefServiceDep,
    ) -> ReliefPlanOut:
        return service.update_plan(caller, incident_id, data)


class NeedsController(Controller):
    path = "/api/v1/needs"
    tags: ClassVar[list[str]] = ["relief"]

    @post("/", status_code=200, summary="Draft RFA lines from population and days (Sphere)")
    async def needs(
        self, data: JSONBody[NeedsIn], caller: CallerDep, service: ReliefServiceDep
    ) -> NeedsOut:
        return service.needs_for(caller, data)


class CatalogueController(Controller):
    path = "/api/v1/relief-catalogue"
    tags: ClassVar[list[str]] = ["relief"]

    @get("/", summary="Relief items, capability codes and support modes, in both languages")
    async def catalogue(self, service: ReliefServiceDep) -> CatalogueOut:
        return service.catalogue()


ROUTES = (
    CapabilityController,
    StockController,
    ShelterController,
    ReliefPlanController,
    NeedsController,
    CatalogueController,
)
