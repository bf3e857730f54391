"""The liaison domain (being built)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Liaison(Domain):
    name = "liaison"


plugin = Liaison()
