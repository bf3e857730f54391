"""Domain errors; the API maps each to a problem+json status."""

from __future__ import annotations

from typing import Any

from kizuna.core.catalog import Message


class KizunaError(Exception):
    """A refusal the caller can act on. ``detail`` is a catalog :class:`Message` (the API
    renders it in the caller's language); a plain string is for text that is not for people
    to read in a language (it is sent as it is)."""

    status = 400
    kind = "bad-request"

    def __init__(self, detail: str | Message, **extra: Any) -> None:
        super().__init__(str(detail))
        self.message = detail if isinstance(detail, Message) else None
        self.detail = str(detail)
        self.extra = extra

    def render(self, language: str) -> str:
        """The detail in ``language`` (``en`` or ``ja``)."""
        return self.message.render(language) if self.message is not None else self.detail


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
