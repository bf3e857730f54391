"""HTTP routes for coordination requests."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import quote

from litestar import Controller, Response, get, patch, post
from litestar.params import Parameter

from kizuna.coordination.models import (
    CommentIn,
    RequestIn,
    RequestOut,
    RequestPatch,
    StatusName,
    TransitionIn,
)
from kizuna.coordination.service import RequestService
from kizuna.kernel.context import Caller


class RequestController(Controller):
    path = "/api/v1/requests"
    tags: ClassVar[list[str]] = ["requests"]

    @post("/", status_code=201, summary="Create a coordination request (as a DRAFT)")
    async def create(self, data: RequestIn, caller: Caller, service: RequestService) -> RequestOut:
        return service.view(caller, service.create(caller, data))

    @get("/", summary="Requests the caller may see, most recently changed first")
    async def list_requests(
        self,
        caller: Caller,
        service: RequestService,
        status: StatusName | None = None,
        addressee: str | None = Parameter(default=None, max_length=64),
        overdue: bool | None = None,
    ) -> list[RequestOut]:
        states = service.list(caller, status=status, addressee=addressee, overdue=overdue)
        return [service.view(caller, s) for s in states]

    @get("/{request_id:str}", summary="One request (404 if absent or not releasable)")
    async def get_request(
        self, request_id: str, caller: Caller, service: RequestService
    ) -> RequestOut:
        return service.view(caller, service.get(caller, request_id))

    @patch("/{request_id:str}", summary="Change the content (requester side)")
    async def edit(
        self, request_id: str, data: RequestPatch, caller: Caller, service: RequestService
    ) -> RequestOut:
        return service.view(caller, service.edit(caller, request_id, data))

    @post("/{request_id:str}/transitions", status_code=200, summary="Move along the lifecycle")
    async def transition(
        self, request_id: str, data: TransitionIn, caller: Caller, service: RequestService
    ) -> RequestOut:
        return service.view(caller, service.transition(caller, request_id, data))

    @post("/{request_id:str}/comments", status_code=201, summary="Add a labelled comment")
    async def comment(
        self, request_id: str, data: CommentIn, caller: Caller, service: RequestService
    ) -> RequestOut:
        return service.view(caller, service.comment(caller, request_id, data))

    @get("/{request_id:str}/attachments/{attachment_id:str}", summary="An attachment's content")
    async def attachment(
        self, request_id: str, attachment_id: str, caller: Caller, service: RequestService
    ) -> Response[bytes]:
        entry, content = service.attachment(caller, request_id, attachment_id)
        name = quote(str(entry.data["name"]), safe="")
        return Response(
            content,
            media_type=str(entry.data["media_type"]),
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                "X-Content-Type-Options": "nosniff",
            },
        )
