"""Working groups, their meetings and action items (issue 15).

Record types ``working_group`` and ``meeting`` (their originating node's) and
``action_item`` (a lifecycle shared by the origin, the OPR's, OCR's and chair's nodes:
:mod:`kizuna.workgroups.rules`); routes under ``/api/v1/working-groups``,
``/api/v1/meetings`` and ``/api/v1/action-items``; a job checking due dates.

Settings, the ``[workgroups]`` table: ``check_interval`` (seconds between due-date
checks, 30) and ``remind_before`` (seconds before due a reminder is recorded, 86400).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Job, PluginSettings, RecordType
from kizuna.workgroups.models import ACTION_ITEM, MEETING, WORKING_GROUP
from kizuna.workgroups.rules import item_owner, merge_item

if TYPE_CHECKING:
    from kizuna.workgroups.service import WorkgroupsService


class WorkgroupsSettings(PluginSettings, kw_only=True):
    check_interval: float = 30.0
    remind_before: float = 86_400.0


class Workgroups(Domain):
    name = "workgroups"
    settings = WorkgroupsSettings

    def record_types(self) -> Sequence[RecordType]:
        return (
            RecordType(name=WORKING_GROUP),
            RecordType(name=MEETING),
            RecordType(name=ACTION_ITEM, merge=merge_item, owner=item_owner),
        )

    def start(self, ctx: NodeContext) -> WorkgroupsService:
        from kizuna.workgroups.service import WorkgroupsService

        return WorkgroupsService(ctx)

    def routes(self) -> Sequence[Any]:
        from kizuna.workgroups.views import (
            ActionItemController,
            MeetingController,
            WorkingGroupController,
        )

        return (WorkingGroupController, MeetingController, ActionItemController)

    def jobs(self, service: WorkgroupsService) -> Sequence[Job]:
        return (service.watch_due(),)


plugin = Workgroups()
