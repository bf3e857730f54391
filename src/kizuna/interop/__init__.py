"""Interoperability: labelled exports and imports in the field's formats (being built)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Interop(Domain):
    name = "interop"


plugin = Interop()
