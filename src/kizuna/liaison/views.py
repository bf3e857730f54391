"""HTTP routes: /api/v1/liaison/entries, /api/v1/liaison/terms, /api/v1/liaison/today."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from kizuna.kernel.context import CallerDep
from kizuna.liaison.models import LiaisonEntryIn, LiaisonEntryOut, TermOut, TodayOut
from kizuna.liaison.service import LiaisonService

ServiceDep: TypeAlias = NamedDependency[LiaisonService]
TermQuery = Annotated[str, QueryParameter(max_length=2_000)]


class LiaisonController(Controller):
    path = "/api/v1/liaison"
    tags = ("liaison",)

    @get("/today", summary="Today's open items involving both chains, as the caller may see them")
    async def today(self, caller: CallerDep, service: ServiceDep) -> TodayOut:
        return service.today(caller)

    @get("/terms", summary="Glossary terms in (or matching) q, with the other language's term")
    async def terms(
        self, caller: CallerDep, service: ServiceDep, q: TermQuery = ""
    ) -> list[TermOut]:
        return service.terms(q)

    @get("/entries", summary="The shared liaison log the caller may see, newest first")
    async def entries(self, caller: CallerDep, service: ServiceDep) -> list[LiaisonEntryOut]:
        return service.entries(caller)

    @post("/entries", status_code=201, summary="Write a liaison log entry")
    async def create(
        self, data: JSONBody[LiaisonEntryIn], caller: CallerDep, service: ServiceDep
    ) -> LiaisonEntryOut:
        return service.create_entry(caller, data)

    @get("/entries/{entry_id:str}", summary="One entry (404 if absent or not releasable)")
    async def entry(
        self, entry_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> LiaisonEntryOut:
        return service.entry(caller, entry_id)
