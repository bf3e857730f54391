"""Coordination requests between commands: lifecycle, merge rules, API, overdue watch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kizuna.coordination.models import REQUEST
from kizuna.coordination.rules import merge_request, request_owner
from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Job, OpenNode, RecordType

if TYPE_CHECKING:
    import typer

    from kizuna.coordination.service import RequestService


class Coordination(Domain):
    name = "coordination"

    def record_types(self) -> Sequence[RecordType]:
        # Comments and attachments live inside the request record (its merge keeps
        # them, each with its own label bounded by the request's), not as records.
        return (RecordType(name=REQUEST, merge=merge_request, owner=request_owner),)

    def start(self, ctx: NodeContext) -> RequestService:
        from kizuna.coordination.service import RequestService

        return RequestService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.coordination.views import RequestController

        return (RequestController,)

    def jobs(self, service: RequestService) -> Sequence[Job]:
        return (service.watch_overdue(),)

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        from kizuna.coordination.cli import request_app

        return {"request": request_app(open_node)}


plugin = Coordination()
