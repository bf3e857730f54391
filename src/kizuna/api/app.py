"""The Litestar application of a node."""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import anyio.to_thread
import msgspec
from litestar import Litestar, MediaType, Request, Response, WebSocket, get, post, websocket
from litestar.config.cors import CORSConfig
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import WebSocketDisconnect
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import JSONBody
from litestar.routes import HTTPRoute
from litestar.utils.helpers import unwrap_partial
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kizuna.api.assets import asset_routes
from kizuna.api.auth import authenticate, provide_caller, provide_node
from kizuna.api.auth import logout as auth_logout  # ends a login session (issue 17)
from kizuna.api.document import DocumentJson  # the document says what the API accepts
from kizuna.api.language import API, language_of_headers
from kizuna.api.limits import RateLimits  # per-user rate limits (issue 17)
from kizuna.api.problems import (
    EXCEPTION_HANDLERS,
    PROBLEM,
    Problem,
    declare_errors,
    language_of,
    problem_response,
    title,
)
from kizuna.core.errors import KizunaError
from kizuna.kernel.bus import MAX_JSON_DEPTH, json_too_deep
from kizuna.kernel.context import Caller, CallerDep
from kizuna.node.runtime import Node

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

# The web app's build; KIZUNA_WEB_DIST serves another (bench/web_map.py compares two builds).
WEB_DIST = Path(
    os.environ.get("KIZUNA_WEB_DIST") or Path(__file__).resolve().parents[3] / "web" / "dist"
)

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
        raise Problem(401, API.msg("auth.bad-login"), type_="/problems/bad-login")
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
        try:
            caller = authenticate(socket)
        except Problem:
            await socket.close(code=4401, reason="unauthorised")
            return
        await socket.accept()
        node: Node = socket.app.state.node
        first = socket.query_params.get("msg")  # the first client message, if any (bus.py)
        await node.bus.serve(socket, caller.principal, caller.name, first)
    finally:
        _let_go(socket)


async def _gone(*_: Any) -> Any:
    raise WebSocketDisconnect(detail="the session has ended")


def _let_go(socket: WebSocket[Any, Any, Any]) -> None:
    """Break the cycle between a finished Litestar WebSocket and its receive/send wrappers
    (closures over the socket), so that the connection is freed at once rather than at the
    next full garbage collection."""
    socket.receive = _gone
    socket.send = _gone


def handle_domain(request: Request[Any, Any, Any], exc: KizunaError) -> Response[Any]:
    node: Node = request.app.state.node
    node.metrics.bad_input.labels("api", exc.kind).inc()
    language = language_of(request)
    return problem_response(
        exc.status, exc.render(language), f"/problems/{exc.kind}", language=language, **exc.extra
    )


def create_app(node: Node, route_handlers: list[Any] | None = None) -> Litestar:
    handlers: list[Any] = [healthz, metrics, login, me, meta, live]
    handlers.append(auth_logout)  # POST /api/v1/logout (api/auth.py)
    handlers += [*node.routes(), *(route_handlers or [])]
    if WEB_DIST.is_dir():
        handlers += asset_routes(WEB_DIST)  # cached a year by hash, gzip (api/assets.py)
    options_allow = OptionsAllow()
    app = Litestar(
        route_handlers=handlers,
        dependencies={"caller": Provide(provide_caller), "node": Provide(provide_node)},
        exception_handlers={**EXCEPTION_HANDLERS, KizunaError: handle_domain},
        openapi_config=OpenAPIConfig(
            title="Kizuna node API",
            version="1",
            path="/api/docs",
            render_plugins=[SwaggerRenderPlugin(path="/"), DocumentJson(node.nation, node.groups)],
        ),
        request_max_body_size=node.config.max_body_bytes,
        middleware=[
            json_depth_limit(node),  # 400 on JSON nested too deep, before anything decodes it
            RateLimits(node),  # 429 on writes/logins over [limits] (api/limits.py)
            options_allow,  # OPTIONS names every method of the path
        ],
        cors_config=CORSConfig(allow_origins=[]),
        debug=False,
    )
    app.state.node = node
    writes_off_the_loop(app)  # a write's store calls block: not the event loop
    declare_errors(app)  # problem+json answers in the OpenAPI document (api/problems.py)
    options_allow.learn(app)
    register_session_metrics(node)
    return app


# -- writes in worker threads --------------------------------------------------------
_thread_loops = threading.local()


def _run_here(fn: Callable[..., Awaitable[Any]], kwargs: dict[str, Any]) -> Any:
    """Run the handler ``fn`` to its end in this (worker) thread, on a loop of its own."""
    loop = getattr(_thread_loops, "loop", None)
    if loop is None:
        loop = _thread_loops.loop = asyncio.new_event_loop()
    return loop.run_until_complete(fn(**kwargs))


