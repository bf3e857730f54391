"""Reference facilities (bases, ports, airfields) from a CSV file, UNCLASSIFIED.

Settings, the ``[facilities]`` table: ``csv`` names the file (a path relative to
the node directory, or absolute); without it the ``KIZUNA_FACILITIES``
environment variable is read, and without either the list is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, PluginSettings


class FacilitiesSettings(PluginSettings, kw_only=True):
    csv: str = ""  # id,name_en,name_ja,nation,kind,lat,lon


class Facilities(Domain):
    name = "facilities"
    settings = FacilitiesSettings

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.facilities.service import FacilityService

        return FacilityService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.facilities.views import list_facilities

        return (list_facilities,)


plugin = Facilities()
