"""SITREPs built per reader from an incident's state, and the HXL who-does-what-where (issue 12)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Sitrep(Domain):
    name = "sitrep"
    requires = ("incidents", "assistance", "relief")


plugin = Sitrep()
