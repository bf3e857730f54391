"""HTTP routes: /api/v1/working-groups, /api/v1/meetings, /api/v1/action-items."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from kizuna.kernel.context import CallerDep
from kizuna.workgroups.models import (
    ActionItemIn,
    ActionItemOut,
    ConcurIn,
    ItemCommentIn,
    ItemTransitionIn,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
    ReassignIn,
    ReassignOut,
    WorkingGroupIn,
    WorkingGroupOut,
    WorkingGroupPatch,
)
from kizuna.workgroups.service import WorkgroupsService

ServiceDep: TypeAlias = NamedDependency[WorkgroupsService]
IdQuery = Annotated[str | None, QueryParameter(max_length=128)]
_409 = {"problems": (409,)}


class WorkingGroupController(Controller):
    path = "/api/v1/working-groups"
    tags = ("workgroups",)

    @post("/", status_code=201, summary="Convene a working group")
    async def create(
        self, data: JSONBody[WorkingGroupIn], caller: CallerDep, service: ServiceDep
    ) -> WorkingGroupOut:
        return service.create_working_group(caller, data)

    @get("/", summary="Working groups the caller may see")
    async def list_groups(self, caller: CallerDep, service: ServiceDep) -> list[WorkingGroupOut]:
        return service.working_groups(caller)

    @get("/{group_id:str}", summary="One working group (404 if absent or not releasable)")
    async def get_group(
        self, group_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> WorkingGroupOut:
        return service.working_group(caller, group_id)

    @patch("/{group_id:str}", summary="Change name, cadence, co-chairs or members (its node)")
    async def edit(
        self,
        group_id: FromPath[str],
        data: JSONBody[WorkingGroupPatch],
        caller: CallerDep,
        service: ServiceDep,
    ) -> WorkingGroupOut:
        return service.edit_working_group(caller, group_id, data)


class MeetingController(Controller):
    path = "/api/v1/meetings"
    tags = ("workgroups",)

    @post("/", status_code=201, summary="Hold a meeting of a working group")
    async def create(
        self, data: JSONBody[MeetingIn], caller: CallerDep, service: ServiceDep
    ) -> MeetingOut:
        return service.create_meeting(caller, data)

    @get("/", summary="Meetings the caller may see (of one working group), latest first")
    async def list_meetings(
        self, caller: CallerDep, service: ServiceDep, working_group: IdQuery = None
    ) -> list[MeetingOut]:
        return service.meetings(caller, working_group)

    @get("/{meeting_id:str}", summary="One meeting (404 if absent or not releasable)")
    async def get_meeting(
        self, meeting_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> MeetingOut:
        return service.meeting(caller, meeting_id)

    @patch("/{meeting_id:str}", summary="Record the agenda or minutes (the meeting's node)")
    async def edit(
        self,
        meeting_id: FromPath[str],
        data: JSONBody[MeetingPatch],
        caller: CallerDep,
        service: ServiceDep,
    ) -> MeetingOut:
        return service.edit_meeting(caller, meeting_id, data)


class ActionItemController(Controller):
    path = "/api/v1/action-items"
    tags = ("workgroups",)

    @post("/", status_code=201, summary="Record an action item (from a meeting or on its own)")
    async def create(
        self, data: JSONBody[ActionItemIn], caller: CallerDep, service: ServiceDep
    ) -> ActionItemOut:
        return service.create_action_item(caller, data)

    @get("/", summary="Action items the caller may see (of one working group or meeting)")
    async def list_items(
        self,
        caller: CallerDep,
        service: ServiceDep,
        working_group: IdQuery = None,
        meeting: IdQuery = None,
    ) -> list[ActionItemOut]:
        return service.action_items(caller, working_group_id=working_group, meeting_id=meeting)

    @post(
        "/reassign",
        status_code=200,
        summary="Bulk reassignment of OPR and/or OCR (the items' node): all or none",
    )
    async def reassign(
        self, data: JSONBody[ReassignIn], caller: CallerDep, service: ServiceDep
    ) -> ReassignOut:
        return ReassignOut(items=service.reassign(caller, data))

    @get("/{item_id:str}", summary="One action item (404 if absent or not releasable)")
    async def get_item(
        self, item_id: FromPath[str], caller: CallerDep, service: ServiceDep
    ) -> ActionItemOut:
        return service.action_item(caller, item_id)

    @post(
        "/{item_id:str}/transition",
        status_code=200,
        summary="Move along open, in progress, done, skipped (the OPR's node)",
        opt=_409,
    )
    async def transition(
        self,
        item_id: FromPath[str],
        data: JSONBody[ItemTransitionIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> ActionItemOut:
        return service.transition_action_item(caller, item_id, data)

    @post(
        "/{item_id:str}/concurrence",
        status_code=200,
        summary="Concur or not (the OCR's node)",
        opt=_409,
    )
    async def concur(
        self,
        item_id: FromPath[str],
        data: JSONBody[ConcurIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> ActionItemOut:
        return service.concur(caller, item_id, data)

    @post("/{item_id:str}/comments", status_code=201, summary="Comment (any party's node)")
    async def comment(
        self,
        item_id: FromPath[str],
        data: JSONBody[ItemCommentIn],
        caller: CallerDep,
        service: ServiceDep,
    ) -> ActionItemOut:
        return service.comment(caller, item_id, data)
