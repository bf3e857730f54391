"""Checks on bilingual text fields shared by every record type."""

from __future__ import annotations

from kizuna.core.catalog import Catalog, Message
from kizuna.core.records import Text

MESSAGES = Catalog("kizuna.core")

MAX_TITLE = 500
MAX_BODY = 20_000


def text_problems(title: Text | None, body: Text | None) -> list[Message]:
    """What is wrong with a title and body (empty list when fine)."""
    problems: list[Message] = []
    if title is not None:
        if not (title.en.strip() or title.ja.strip()):
            problems.append(MESSAGES.msg("error.title-needed"))
        if max(len(title.en), len(title.ja)) > MAX_TITLE:
            problems.append(MESSAGES.msg("error.title-too-long", limit=MAX_TITLE))
    if body is not None and max(len(body.en), len(body.ja)) > MAX_BODY:
        problems.append(MESSAGES.msg("error.body-too-long", limit=MAX_BODY))
    return problems


def original_language(text: Text) -> str:
    """The language the author wrote first: Japanese if only Japanese is given."""
    return "ja" if text.ja.strip() and not text.en.strip() else "en"
