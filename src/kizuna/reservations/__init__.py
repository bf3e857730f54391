"""Reservations of facilities and areas (issue 14).

Record type ``reservation`` (federated under its label, owned by its origin): a facility
or training area (a snapshot of its geometry), a window, an activity, the requesting
nation and unit, an exercise, an altitude band. Each is checked against the access
arrangements (``requires = ("access", "facilities")``), the notice its kind of place
needs, and conflicts (place, altitude and time): refused for the activities the
``[reservations]`` table names (live fire by default), else flagged; peers' reservations
are flagged, never refused. Routes under ``/api/v1/reservations``; bus topic
``reservation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Feature, RecordType, origin_owns
from kizuna.reservations.models import ReservationsSettings


class Reservations(Domain):
    name = "reservations"
    requires = ("facilities", "access")
    settings = ReservationsSettings

    def record_types(self) -> Sequence[RecordType]:
        from kizuna.reservations.models import RESERVATION

        return (RecordType(name=RESERVATION, owner=origin_owns),)

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.reservations.service import ReservationService

        return ReservationService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.reservations.views import ReservationController

        return (ReservationController,)

    def features(self, service: Any, caller: Any) -> Sequence[Feature]:
        from kizuna.reservations.features import features

        return features(service, caller)


plugin = Reservations()
