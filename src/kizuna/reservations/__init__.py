"""The reservations domain (being built)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Reservations(Domain):
    name = "reservations"


plugin = Reservations()
