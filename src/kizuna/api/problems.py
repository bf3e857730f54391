"""Errors as RFC 9457 problem+json, counted as bad input where the client was at fault."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = structlog.get_logger("kizuna.api")

PROBLEM = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    500: "Internal error",
}


class Problem(HTTPException):
    """An error with a problem type and optional extra members."""

    def __init__(self, status: int, detail: str, *, type_: str = "about:blank", **extra: Any):
        super().__init__(status_code=status, detail=detail)
        self.type_ = type_
        self.extra = extra


def problem_response(
    status: int, detail: str, type_: str = "about:blank", **extra: Any
) -> Response[Any]:
    body = {
        "type": type_,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(content=body, status_code=status, media_type=PROBLEM, headers=headers)


def _count(request: Request[Any, Any, Any], status: int, reason: str) -> None:
    node = getattr(request.app.state, "node", None)
    if node is not None and 400 <= status < 500:
        node.metrics.bad_input.labels("api", reason).inc()


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, Problem):
        _count(request, status, exc.type_.rsplit("/", 1)[-1] or str(status))
        return problem_response(status, str(exc.detail), exc.type_, **exc.extra)
    detail = str(exc.detail)
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException):
        extra["errors"] = [
            {"message": str(e.get("message", "")), "key": e.get("key")}
            for e in (exc.extra or [])
            if isinstance(e, dict)
        ]
        detail = "; ".join(e["message"] for e in extra["errors"]) or detail
    _count(request, status, str(status))
    return problem_response(status, detail, **extra)


def handle_internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal error; see the node log")


EXCEPTION_HANDLERS = {HTTPException: handle_http, Exception: handle_internal}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM", "MediaType", "Problem", "problem_response"]
