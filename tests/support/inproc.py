"""In-process nodes for services' tests: callers, and a federation stand-in that ships the
events a peer may see and judges each by its record type's owner rule, as federation does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from kizuna.core.release import may_release
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.contract import Ownership
from kizuna.node.users import make_user, principal_of

Refusal = tuple[str, str, str]  # (record type, origin, reason)


class HasContext(Protocol):
    ctx: NodeContext
    refused: list[Refusal]


def caller(
    ctx: NodeContext, name: str, clearance: str = "SECRET", *roles: str, nation: str = ""
) -> Caller:
    """A user of ``ctx``'s node (of its nation unless ``nation`` is given)."""
    user, _ = make_user(name, nation or ctx.nation, clearance, [], list(roles), ctx.groups)
    return Caller(user, principal_of(user, ctx.groups))


def ship(src: HasContext, dst: HasContext, owners: Mapping[str, Ownership]) -> int:
    """Deliver every event of ``src``'s log that ``dst``'s nation may see, each judged by
    its record type's owner rule against ``dst``'s state (types without a rule in
    ``owners`` stay home); refusals are noted in ``dst.refused``. Returns events applied."""
    applied = 0
    for _, event in src.ctx.events.events_after(0, 100_000):
        owner = owners.get(event.record_type)
        if event.origin == dst.ctx.node_id or owner is None:
            continue
        if not may_release(event.label, dst.ctx.node_principal()):
            continue
        reason = owner(dst.ctx.events.get(event.record_type, event.record_id), event)
        if reason is not None:
            dst.refused.append((event.record_type, event.origin, reason))
            continue
        applied += len(dst.ctx.events.apply([event]))
    return applied


def sync(nodes: Iterable[HasContext], owners: Mapping[str, Ownership], rounds: int = 2) -> None:
    """Every node ships to every other, ``rounds`` times (enough for responses to return)."""
    held = list(nodes)
    for _ in range(rounds):
        for a in held:
            for b in held:
                if a is not b:
                    ship(a, b, owners)


def owners_of(*plugins: Any) -> dict[str, Ownership]:
    """Each record type's owner rule, for the plugins given."""
    return {rt.name: rt.owner for p in plugins for rt in p.record_types()}
