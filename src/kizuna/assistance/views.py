"""HTTP routes: /api/v1/rfas, /api/v1/offers, /api/v1/tasks."""

from __future__ import annotations

from typing import Annotated, ClassVar, TypeAlias

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from kizuna.assistance import rules
from kizuna.assistance.models import (
    UNITS,
    OfferIn,
    OfferOut,
    OfferTransitionIn,
    ProgressReport,
    RfaIn,
    RfaOut,
    RfaPatch,
    RfaTransitionIn,
    TaskIn,
    TaskOut,
    TaskPatch,
    TaskTransitionIn,
)
from kizuna.assistance.service import AssistanceService
from kizuna.kernel.context import CallerDep

# The document lists the units the rules take.
if set(UNITS) != {*rules.CONVERSIONS, *(u for units in rules.BASE_UNITS.values() for u in units)}:
    raise RuntimeError("assistance.models.UNITS is not the rules' units")

ServiceDep: TypeAlias = NamedDependency[AssistanceService]
IdQuery = Annotated[str | None, QueryParameter(max_length=128)]
_409 = {"problems": (409,)}


class RfaController(Controller):
    path = "/api/v1/rfas"
    tags: ClassVar[list[str]] = ["assistance"]

    @post("/", status_code=201, summary="Create a request for assistance (as a DRAFT)")
    async def create(self, data: JSONBody[RfaIn], caller: CallerDep, service: ServiceDep) -> RfaOut:
        return service.create_rfa(caller, data)

    @get("/", summary="RFAs the caller may see, with roll-ups of the offers it may see")
    async def list_rfas(
        self, caller: CallerDep, service: ServiceDep, incident: IdQuery = None
    ) -> list[RfaOut]:
        return service.rfas(caller, incident)

    @get("/{rfa_id:str}", summary="One RFA (404 if absent or not releasable)")
    async def get_rfa(
        self, rfa_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> RfaOut:
        return service.rfa(caller, rfa_id)

    @patch(
        "/{rfa_id:str}",
        summary="Change lines and content (requester, before validation) or priority (affected state)",
        opt=_409,
    )
    async def edit(
        self,
        rfa_id: FromPath[str],
        data: JSONBody[RfaPatch],
        caller: CallerDep,
        service: ServiceDep,
    ) -> RfaOut:
        return service.edit_rfa(caller, rfa_id, data)

    @post("/{rfa_id:str}/transition", status_code=200, summary="Move along the lifecycle", opt=_409)
    async def transition(
        self,
        rfa_id: FromPath[str],
        data: JSONBody[RfaTransitionIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> RfaOut:
        return service.transition_rfa(caller, rfa_id, data)


class OfferController(Controller):
    path = "/api/v1/offers"
    tags: ClassVar[list[str]] = ["assistance"]

    @post("/", status_code=201, summary="Offer assistance (for an RFA, or unsolicited)")
    async def create(
        self, data: JSONBody[OfferIn], caller: CallerDep, service: ServiceDep
    ) -> OfferOut:
        return service.create_offer(caller, data)

    @get("/", summary="Offers the caller may see (of one RFA)")
    async def list_offers(
        self, caller: CallerDep, service: ServiceDep, rfa: IdQuery = None
    ) -> list[OfferOut]:
        return service.offers(caller, rfa)

    @get("/{offer_id:str}", summary="One offer (404 if absent or not releasable)")
    async def get_offer(
        self, offer_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> OfferOut:
        return service.offer(caller, offer_id)

    @post(
        "/{offer_id:str}/transition",
        status_code=200,
        summary="Accept or decline (affected state); in transit, delivered, withdrawn (offerer)",
        opt=_409,
    )
    async def transition(
        self,
        offer_id: FromPath[str],
        data: JSONBody[OfferTransitionIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> OfferOut:
        return service.transition_offer(caller, offer_id, data)

    @post(
        "/{offer_id:str}/progress",
        status_code=200,
        summary="Report in-transit and delivered totals on a commitment (offerer)",
        opt=_409,
    )
    async def progress(
        self,
        offer_id: FromPath[str],
        data: JSONBody[ProgressReport],
        caller: CallerDep,
        service: ServiceDep,
    ) -> OfferOut:
        return service.report_progress(caller, offer_id, data)


class TaskController(Controller):
    path = "/api/v1/tasks"
    tags: ClassVar[list[str]] = ["assistance"]

    @get("/", summary="Tasks the caller may see (of one incident or offer)")
    async def list_tasks(
        self,
        caller: CallerDep,
        service: ServiceDep,
        incident: IdQuery = None,
        offer: IdQuery = None,
    ) -> list[TaskOut]:
        return service.tasks(caller, incident, offer)

    @post("/", status_code=201, summary="A further task of an accepted offer (offerer)", opt=_409)
    async def create(
        self, data: JSONBody[TaskIn], caller: CallerDep, service: ServiceDep
    ) -> TaskOut:
        return service.create_task(caller, data)

    @get("/{task_id:str}", summary="One task (404 if absent or not releasable)")
    async def get_task(
        self, task_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> TaskOut:
        return service.task(caller, task_id)

    @patch("/{task_id:str}", summary="Unit, due time, linked track (executing node)", opt=_409)
    async def edit(
        self,
        task_id: FromPath[str],
        data: JSONBody[TaskPatch],
        caller: CallerDep,
        service: ServiceDep,
    ) -> TaskOut:
        return service.edit_task(caller, task_id, data)

    @post(
        "/{task_id:str}/transition", status_code=200, summary="Move along the lifecycle", opt=_409
    )
    async def transition(
        self,
        task_id: FromPath[str],
        data: JSONBody[TaskTransitionIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> TaskOut:
        return service.transition_task(caller, task_id, data)
