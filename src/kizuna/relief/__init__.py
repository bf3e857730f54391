"""Capabilities, relief supplies, shelters and the needs calculator (issue 12).

Record types ``capability``, ``stock``, ``shelter`` and ``relief_plan`` (an incident's
push-to-pull switch), each written only by the node that created it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, RecordType
from kizuna.relief.models import CAPABILITY, RELIEF_PLAN, SHELTER, STOCK
from kizuna.relief.rules import relief_owner


class Relief(Domain):
    name = "relief"
    requires = ()

    def record_types(self) -> Sequence[RecordType]:
        return tuple(
            RecordType(name=name, owner=relief_owner)
            for name in (CAPABILITY, STOCK, SHELTER, RELIEF_PLAN)
        )

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.relief.service import ReliefService

        return ReliefService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.relief.views import ROUTES

        return ROUTES


plugin = Relief()
