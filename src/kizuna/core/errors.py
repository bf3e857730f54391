"""Domain errors; the API maps each to a problem+json status."""

from __future__ import annotations

from typing import Any


class KizunaError(Exception):
    status = 400
    kind = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Invalid(KizunaError):
    status = 422
    kind = "invalid"


class BadLabel(KizunaError):
    status = 422
    kind = "bad-label"


class Forbidden(KizunaError):
    status = 403
    kind = "forbidden"


class NotFound(KizunaError):
    status = 404
    kind = "not-found"


class Conflict(KizunaError):
    status = 409
    kind = "conflict"
