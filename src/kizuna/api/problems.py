"""Errors as RFC 9457 problem+json, counted as bad input where the client was at fault.

:class:`ProblemDetails` is the body of every error answer, and :func:`declare_errors`
declares those answers in the OpenAPI document for every operation.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from kizuna.api.language import API, choose_language, validation_message
from kizuna.core.catalog import Message

log = structlog.get_logger("kizuna.api")

PROBLEM = "application/problem+json"


def title(status: int, language: str) -> str:
    """A problem's title in ``language``, from the API catalog."""
    key = f"title.{status}"
    return API.get(language, key if API.has(key) else "title.other")


def language_of(request: Request[Any, Any, Any]) -> str:
    return choose_language(request.headers.get("accept-language"))


class ProblemError(msgspec.Struct, kw_only=True):
    """One failed check of a request's parameters or body."""

    message: str
    key: str | None = None


class ProblemDetails(msgspec.Struct, kw_only=True):
    """An error answer (RFC 9457), ``application/problem+json``.

    ``type`` names the problem (``/problems/<kind>``, or ``about:blank``); some problems
    add members: ``errors`` (the checks that failed, as strings or message and key),
    ``parameter`` (the query parameter at fault), ``item`` (the failing item of a batch),
    ``allowed_transitions``, ``widened``, ``retry_after`` (seconds, with a 429).
    """

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemError | str] | None = None
    parameter: str | None = None
    item: int | None = None
    allowed_transitions: list[str] | None = None
    widened: list[str] | None = None
    retry_after: int | None = None


_DESCRIPTIONS = {
    400: "Bad request: malformed parameters or body (JSON nested too deep, a bad query)",
    401: "Not authenticated: no bearer token, or an unknown, expired or revoked one",
    403: "Forbidden: the caller may not do this, or may not write this label",
    404: "Not found, or not releasable to the caller",
    409: "Conflict: the record's current state does not allow this (see allowed_transitions)",
    413: "Request body too large",
    422: "Unprocessable: the body or a parameter fails validation",
    429: "Too many requests: a rate limit; see Retry-After",
}
ALWAYS = (400, 401, 403, 404, 422)  # statuses any operation may answer
WITH_BODY = (413,)  # ... and one that takes a body
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ON_WRITES = (429,)  # ... and one that writes (rate limits, api/limits.py)


def _spec(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemDetails,
        description=_DESCRIPTIONS[status],
        media_type=PROBLEM,
        generate_examples=False,
    )


def declare_errors(app: Litestar) -> None:
    """Declare the problem+json answers of every operation in the OpenAPI document.

    An operation's own ``responses`` win; Litestar's default 400 (a JSON body of another
    shape, not what the node answers) is replaced. A route adds statuses of its own with
    ``opt={"problems": (409,)}``.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            statuses = list(ALWAYS)
            if "data" in handler.parsed_fn_signature.parameters:
                statuses += WITH_BODY
            if WRITES & set(handler.http_methods):
                statuses += ON_WRITES
            statuses += handler.opt.get("problems", ())
            declared = dict(handler.responses or {})
            handler.responses = {
                **{status: _spec(status) for status in statuses},
                **declared,
            }


class Problem(HTTPException):
    """An error with a problem type and optional extra members; its detail a catalog
    message, rendered in the caller's language."""

    def __init__(
        self, status: int, detail: Message, *, type_: str = "about:blank", **extra: Any
    ) -> None:
        super().__init__(status_code=status, detail=str(detail))
        self.message = detail
        self.type_ = type_
        self.extra = extra


def problem_response(
    status: int,
    detail: str,
    type_: str = "about:blank",
    *,
    language: str = "en",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Any]:
    """A problem+json answer; ``detail`` already in ``language``, the title from the catalog."""
    body = {
        "type": type_,
        "title": title(status, language),
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return Response(content=body, status_code=status, media_type=PROBLEM, headers=headers or None)


def _count(request: Request[Any, Any, Any], status: int, reason: str) -> None:
    node = getattr(request.app.state, "node", None)
    if node is not None and 400 <= status < 500:
        node.metrics.bad_input.labels("api", reason).inc()


def _generic_detail(status: int, english: str, language: str) -> str:
    """The detail of an answer Litestar made (an unknown route, a media type): its own
    English text, or the catalog's for the status in another language."""
    if language == "en":
        return english
    key = f"detail.{status}"
    return (
        API.get(language, key) if API.has(key) else API.get(language, "detail.other", status=status)
    )


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    language = language_of(request)
    if isinstance(exc, Problem):
        _count(request, status, exc.type_.rsplit("/", 1)[-1] or str(status))
        return problem_response(
            status, exc.message.render(language), exc.type_, language=language, **exc.extra
        )
    if isinstance(exc, MethodNotAllowedException):
        # RFC 9110 §15.5.6: a 405 says which methods the resource supports. The router
        # names them; static files, which do not, take GET and HEAD.
        allow = (exc.headers or {}).get("allow") or "GET, HEAD"
        _count(request, status, "method-not-allowed")
        return problem_response(
            status,
            API.get(language, "detail.method-not-allowed", method=request.method, allow=allow),
            "/problems/method-not-allowed",
            language=language,
            headers={"Allow": allow},
        )
    detail = _generic_detail(status, str(exc.detail), language)
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException):
        extra["errors"] = [
            {
                "message": validation_message(str(e.get("message", "")), language),
                "key": e.get("key"),
            }
            for e in (exc.extra or [])
            if isinstance(e, dict)
        ]
        detail = "; ".join(e["message"] for e in extra["errors"]) or detail
    _count(request, status, str(status))
    return problem_response(status, detail, language=language, **extra)


def handle_internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", path=request.url.path)
    language = language_of(request)
    return problem_response(
        HTTP_500_INTERNAL_SERVER_ERROR, API.get(language, "detail.internal"), language=language
    )


EXCEPTION_HANDLERS = {HTTPException: handle_http, Exception: handle_internal}

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM",
    "MediaType",
    "Problem",
    "ProblemDetails",
    "ProblemError",
    "declare_errors",
    "language_of",
    "problem_response",
    "title",
]
