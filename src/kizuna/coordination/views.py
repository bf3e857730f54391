"""HTTP routes for coordination requests."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from litestar import Controller, Response, get, patch, post
from litestar.params import Parameter

from kizuna.coordination.models import (
    CommentIn,
    RequestIn,
    RequestPatch,
    StatusName,
    TransitionIn,
)
from kizuna.coordination.service import RequestService, request_view
from kizuna.node.runtime import Caller, Node


class RequestController(Controller):
    path = "/api/v1/requests"
    tags: ClassVar[list[str]] = ["requests"]

    @post("/", status_code=201, summary="Create a coordination request (as a DRAFT)")
    async def create(self, data: RequestIn, caller: Caller, node: Node) -> dict[str, Any]:
        return request_view(node, caller, RequestService(node).create(caller, data))

    @get("/", summary="Requests the caller may see, most recently changed first")
    async def list_requests(
        self,
        caller: Caller,
        node: Node,
        status: StatusName | None = None,
        addressee: str | None = Parameter(default=None, max_length=64),
        overdue: bool | None = None,
    ) -> list[dict[str, Any]]:
        states = RequestService(node).list(
            caller, status=status, addressee=addressee, overdue=overdue
        )
        return [request_view(node, caller, s) for s in states]

    @get("/{request_id:str}", summary="One request (404 if absent or not releasable)")
    async def get_request(self, request_id: str, caller: Caller, node: Node) -> dict[str, Any]:
        return request_view(node, caller, RequestService(node).get(caller, request_id))

    @patch("/{request_id:str}", summary="Change the content (requester side)")
    async def edit(
        self, request_id: str, data: RequestPatch, caller: Caller, node: Node
    ) -> dict[str, Any]:
        return request_view(node, caller, RequestService(node).edit(caller, request_id, data))

    @post("/{request_id:str}/transitions", status_code=200, summary="Move along the lifecycle")
    async def transition(
        self, request_id: str, data: TransitionIn, caller: Caller, node: Node
    ) -> dict[str, Any]:
        state = RequestService(node).transition(caller, request_id, data)
        return request_view(node, caller, state)

    @post("/{request_id:str}/comments", status_code=201, summary="Add a labelled comment")
    async def comment(
        self, request_id: str, data: CommentIn, caller: Caller, node: Node
    ) -> dict[str, Any]:
        return request_view(node, caller, RequestService(node).comment(caller, request_id, data))

    @get("/{request_id:str}/attachments/{attachment_id:str}", summary="An attachment's content")
    async def attachment(
        self, request_id: str, attachment_id: str, caller: Caller, node: Node
    ) -> Response[bytes]:
        entry, content = RequestService(node).attachment(caller, request_id, attachment_id)
        name = quote(str(entry.data["name"]), safe="")
        return Response(
            content,
            media_type=str(entry.data["media_type"]),
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                "X-Content-Type-Options": "nosniff",
            },
        )
