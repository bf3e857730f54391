"""Incidents: one per disaster event, built from JMA and CAP bulletins (issue 12)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Incidents(Domain):
    name = "incidents"
    requires = ()


plugin = Incidents()
