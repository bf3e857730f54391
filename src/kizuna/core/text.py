"""Checks on bilingual text fields shared by every record type."""

from __future__ import annotations

from kizuna.core.records import Text

MAX_TITLE = 500
MAX_BODY = 20_000


def text_problems(title: Text | None, body: Text | None) -> list[str]:
    """What is wrong with a title and body (empty list when fine)."""
    problems = []
    if title is not None:
        if not (title.en.strip() or title.ja.strip()):
            problems.append("title needs English or Japanese text")
        if max(len(title.en), len(title.ja)) > MAX_TITLE:
            problems.append(f"title longer than {MAX_TITLE} characters")
    if body is not None and max(len(body.en), len(body.ja)) > MAX_BODY:
        problems.append(f"body longer than {MAX_BODY} characters")
    return problems


def original_language(text: Text) -> str:
    """The language the author wrote first: Japanese if only Japanese is given."""
    return "ja" if text.ja.strip() and not text.en.strip() else "en"
