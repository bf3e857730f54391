"""The caller's language for error answers: ``Accept-Language`` (RFC 9110 §12.5.4).

The node speaks the catalogs' languages (``en``, ``ja``); a request that names neither, or
none, is answered in English. msgspec's validation messages, which the node does not write,
are rendered in Japanese from the API catalog's patterns (``validation.*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kizuna.core.catalog import LANGUAGES, Catalog

API = Catalog("kizuna.api")


def choose_language(accept_language: str | None) -> str:
    """The best of ``en``/``ja`` for an ``Accept-Language`` value (``en`` by default)."""
    best, best_q = "en", -1.0
    for item in (accept_language or "").split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if primary == "*":
            primary = "en"
        if primary in LANGUAGES and q > best_q and q > 0:
            best, best_q = primary, q
    return best


def language_of_headers(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """:func:`choose_language` over raw ASGI headers (for middleware answers)."""
    for key, value in headers:
        if key.lower() == b"accept-language":
            return choose_language(value.decode("latin-1"))
    return "en"


# msgspec's messages (msgspec/_core.c), each with its Japanese rendering in the catalog.
_VALIDATION = (
    ("expected", re.compile(r"^Expected `(?P<want>[^`]*)`, got `(?P<got>[^`]*)`(?P<at>.*)$")),
    ("missing", re.compile(r"^Object missing required field `(?P<field>[^`]*)`(?P<at>.*)$")),
    ("unknown", re.compile(r"^Object contains unknown field `(?P<field>[^`]*)`(?P<at>.*)$")),
    ("invalid-value", re.compile(r"^Invalid (?:enum )?value (?P<value>.*?)(?P<at> - at `.*`)?$")),
    ("constraint", re.compile(r"^Expected `(?P<want>[^`]*)` (?P<rule>[^-]*?)(?P<at> - at `.*`)?$")),
    ("malformed", re.compile(r"^(?:JSON is malformed|Input data was truncated)(?P<at>.*)$")),
)
_AT = re.compile(r"^ - at `(?P<path>[^`]*)`$")


def validation_message(message: str, language: str) -> str:
    """One validation message in ``language``; English as msgspec wrote it, Japanese from
    the catalog where its shape is known (else the lead line and the original text)."""
    if language == "en":
        return message
    for kind, pattern in _VALIDATION:
        match = pattern.match(message.strip())
        if match is None:
            continue
        values = {k: v for k, v in match.groupdict().items() if k != "at"}
        text = API.get(language, f"validation.{kind}", **values)
        at = _AT.match(match.group("at") or "")
        return API.get(language, "validation.at", text=text, path=at["path"]) if at else text
    return API.get(language, "validation.other", text=message)
