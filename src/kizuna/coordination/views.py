"""HTTP routes for coordination requests."""

from __future__ import annotations

from typing import Annotated, ClassVar, TypeAlias
from urllib.parse import quote

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from kizuna.coordination.models import (
    TRANSITION,
    CommentIn,
    RequestIn,
    RequestOut,
    RequestPatch,
    StatusName,
    TransitionIn,
)
from kizuna.coordination.service import RequestService
from kizuna.kernel.context import CallerDep

RequestServiceDep: TypeAlias = NamedDependency[RequestService]


class RequestController(Controller):
    path = "/api/v1/requests"
    tags: ClassVar[list[str]] = ["requests"]

    @post("/", status_code=201, summary="Create a coordination request (as a DRAFT)")
    async def create(
        self, data: JSONBody[RequestIn], caller: CallerDep, service: RequestServiceDep
    ) -> RequestOut:
        return service.view(caller, service.create(caller, data))

    @get("/", summary="Requests the caller may see, most recently changed first")
    async def list_requests(
        self,
        caller: CallerDep,
        service: RequestServiceDep,
        status: FromQuery[StatusName | None] = None,
        addressee: Annotated[str | None, QueryParameter(max_length=64)] = None,
        overdue: FromQuery[bool | None] = None,
    ) -> list[RequestOut]:
        states = service.list(caller, status=status, addressee=addressee, overdue=overdue)
        return [service.view(caller, s) for s in states]

    @get("/{request_id:str}", summary="One request (404 if absent or not releasable)")
    async def get_request(
        self, request_id: FromPath[str], caller: CallerDep, service: RequestServiceDep
    ) -> RequestOut:
        return service.view(caller, service.get(caller, request_id))

    @patch(
        "/{request_id:str}",
        summary="Change the content (requester side; 409 once the request is closed)",
        opt={"problems": (409,)},
    )
    async def edit(
        self,
        request_id: FromPath[str],
        data: JSONBody[RequestPatch],
        caller: CallerDep,
        service: RequestServiceDep,
    ) -> RequestOut:
        return service.view(caller, service.edit(caller, request_id, data))

    @post(
        "/{request_id:str}/transitions",
        status_code=200,
        summary="Move along the lifecycle (409 for a move the current status does not allow)",
        opt={"problems": (409,)},
    )
    async def transition(
        self,
        request_id: FromPath[str],
        data: JSONBody[Annotated[TransitionIn, TRANSITION]],
        caller: CallerDep,
        service: RequestServiceDep,
    ) -> RequestOut:
        return service.view(caller, service.transition(caller, request_id, data))

    @post("/{request_id:str}/comments", status_code=201, summary="Add a labelled comment")
    async def comment(
        self,
        request_id: FromPath[str],
        data: JSONBody[CommentIn],
        caller: CallerDep,
        service: RequestServiceDep,
    ) -> RequestOut:
        return service.view(caller, service.comment(caller, request_id, data))

    @get(
        "/{request_id:str}/attachments/{attachment_id:str}",
        summary="An attachment's content",
        responses={
            200: ResponseSpec(
                data_container=bytes,
                description="The content, as the media type it was attached with",
                media_type="*/*",
                generate_examples=False,
            )
        },
    )
    async def attachment(
        self,
        request_id: FromPath[str],
        attachment_id: FromPath[str],
        caller: CallerDep,
        service: RequestServiceDep,
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
