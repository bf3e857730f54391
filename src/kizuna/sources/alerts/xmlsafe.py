"""Safe XML for alerts: defusedxml with DTDs, entities and external references forbidden.

Every reject is an :class:`AlertError` with a short ``code`` (the metrics label, the
summary's reason) and an English message naming what was wrong.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as DET  # type: ignore[import-untyped]
from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)

MAX_DOCUMENT_BYTES = 1 << 20  # larger documents are refused before parsing


class AlertError(Exception):
    """A document refused: ``code`` is one of the reasons below, ``message`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# Reasons (codes) a document is refused for.
REASONS = (
    "too_large",
    "empty",
    "dtd_forbidden",
    "entities_forbidden",
    "external_reference",
    "malformed",
    "not_an_alert",
    "unsupported_type",
    "missing_field",
    "bad_value",
    "key_conflict",
    "refused",
    "unreadable",
)


def parse(raw: bytes, limit: int = MAX_DOCUMENT_BYTES) -> ET.Element:
    """The document's root element, or :class:`AlertError`."""
    if len(raw) > limit:
        raise AlertError("too_large", f"document of {len(raw)} bytes exceeds {limit} bytes")
    if not raw.strip():
        raise AlertError("empty", "the document is empty")
    try:
        root: ET.Element = DET.fromstring(
            raw, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root
    except DTDForbidden:
        raise AlertError("dtd_forbidden", "document type declarations (DTDs) are refused") from None
    except EntitiesForbidden:
        raise AlertError("entities_forbidden", "entity declarations are refused") from None
    except ExternalReferenceForbidden:
        raise AlertError("external_reference", "external references are refused") from None
    except DefusedXmlException as exc:
        raise AlertError("malformed", f"unsafe XML: {exc}") from None
    except ET.ParseError as exc:
        raise AlertError("malformed", f"not well-formed XML: {exc}") from None


def text(el: ET.Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def required(parent: ET.Element, path: str, ns: dict[str, str], what: str) -> str:
    value = text(parent.find(path, ns))
    if not value:
        raise AlertError("missing_field", f"{what} is missing or empty")
    return value


def timestamp(value: str, what: str) -> float:
    """An ISO 8601 date-time with an offset as POSIX seconds."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AlertError("bad_value", f"{what} {value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise AlertError("bad_value", f"{what} {value!r} has no time zone offset")
    return parsed.timestamp()
