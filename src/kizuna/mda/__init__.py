"""Maritime domain awareness: AIS gap, loitering, encounter, spoofing and zone events (issue 13)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Mda(Domain):
    name = "mda"
    requires = ("picture",)


plugin = Mda()
