"""Reports: labelled bilingual SITREPs and free-text reports, owned by their origin node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, RecordType
from kizuna.reports.models import REPORT
from kizuna.reports.rules import report_owner


class Reports(Domain):
    name = "reports"

    def record_types(self) -> Sequence[RecordType]:
        return (RecordType(name=REPORT, owner=report_owner),)

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.reports.service import ReportService

        return ReportService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.reports.views import ReportController

        return (ReportController,)


plugin = Reports()
