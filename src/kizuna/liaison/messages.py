"""The liaison log's messages (its refusals), rendered in the reader's language."""

from __future__ import annotations

from kizuna.core.catalog import Catalog

MESSAGES = Catalog("kizuna.liaison")
