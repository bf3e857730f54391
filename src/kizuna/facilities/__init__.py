"""Facilities and areas (issue 14): reference facilities (bases, ports, airfields) from a
CSV file, UNCLASSIFIED, and user-defined training areas, ranges, airspace and sea areas.

Settings, the ``[facilities]`` table: ``csv`` names the file (a path relative to
the node directory, or absolute); without it the ``KIZUNA_FACILITIES``
environment variable is read, and without either the list is empty.

Record type ``training_area`` (polygon, altitude band, kind, basis, managing authority;
federated under its label, owned by its origin); routes ``/api/v1/facilities`` and
``/api/v1/training-areas``; bus topic ``training_area``. The service's ``place`` and
``overlap`` are what access and reservations ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Feature, PluginSettings, RecordType, origin_owns


class FacilitiesSettings(PluginSettings, kw_only=True):
    csv: str = ""  # id,name_en,name_ja,nation,kind,lat,lon


IMPORT_KINDS = ("training_area",)


class Facilities(Domain):
    name = "facilities"
    settings = FacilitiesSettings

    def record_types(self) -> Sequence[RecordType]:
        from kizuna.facilities.models import TRAINING_AREA

        return (RecordType(name=TRAINING_AREA, owner=origin_owns),)

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.facilities.service import FacilityService

        return FacilityService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.facilities.views import AreaController, list_facilities

        return (list_facilities, AreaController)

    def features(self, service: Any, caller: Any) -> Sequence[Feature]:
        from kizuna.facilities.features import features

        return features(service, caller)

    def imports(self) -> Sequence[str]:
        """The kinds of overlay this domain takes in: training areas (GeoJSON polygons)."""
        return IMPORT_KINDS

    def import_features(
        self, service: Any, caller: Any, kind: str, features: Sequence[Any], marking: str
    ) -> Sequence[Any]:
        """Write imported features of ``kind`` as this domain's records, for ``caller``."""
        from kizuna.facilities.features import import_features

        return import_features(service, caller, kind, features, marking)


plugin = Facilities()
