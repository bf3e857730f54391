"""HTTP routes for reports."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, get, patch, post

from kizuna.core.errors import Invalid
from kizuna.node.runtime import Caller, Node
from kizuna.operations.models import ReportIn, ReportPatch
from kizuna.operations.service import ReportService, report_view

MAX_BATCH = 1000


class ReportController(Controller):
    path = "/api/v1/reports"
    tags: ClassVar[list[str]] = ["reports"]

    @post("/", status_code=201, summary="Create a labelled bilingual report")
    async def create(self, data: ReportIn, caller: Caller, node: Node) -> dict[str, Any]:
        return report_view(ReportService(node).create(caller, data))

    @post("/batch", status_code=201, summary="Create up to 1,000 reports in one commit")
    async def create_batch(
        self, data: list[ReportIn], caller: Caller, node: Node
    ) -> list[dict[str, Any]]:
        if not 1 <= len(data) <= MAX_BATCH:
            raise Invalid(f"a batch holds 1 to {MAX_BATCH} reports, not {len(data)}")
        return [report_view(s) for s in ReportService(node).create_many(caller, data)]

    @get("/", summary="Reports the caller may see, newest first")
    async def list_reports(self, caller: Caller, node: Node) -> list[dict[str, Any]]:
        return [report_view(s) for s in ReportService(node).list(caller)]

    @get("/{report_id:str}", summary="One report (404 if absent or not releasable)")
    async def get_report(self, report_id: str, caller: Caller, node: Node) -> dict[str, Any]:
        return report_view(ReportService(node).get(caller, report_id))

    @patch("/{report_id:str}", summary="Change a report this node originated")
    async def update(
        self, report_id: str, data: ReportPatch, caller: Caller, node: Node
    ) -> dict[str, Any]:
        return report_view(ReportService(node).update(caller, report_id, data))
