"""Exercises' messages, and problems listed together, rendered in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable

from kizuna.core.catalog import Catalog, Message

MESSAGES = Catalog("kizuna.exercises")


class Joined(Message):
    """Problems (messages, or text that is not for a language) as one message: each is
    rendered in the reader's language and joined with that language's separator."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[Message | str]) -> None:
        super().__init__(MESSAGES, "list.separator", {})
        self.parts = list(parts)

    def render(self, language: str) -> str:
        separator = super().render(language)
        return separator.join(
            p.render(language) if isinstance(p, Message) else p for p in self.parts
        )


class RowError(ValueError):
    """A bad MSEL row; ``message`` says why (``str()`` is its English)."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message
