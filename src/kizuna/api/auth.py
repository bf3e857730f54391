"""Bearer-token authentication as a Litestar dependency."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection

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
        raise Problem(
            401,
            "missing bearer token: send 'Authorization: Bearer TOKEN'",
            type_="/problems/no-token",
        )
    caller = node.caller_for_token(token)
    if caller is None:
        node.refuse("bad_token", "anonymous", path=connection.url.path)
        raise Problem(401, "unknown or revoked token", type_="/problems/bad-token")
    return caller


async def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    return authenticate(request)


async def provide_node(request: Request[Any, Any, Any]) -> Node:
    return node_of(request)
