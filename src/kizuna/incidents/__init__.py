"""Incidents: one per disaster event, built from JMA and CAP bulletins (issue 12).

Record type ``incident`` (merge: per-field over its bulletins, ``rules.incident_merge``;
owner: the originating node), routes under ``/api/v1/incidents``, pushes on topic
``incident``. The alerts source files bulletins through
``ctx.require("incidents").apply_bulletin(...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.incidents.models import IncidentsSettings
from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, RecordType, origin_owns


class Incidents(Domain):
    name = "incidents"
    requires = ()

    settings = IncidentsSettings

    def record_types(self) -> Sequence[RecordType]:
        from kizuna.incidents.models import INCIDENT
        from kizuna.incidents.rules import incident_merge

        return (RecordType(name=INCIDENT, merge=incident_merge, owner=origin_owns),)

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.incidents.service import IncidentService

        return IncidentService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.incidents.views import IncidentController

        return (IncidentController,)


plugin = Incidents()
