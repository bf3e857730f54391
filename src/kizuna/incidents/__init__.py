"""Incidents: one per disaster event, built from JMA and CAP bulletins (issue 12).

Record type ``incident`` (merge: per-field over its bulletins, ``rules.incident_merge``;
owner: the originating node), routes under ``/api/v1/incidents``, pushes on topic
``incident``. The alerts source files bulletins through
``ctx.require("incidents").apply_bulletin(...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from kizuna.incidents.models import INCIDENT, IncidentsSettings
from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Feature, RecordType, origin_owns


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

    def features(self, service: Any, caller: Any) -> Sequence[Feature]:
        """Hypocentres, CAP areas and intensity areas of the incidents the caller may see."""
        out = []
        for f, label in service.export_features(caller):
            p = f.properties
            name = p.name or p.title.en or p.title.ja
            out.append(
                Feature(
                    id=f.id,
                    record_type=INCIDENT,
                    name={"en": p.title.en or name, "ja": p.title.ja or name},
                    geometry=msgspec.to_builtins(f.geometry),
                    label=label.render(),
                    description={"en": f"{p.role}: {name}"},
                    properties={
                        "incident_id": p.incident_id,
                        "role": p.role,
                        "state": p.state,
                        "intensity": p.intensity,
                        "magnitude": p.magnitude,
                        "depth_km": p.depth_km,
                        "radius_km": p.radius_km,
                    },
                )
            )
        return out


plugin = Incidents()
