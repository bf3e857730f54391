"""ORBAT / task organisation (issue 15): units and the time-bounded edges between them.

Record types (names for sharing agreements):

* ``unit``: name EN/JA, nation, MIL-STD-2525D SIDC, echelon, HQ and task-force flags,
  holdings, location or home facility, commanders (a person id on several units is a
  dual-hatted commander); owned by its origin node;
* ``unit_relation``: subordinate → superior, ORGANIC/ATTACHED/OPCON/TACON/ADCON within one
  nation's chain, or COORDINATION between chains (never command); valid_from/valid_to.
  Its owner rule (:func:`kizuna.orbat.rules.relation_owner`) refuses at receipt any event
  that would make a command edge across chains.

Routes under ``/api/v1/orbat``; pushes on the bus topics ``unit`` and ``unit_relation``;
``kizuna orbat export|import``. ADR 0016.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Feature, OpenNode, RecordType, origin_owns

if TYPE_CHECKING:
    import typer


class Orbat(Domain):
    name = "orbat"

    def record_types(self) -> Sequence[RecordType]:
        from kizuna.orbat.models import RELATION, UNIT
        from kizuna.orbat.rules import relation_owner

        return (
            RecordType(name=UNIT, owner=origin_owns),
            RecordType(name=RELATION, owner=relation_owner),
        )

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.orbat.service import OrbatService

        return OrbatService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.orbat.views import OrbatController

        return (OrbatController,)

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        from kizuna.orbat.cli import orbat_app

        return {"orbat": orbat_app(open_node)}

    def features(self, service: Any, caller: Any) -> Sequence[Feature]:
        return list(service.features(caller))


plugin = Orbat()
