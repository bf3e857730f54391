"""Bearer-token authentication as a Litestar dependency; ending a login session."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.connection import ASGIConnection

from kizuna.api.language import API
from kizuna.api.problems import Problem
from kizuna.node.runtime import Caller, Node


def node_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Node:
    node: Node = connection.app.state.node
    return node


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return connection.query_params.get("token") if connection.scope["type"] == "websocket" else None


def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    node = node_of(connection)
    token = bearer_token(connection)
    if token is None:
        node.refuse("no_token", "anonymous", path=connection.url.path)
        raise Problem(401, API.msg("auth.no-token"), type_="/problems/no-token")
    caller, reason = node.check_token(token)
    if caller is None:
        node.refuse(reason, "anonymous", path=connection.url.path)
        if reason == "expired_token":
            raise Problem(401, API.msg("auth.expired-token"), type_="/problems/expired-token")
        raise Problem(401, API.msg("auth.bad-token"), type_="/problems/bad-token")
    return caller


async def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    return authenticate(request)


async def provide_node(request: Request[Any, Any, Any]) -> Node:
    return node_of(request)


@post(
    "/api/v1/logout",
    tags=["auth"],
    summary="End this login session (its token stops working)",
    status_code=204,
)
async def logout(request: Request[Any, Any, Any]) -> None:
    caller = authenticate(request)
    node = node_of(request)
    token = bearer_token(request)
    if token is not None and node.logout(token):
        node.audit.append("logout", caller.name, "ok")
