"""Start incidents (and the alerts source) on an in-memory node, as a node does."""

from __future__ import annotations

from kizuna.core.labels import GroupRegistry
from kizuna.incidents import plugin as incidents_plugin
from kizuna.incidents.service import IncidentService
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.node.users import make_user, principal_of
from kizuna.sources.alerts.service import AlertService


def start(ctx: NodeContext | None = None) -> tuple[NodeContext, IncidentService, AlertService]:
    ctx = ctx or memory_context("jjoc", "JPN")
    for rt in incidents_plugin.record_types():
        ctx.events.register_merge(rt.name, rt.merge)
    incidents = incidents_plugin.start(ctx)
    return ctx, incidents, AlertService(ctx, incidents)


def caller(ctx: NodeContext, nation: str = "JPN", clearance: str = "SECRET") -> Caller:
    groups: GroupRegistry = ctx.groups
    user, _ = make_user(f"reader-{nation.lower()}", nation, clearance, [], [], groups)
    return Caller(user, principal_of(user, groups))


def event_count(ctx: NodeContext) -> int:
    return len(ctx.events.events_after(0, 1_000_000))
