"""The Litestar application of a node."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeAlias

import msgspec
from litestar import Litestar, MediaType, Request, Response, WebSocket, get, post, websocket
from litestar.config.cors import CORSConfig
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import JSONBody
from litestar.static_files import create_static_files_router
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kizuna.api.auth import authenticate, provide_caller, provide_node
from kizuna.api.problems import EXCEPTION_HANDLERS, Problem, problem_response
from kizuna.core.errors import KizunaError
from kizuna.kernel.context import Caller, CallerDep
from kizuna.node.runtime import Node

WEB_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"

NodeDep: TypeAlias = NamedDependency[Node]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    password: str


class UserOut(msgspec.Struct, kw_only=True):
    name: str
    nation: str
    clearance: str
    groups: list[str]
    roles: list[str]
    node_id: str


class LoginOut(msgspec.Struct, kw_only=True):
    token: str
    user: UserOut


class MetaOut(msgspec.Struct, kw_only=True):
    node_id: str
    nation: str
    pmtiles_url: str | None = None


def _user_view(caller_or_user: Any, node: Node) -> UserOut:
    user = caller_or_user.user if isinstance(caller_or_user, Caller) else caller_or_user
    return UserOut(
        name=user.name,
        nation=user.nation,
        clearance=user.clearance,
        groups=user.groups,
        roles=user.roles,
        node_id=node.node_id,
    )


@get("/healthz", media_type=MediaType.JSON, include_in_schema=False)
async def healthz(node: NodeDep) -> dict[str, Any]:
    return {"status": "ok", "node_id": node.node_id}


@get("/metrics", include_in_schema=False)
async def metrics(node: NodeDep) -> Response[bytes]:
    return Response(generate_latest(node.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@post("/api/v1/login", tags=["auth"], summary="Exchange a name and password for a session token")
async def login(data: JSONBody[LoginIn], node: NodeDep) -> LoginOut:
    result = node.login(data.name, data.password)
    if result is None:
        node.refuse("bad_login", data.name[:64])
        raise Problem(401, "wrong name or password", type_="/problems/bad-login")
    user, token = result
    node.audit.append("login", user.name, "ok")
    return LoginOut(token=token, user=_user_view(user, node))


@get("/api/v1/me", tags=["auth"], summary="Who the token belongs to")
async def me(caller: CallerDep, node: NodeDep) -> UserOut:
    return _user_view(caller, node)


@get("/api/v1/meta", tags=["node"], summary="This node")
async def meta(caller: CallerDep, node: NodeDep) -> MetaOut:
    return MetaOut(node_id=node.node_id, nation=node.nation)


@websocket("/api/v1/ws")
async def live(socket: WebSocket[Any, Any, Any]) -> None:
    """The node's push bus: every item is release-checked for this session's caller."""
    try:
        caller = authenticate(socket)
    except Problem:
        await socket.close(code=4401, reason="unauthorised")
        return
    await socket.accept()
    node: Node = socket.app.state.node
    await node.bus.serve(socket, caller.principal, caller.name)


def handle_domain(request: Request[Any, Any, Any], exc: KizunaError) -> Response[Any]:
    node: Node = request.app.state.node
    node.metrics.bad_input.labels("api", exc.kind).inc()
    return problem_response(exc.status, exc.detail, f"/problems/{exc.kind}", **exc.extra)


def create_app(node: Node, route_handlers: list[Any] | None = None) -> Litestar:
    handlers: list[Any] = [healthz, metrics, login, me, meta, live]
    handlers += [*node.routes(), *(route_handlers or [])]
    if WEB_DIST.is_dir():
        handlers.append(
            create_static_files_router(
                path="/", directories=[WEB_DIST], html_mode=True, include_in_schema=False
            )
        )
    app = Litestar(
        route_handlers=handlers,
        dependencies={"caller": Provide(provide_caller), "node": Provide(provide_node)},
        exception_handlers={**EXCEPTION_HANDLERS, KizunaError: handle_domain},
        openapi_config=OpenAPIConfig(
            title="Kizuna node API",
            version="1",
            path="/api/docs",
            render_plugins=[SwaggerRenderPlugin(path="/")],
        ),
        request_max_body_size=node.config.max_body_bytes,
        cors_config=CORSConfig(allow_origins=[]),
        debug=False,
    )
    app.state.node = node
    return app
