"""A running node: configuration, store, audit, metrics, identity of callers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import msgspec
import structlog

from kizuna.core.labels import GroupRegistry, Label, LabelError, parse_label
from kizuna.core.release import Principal
from kizuna.node.config import NodeConfig, NodeDir
from kizuna.node.metrics import Metrics
from kizuna.node.users import check_password, hash_token, new_token, principal_of
from kizuna.store.audit import AuditLog
from kizuna.store.base import User
from kizuna.store.sqlite import SqliteStore

log = structlog.get_logger("kizuna.node")

AUDIT_ANCHOR = "audit_head"


class Caller(msgspec.Struct, frozen=True):
    """An authenticated user and the principal the release check sees."""

    user: User
    principal: Principal

    @property
    def name(self) -> str:
        return self.user.name


class Node:
    def __init__(self, root: Path | str) -> None:
        self.dir = NodeDir(root)
        self.config: NodeConfig = self.dir.load()
        self.groups: GroupRegistry = self.config.group_registry()
        self.store = SqliteStore(self.dir.db, self.config.node_id)
        self.metrics = Metrics()
        self.audit = AuditLog(
            self.dir.audit,
            lambda: self.store.meta_get(AUDIT_ANCHOR),
            lambda head: self.store.meta_set(AUDIT_ANCHOR, head),
        )
        self._callers: dict[str, Caller] = {}
        self._lock = threading.Lock()
        self.store.on_commit(
            lambda events: self.metrics.events_committed.labels(self.node_id).inc(len(events))
        )
        from kizuna.picture.service import PictureService

        self.picture = PictureService(self)
        self.cot: Any = None  # the CoT server while serving
        from kizuna.coordination.service import register as register_requests

        register_requests(self)

    @property
    def node_id(self) -> str:
        return self.config.node_id

    @property
    def nation(self) -> str:
        return self.config.nation

    def parse_label(self, text: str) -> Label:
        """A marking written on this node: its nation is the originator."""
        return parse_label(text, originator=self.nation, groups=self.groups)

    def caller_for_token(self, token: str) -> Caller | None:
        key = hash_token(token)
        with self._lock:
            cached = self._callers.get(key)
        if cached is not None:
            return cached
        user = self.store.user_by_token_hash(key)
        if user is None:
            return None
        caller = Caller(user, principal_of(user, self.groups))
        with self._lock:
            self._callers[key] = caller
        return caller

    def login(self, name: str, password: str) -> tuple[User, str] | None:
        """Check a password; on success issue a session token (held in memory)."""
        user = self.store.user_by_name(name)
        if user is None or not user.password_hash:
            return None
        if not check_password(password, user.password_hash):
            return None
        token = new_token()
        with self._lock:
            self._callers[hash_token(token)] = Caller(user, principal_of(user, self.groups))
        return user, token

    def refuse(self, reason: str, actor: str, **details: object) -> None:
        """Every refused access is counted and written to the audit trail."""
        self.metrics.refused.labels(reason).inc()
        self.audit.append("access", actor, "refused", reason=reason, **details)
        log.warning("access refused", reason=reason, actor=actor, **details)

    def close(self) -> None:
        self.picture.close()
        self.store.close()


__all__ = ["Caller", "LabelError", "Node"]
