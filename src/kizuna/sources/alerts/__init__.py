"""JMA disaster XML and CAP 1.2 alerts: parsed safely, turned into incident bulletins (issue 12)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Alerts(Domain):
    name = "alerts"
    requires = ("incidents",)


plugin = Alerts()
