"""The orbat domain (being built)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Orbat(Domain):
    name = "orbat"


plugin = Orbat()
