"""The access domain (being built)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Access(Domain):
    name = "access"


plugin = Access()
