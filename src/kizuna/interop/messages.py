"""Interop's messages (its refusals), rendered in the reader's language."""

from __future__ import annotations

from kizuna.core.catalog import Catalog, Message

MESSAGES = Catalog("kizuna.interop")


class MessageError(ValueError):
    """A ``ValueError`` whose text is a catalog message: ``message`` is rendered in the
    reader's language where it reaches a person, ``str()`` is its English."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message