def _in_thread(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def threaded(**kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(_run_here, fn, kwargs)

    # The OpenAPI document names operations and describes them after the function.
    functools.update_wrapper(threaded, unwrap_partial(fn))
    threaded.__kizuna_threaded__ = True  # type: ignore[attr-defined]
    return threaded


def writes_off_the_loop(app: Litestar) -> None:
    """Run every write handler (POST, PUT, PATCH, DELETE) in a worker thread.

    The handlers call the store synchronously, and a commit waits for the database (a
    round trip, the WAL flush): on the event loop that wait stalls every other request of
    the worker, so one worker served one write at a time. In a thread (anyio's pool) the
    loop keeps reading, decoding and answering while commits wait, and the database sees
    several commits of the worker at once. The body is decoded and the dependencies are
    resolved on the loop first, as before; a handler runs on a loop of its thread's own,
    so it must not await the request's own loop (none does: they take ``data``)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not BODY_METHODS & set(handler.http_methods) or handler.has_sync_callable:
                continue  # a sync handler: Litestar's sync_to_thread says where it runs
            fn = handler.fn
            if not getattr(fn, "__kizuna_threaded__", False):
                handler._fn = _in_thread(fn)


# -- resource limits (issue 17) --------------------------------------------------------
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_JSON_HANDLERS: dict[int, bool] = {}  # id of a route handler -> it decodes its body as JSON


def _decodes_json(handler: Any) -> bool:
    """Whether a route handler decodes its body as JSON: it takes ``data`` (JSONBody, or a
    plain annotation), whatever content type the request names — Litestar decodes it as
    JSON all the same. A file or form body is not JSON, so not checked for nesting."""
    if handler is None:
        return False
    known = _JSON_HANDLERS.get(id(handler))
    if known is None:
        data = handler.parsed_fn_signature.parameters.get("data")
        media = getattr(getattr(data, "kwarg_definition", None), "media_type", None)
        known = data is not None and (media is None or media == RequestEncodingType.JSON)
        _JSON_HANDLERS[id(handler)] = known
    return known


def json_depth_limit(node: Node) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: a request body nested deeper than MAX_JSON_DEPTH is answered 400.

    Checked on the raw body before any handler decodes it (decoders recurse, and a few
    thousand levels raised RecursionError: a 500). A body over the size limit is passed
    on unread beyond the limit, for Litestar to answer 413.
    """
    limit = node.config.max_body_bytes

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] != "http"
                or scope.get("method") not in BODY_METHODS
                or not _decodes_json(scope.get("route_handler"))
            ):
                await app(scope, receive, send)
                return
            read: list[Any] = []
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await receive()
                read.append(message)
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                chunks.append(chunk)
                size += len(chunk)
                if size > limit or not message.get("more_body", False):
                    break
            last = read[-1]
            complete = last["type"] == "http.request" and not last.get("more_body", False)
            if complete and size <= limit:
                body = b"".join(chunks)
                if json_too_deep(body):
                    node.metrics.bad_input.labels("api", "json-too-deep").inc()
                    language = language_of_headers(scope.get("headers", ()))
                    await _send_problem(
                        send,
                        400,
                        API.get(language, "detail.json-too-deep", depth=MAX_JSON_DEPTH),
                        "/problems/json-too-deep",
                        language,
                    )
                    return
                read = [{"type": "http.request", "body": body, "more_body": False}]

            async def replay() -> Any:
                if read:
                    return read.pop(0)
                return await receive()

            await app(scope, replay, send)

        return middleware

    return wrap


class OptionsAllow:
    """Middleware: ``OPTIONS`` answers ``Allow`` with every method of the path.

    Litestar builds a path's route one handler at a time, and the OPTIONS handler it adds
    to the first keeps that first route's methods (``/api/v1/reports`` answered
    ``Allow: OPTIONS, POST``, without GET). The methods are learnt from the finished app.
    """

    def __init__(self) -> None:
        self.allow: dict[int, str] = {}  # id of an OPTIONS handler -> its path's methods

    def learn(self, app: Litestar) -> None:
        for route in app.routes:
            if isinstance(route, HTTPRoute) and "OPTIONS" in route.methods:
                handler, _ = route.route_handler_map["OPTIONS"]
                self.allow[id(handler)] = ", ".join(sorted(route.methods))

    def __call__(self, app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            allow = None
            if scope["type"] == "http" and scope.get("method") == "OPTIONS":
                allow = self.allow.get(id(scope.get("route_handler")))
            if allow is None:
                await app(scope, receive, send)
                return

            async def send_allow(message: Any) -> None:
                if message["type"] == "http.response.start":
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"
                    ]
                    message = {**message, "headers": [*headers, (b"allow", allow.encode())]}
                await send(message)

            await app(scope, receive, send_allow)

        return middleware


async def _send_problem(send: Send, status: int, detail: str, type_: str, language: str) -> None:
    body = msgspec.json.encode(
        {"type": type_, "title": title(status, language), "status": status, "detail": detail}
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class _SessionMetrics:
    """``kizuna_ws_sessions`` (open now) and ``kizuna_ws_sessions_ended_total{reason}``."""

    def __init__(self, node: Node) -> None:
        self.bus = node.bus

    def describe(self) -> list[Any]:
        return list(self.collect())

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        gauge = GaugeMetricFamily("kizuna_ws_sessions", "Open WebSocket sessions of the push bus")
        gauge.add_metric([], self.bus.subscribers)
        yield gauge
        ended = CounterMetricFamily(
            "kizuna_ws_sessions_ended",
            "WebSocket sessions ended, by reason (closed, bad_messages, slow_client, "
            "shutdown, error)",
            labels=["reason"],
        )
        for reason, count in sorted(self.bus.ended.items()):
            ended.add_metric([reason], count)
        yield ended
        yield CounterMetricFamily(
            "kizuna_ws_sessions_opened", "WebSocket sessions opened", value=self.bus.opened
        )


_SESSION_METRICS: weakref.WeakSet[Any] = weakref.WeakSet()  # registries that have them


def register_session_metrics(node: Node) -> None:
    """Add the session metrics to the node's registry (once: an app may be made twice)."""
    registry = node.metrics.registry
    if registry in _SESSION_METRICS:
        return
    registry.register(_SessionMetrics(node))  # type: ignore[arg-type]
    _SESSION_METRICS.add(registry)
