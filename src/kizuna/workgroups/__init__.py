"""The workgroups domain (being built)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Workgroups(Domain):
    name = "workgroups"


plugin = Workgroups()
