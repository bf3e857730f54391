"""API shapes of interop."""

from __future__ import annotations

import msgspec


class ImportResult(msgspec.Struct, kw_only=True):
    """What an import did: every feature of the file was imported, or none was."""

    kind: str
    format: str
    imported: int
    label: str
    ids: list[str]


class InteropStatus(msgspec.Struct, kw_only=True):
    """What this node can export and import (``GET /api/v1/interop``)."""

    export_formats: list[str]
    import_formats: list[str]
    import_kinds: list[str]
    exporting_plugins: list[str]
