"""Requests for assistance, offers, commitments and tasks between nations (issue 12).

Record types ``rfa``, ``offer`` and ``task``, each with a lifecycle from
:mod:`kizuna.core.lifecycle` (see :mod:`kizuna.assistance.rules`); bus topics of the
same names; routes under ``/api/v1/rfas``, ``/api/v1/offers`` and ``/api/v1/tasks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kizuna.assistance.models import OFFER, RFA, TASK
from kizuna.assistance.rules import (
    merge_offer,
    merge_rfa,
    merge_task,
    offer_owner,
    rfa_owner,
    task_owner,
)
from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, RecordType

if TYPE_CHECKING:
    from kizuna.assistance.service import AssistanceService


class Assistance(Domain):
    name = "assistance"
    requires = ()

    def record_types(self) -> Sequence[RecordType]:
        return (
            RecordType(name=RFA, merge=merge_rfa, owner=rfa_owner),
            RecordType(name=OFFER, merge=merge_offer, owner=offer_owner),
            RecordType(name=TASK, merge=merge_task, owner=task_owner),
        )

    def start(self, ctx: NodeContext) -> AssistanceService:
        from kizuna.assistance.service import AssistanceService

        return AssistanceService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.assistance.views import OfferController, RfaController, TaskController

        return (RfaController, OfferController, TaskController)


plugin = Assistance()
