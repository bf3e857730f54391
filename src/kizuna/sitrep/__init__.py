"""SITREPs built per reader from an incident's state, and the HXL who-does-what-where (issue 12)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, PluginSettings, RecordType, origin_owns
from kizuna.sitrep.models import SITREP


class SitrepSettings(PluginSettings, kw_only=True, forbid_unknown_fields=True):
    fonts: str = ""  # folder with NotoSansCJK-{Regular,Bold}.ttc (default: Debian's fonts-noto-cjk)


class Sitrep(Domain):
    name = "sitrep"
    requires = ("incidents", "assistance", "relief")
    settings = SitrepSettings

    def record_types(self) -> Sequence[RecordType]:
        # A SITREP's number and header belong to the node that issued it (sovereignty).
        return (RecordType(name=SITREP, owner=origin_owns),)

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.sitrep.service import SitrepService

        return SitrepService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.sitrep.views import SitrepController

        return (SitrepController,)


plugin = Sitrep()
