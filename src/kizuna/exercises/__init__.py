"""The exercises domain (being built)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Exercises(Domain):
    name = "exercises"


plugin = Exercises()
