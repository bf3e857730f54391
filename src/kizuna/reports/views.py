"""HTTP routes for reports."""

from __future__ import annotations

from typing import Annotated, ClassVar, TypeAlias

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from kizuna.core.errors import Invalid
from kizuna.kernel.context import CallerDep
from kizuna.reports.models import ReportIn, ReportOut, ReportPatch
from kizuna.reports.rules import MESSAGES
from kizuna.reports.service import ReportService, report_view

MAX_BATCH = 1000

ReportServiceDep: TypeAlias = NamedDependency[ReportService]


class ReportController(Controller):
    path = "/api/v1/reports"
    tags: ClassVar[list[str]] = ["reports"]

    @post("/", status_code=201, summary="Create a labelled bilingual report")
    async def create(
        self, data: JSONBody[ReportIn], caller: CallerDep, service: ReportServiceDep
    ) -> ReportOut:
        return report_view(service.create(caller, data))

    @post("/batch", status_code=201, summary="Create up to 1,000 reports in one commit")
    async def create_batch(
        self,
        data: JSONBody[Annotated[list[ReportIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]],
        caller: CallerDep,
        service: ReportServiceDep,
    ) -> list[ReportOut]:
        # the annotation documents the bounds; Litestar does not check them
        if not 1 <= len(data) <= MAX_BATCH:
            raise Invalid(MESSAGES.msg("error.batch", limit=MAX_BATCH, count=len(data)))
        return [report_view(s) for s in service.create_many(caller, data)]

    @get("/", summary="Reports the caller may see, newest first")
    async def list_reports(self, caller: CallerDep, service: ReportServiceDep) -> list[ReportOut]:
        return [report_view(s) for s in service.list(caller)]

    @get("/{report_id:str}", summary="One report (404 if absent or not releasable)")
    async def get_report(
        self, report_id: FromPath[str], caller: CallerDep, service: ReportServiceDep
    ) -> ReportOut:
        return report_view(service.get(caller, report_id))

    @patch("/{report_id:str}", summary="Change a report this node originated")
    async def update(
        self,
        report_id: FromPath[str],
        data: JSONBody[ReportPatch],
        caller: CallerDep,
        service: ReportServiceDep,
    ) -> ReportOut:
        return report_view(service.update(caller, report_id, data))
