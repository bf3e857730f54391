"""Maritime domain awareness: AIS gap, loitering, encounter, spoofing and zone events (issue 13).

Record types (all federated under their labels; names for sharing agreements):

* ``mda_event``: a detected event (``rules.event_merge``: detection fields owned by the
  detecting node, one verdict per node owned by that node; ``rules.event_owner``);
* ``mda_zone``: a user-defined zone (name EN/JA, polygon, kind), owned by its origin;
* ``mda_watch``: a watchlist entry (MMSI, IMO, name, reason), owned by its origin.

Routes under ``/api/v1/mda``; pushes on the bus topics ``mda_event``, ``mda_zone`` and
``mda_watch``; settings in ``[mda]`` (:class:`~kizuna.mda.settings.MdaSettings`). The job
runs the detection worker; the picture's reports reach the domain through its listener.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Feature, Job, RecordType, origin_owns
from kizuna.mda.settings import MdaSettings


class Mda(Domain):
    name = "mda"
    requires = ("picture",)
    settings = MdaSettings

    def record_types(self) -> Sequence[RecordType]:
        from kizuna.mda.models import MDA_EVENT, MDA_WATCH, MDA_ZONE
        from kizuna.mda.rules import event_merge, event_owner

        return (
            RecordType(name=MDA_EVENT, merge=event_merge, owner=event_owner),
            RecordType(name=MDA_ZONE, owner=origin_owns),
            RecordType(name=MDA_WATCH, owner=origin_owns),
        )

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.mda.service import MdaService

        return MdaService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.mda.views import MdaController

        return (MdaController,)

    def jobs(self, service: Any) -> Sequence[Job]:
        return (service.run(),)

    def stop(self, service: Any) -> None:
        service.close()

    def features(self, service: Any, caller: Any) -> Sequence[Feature]:
        """Events (points at their position) and zones (areas) the caller may see."""
        from kizuna.mda.models import MDA_EVENT, MDA_ZONE

        out = []
        for e in service.events(caller):
            out.append(
                Feature(
                    id=e.id,
                    record_type=MDA_EVENT,
                    name={"en": e.title.en, "ja": e.title.ja},
                    geometry={"type": "Point", "coordinates": [e.position.lon, e.position.lat]},
                    label=e.label_fgi,
                    properties={
                        "type": e.type,
                        "status": e.status,
                        "vessels": " ".join(e.vessels),
                        "origin": e.origin,
                    },
                    time=e.start,
                    end=e.end,
                )
            )
        for z in service.zones(caller):
            ring = [[lon, lat] for lat, lon in z.polygon]
            if ring:
                ring.append(ring[0])
            out.append(
                Feature(
                    id=z.id,
                    record_type=MDA_ZONE,
                    name={"en": z.name.en, "ja": z.name.ja},
                    geometry={"type": "Polygon", "coordinates": [ring]},
                    label=z.label_fgi,
                    properties={"kind": z.kind, "origin": z.origin},
                )
            )
        return out

    def imports(self) -> Sequence[str]:
        return ("zone",)

    def import_features(
        self, service: Any, caller: Any, kind: str, features: Sequence[Feature], marking: str
    ) -> Sequence[Any]:
        """Imported areas as MDA zones (kind ``area``), all in one commit or none."""
        return list(service.import_zones(caller, features, marking))


plugin = Mda()
