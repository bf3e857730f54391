"""The network status on the node's push bus: topic ``network``, for operators only.

Every WebSocket session of a user with an operator role (:data:`OPERATOR_ROLES`) gets
``{"type": "network", "item": NetworkStatus}`` when it opens and whenever the status changes
(the monitor takes it every second). The status is the node's own operational data: peer
ids, counts and times, no labelled record content, so there is no label for the release
check to judge; the gate is the session user's role, looked up again every
:data:`ROLE_RECHECK` seconds (a role taken away, or a user revoked, stops the frames).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from kizuna.kernel.bus import Send, Session
from kizuna.store.base import Users

OPERATOR_ROLES = frozenset({"watch", "admin"})  # ADR 0020: no new role
TOPIC = "network"
ROLE_RECHECK = 5.0  # seconds


def is_operator(roles: list[str] | frozenset[str] | set[str]) -> bool:
    return bool(OPERATOR_ROLES & set(roles))


class _Seen:
    __slots__ = ("checked", "operator", "version")

    def __init__(self) -> None:
        self.version = -1  # the status version last sent
        self.operator = False
        self.checked = -ROLE_RECHECK  # monotonic


class NetworkFeed:
    """A :class:`~kizuna.kernel.bus.Feed`: no client messages, frames to operators."""

    name = "network"
    message_types: frozenset[str] = frozenset()

    def __init__(self, users: Users, latest: Callable[[], tuple[int, dict[str, Any] | None]]):
        self.users = users
        self.latest = latest  # (version, status body)

    def open(self, session: Session) -> None:
        session.feed_state[self.name] = _Seen()

    def receive(self, session: Session, message: Mapping[str, Any]) -> None:  # pragma: no cover
        raise ValueError(message.get("type"))  # no message type is routed here

    async def on_wake(self, session: Session, send: Send) -> None:
        return None

    def _operator(self, session: Session, seen: _Seen) -> bool:
        now = time.monotonic()
        if now - seen.checked >= ROLE_RECHECK:
            seen.checked = now
            user = self.users.user_by_name(session.name)
            seen.operator = user is not None and is_operator(user.roles)
            if not seen.operator:
                seen.version = -1  # a role given back gets the status at once
        return seen.operator

    async def flush(self, session: Session, send: Send) -> None:
        seen = session.feed_state.get(self.name)
        if not isinstance(seen, _Seen):
            return
        version, body = self.latest()
        if body is None or version == seen.version or not self._operator(session, seen):
            return
        seen.version = version
        await send({"type": TOPIC, "item": body})

    def stats(self, session: Session) -> dict[str, Any]:
        return {}

    def close(self, session: Session) -> None:
        session.feed_state.pop(self.name, None)
