"""A node assembled: its backend, its plugins started in order, and who its callers are.

Nothing here names a domain. The backend comes from the config's ``store``
setting, the plugins from the ``kizuna.domains`` entry points; each plugin is
started with its own :class:`NodeContext` and settings table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import structlog
from litestar import Router
from litestar.di import Provide

from kizuna.core.labels import GroupRegistry, Label, LabelError, parse_label
from kizuna.kernel.bus import PushBus
from kizuna.kernel.config import Limits, NodeConfig, NodeDir
from kizuna.kernel.context import Caller, Exports, Identity, NodeContext, Quarantine
from kizuna.kernel.contract import Domain, Job, RecordType
from kizuna.kernel.metrics import Metrics
from kizuna.kernel.plugins import PluginError, backend_factory, load_domains
from kizuna.kernel.streams import FederatedStream
from kizuna.node.users import (
    check_password,
    hash_password,
    hash_token,
    new_token,
    principal_of,
)
from kizuna.store.audit import AuditLog
from kizuna.store.base import Backend, Session, User

log = structlog.get_logger("kizuna.node")

AUDIT_ANCHOR = "audit_head"

# A cached caller is checked against the store again after this many seconds, so a token
# or session revoked by another process (`kizuna user revoke`) stops working that soon.
REVALIDATE_SECONDS = 1.0
CALLER_CACHE_MAX = 10_000


class _Cached(msgspec.Struct):
    caller: Caller
    expires_at: float | None  # wall clock; None never
    checked: float  # monotonic


_dummy_hash: list[str] = []


def _dummy_password_hash() -> str:
    """A hash to check unknown names against, so that they take as long as wrong passwords."""
    if not _dummy_hash:
        _dummy_hash.append(hash_password(new_token()))
    return _dummy_hash[0]


def plugin_settings(domain: Domain, table: dict[str, Any]) -> msgspec.Struct | None:
    if domain.settings is None:
        return None
    try:
        return msgspec.convert(table, domain.settings)
    except msgspec.ValidationError as exc:
        raise ValueError(f"[{domain.name}] settings: {exc}") from None


def _provider(service: Any) -> Callable[[], Any]:
    def provide() -> Any:
        return service

    return provide


class Node:
    def __init__(
        self,
        root: Path | str,
        *,
        domains: Sequence[Domain] | None = None,
        port: int | None = None,
        federation_port: int | None = None,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Open the node in ``root``. ``port``, ``federation_port`` and plugin ``settings``
        (``{"cot": {"tcp_port": 9087}}``) override the config's for this process only: a
        second worker of the node on the same machine (ADR 0011) listens on ports of its
        own (API, federation, CoT, AIS) and shares everything else."""
        self.dir = NodeDir(root)
        config = self.dir.load()
        if settings:
            plugins = {name: dict(table) for name, table in config.plugins.items()}
            for name, table in settings.items():
                plugins.setdefault(name, {}).update(table)
            config = msgspec.structs.replace(config, plugins=plugins)
        if port is not None:  # (a federation port of 0 still means port + 1)
            config = msgspec.structs.replace(config, port=port)
        if federation_port is not None:
            config = msgspec.structs.replace(config, federation_port=federation_port)
        self.config: NodeConfig = config
        self.groups: GroupRegistry = self.config.group_registry()
        self.limits: Limits = self.config.limits  # [limits]: sessions, rate limits
        self.backend: Backend = backend_factory(self.config.store)(
            self.config.store, self.dir.root, self.config.node_id
        )
        self.events = self.backend.events
        self.metrics = Metrics()
        self.audit = AuditLog(
            self.dir.audit,
            lambda: self.backend.meta.meta_get(AUDIT_ANCHOR),
            lambda head: self.backend.meta.meta_set(AUDIT_ANCHOR, head),
        )
        self.bus = PushBus()
        self.identity = Identity(
            node_id=self.config.node_id,
            nation=self.config.nation,
            host=self.config.host,
            root=self.dir.root,
        )
        self._callers: dict[str, _Cached] = {}
        self._lock = threading.Lock()
        self.events.on_commit(
            lambda events: self.metrics.events_committed.labels(self.node_id).inc(len(events))
        )
        self.record_types: dict[str, RecordType] = {}
        self.services: dict[str, Any] = {}
        self.started: list[Domain] = []
        self.exports = Exports()  # every started plugin, for the interop adapter
        self.quarantine = Quarantine()  # records out of the live views (ENDEX)
        self.context = self._context(None, "node")
        try:
            self._start(list(domains) if domains is not None else load_domains())
        except BaseException:
            self.close()
            raise

    # -- assembly -------------------------------------------------------------
    def _context(self, settings: msgspec.Struct | None, name: str) -> NodeContext:
        return NodeContext(
            self.identity,
            groups=self.groups,
            backend=self.backend,
            audit=self.audit,
            bus=self.bus,
            metrics=self.metrics,
            settings=settings,
            services=self.services,
            name=name,
            exports=self.exports,
            quarantine=self.quarantine,
        )

    def _start(self, domains: list[Domain]) -> None:
        for domain in domains:
            for rt in domain.record_types():
                if rt.name in self.record_types:
                    raise PluginError(f"record type {rt.name!r} registered twice")
                self.record_types[rt.name] = rt
                self.events.register_merge(rt.name, rt.merge)
        for domain in domains:
            settings = plugin_settings(domain, self.config.plugins.get(domain.name, {}))
            if not domain.enabled(settings):
                continue
            missing = [r for r in domain.requires if r not in self.services]
            if missing:
                log.warning("plugin not started", plugin=domain.name, missing=missing)
                continue
            self.services[domain.name] = domain.start(self._context(settings, domain.name))
            self.started.append(domain)
            self.exports.add(domain, self.services[domain.name])

    def service(self, name: str) -> Any:
        return self.services[name]

    def routes(self) -> list[Router]:
        """Each started plugin's handlers, given its service as the ``service`` dependency."""
        routers = []
        for domain in self.started:
            handlers = list(domain.routes())
            if not handlers:
                continue
            service = self.services[domain.name]
            routers.append(
                Router(
                    path="/",
                    route_handlers=handlers,
                    dependencies={
                        "service": Provide(_provider(service), use_cache=True, sync_to_thread=False)
                    },
                )
            )
        return routers

    def jobs(self) -> list[Job]:
        return [job for d in self.started for job in d.jobs(self.services[d.name])]

    def streams(self) -> list[FederatedStream[Any]]:
        return [s for d in self.started for s in d.streams(self.services[d.name])]

    # -- identity ---------------------------------------------------------------
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
        return self.check_token(token)[0]

    def check_token(self, token: str) -> tuple[Caller | None, str]:
        """The caller a bearer token (a user's token or a login session) stands for, or
        ``None`` and why: ``bad_token`` (unknown or revoked) or ``expired_token``.

        Callers are cached for :data:`REVALIDATE_SECONDS`, then looked up again."""
        key = hash_token(token)
        now, tick = time.time(), time.monotonic()
        with self._lock:
            cached = self._callers.get(key)
        if (
            cached is not None
            and tick - cached.checked < REVALIDATE_SECONDS
            and (cached.expires_at is None or now < cached.expires_at)
        ):
            return cached.caller, "ok"
        user, expires_at = self._credential(key)
        if user is None:
            self._forget(key)
            return None, "bad_token"
        if expires_at is not None and now >= expires_at:
            self._forget(key)
            return None, "expired_token"
        caller = Caller(user, principal_of(user, self.groups))
        with self._lock:
            if len(self._callers) >= CALLER_CACHE_MAX:
                self._prune(tick)
            self._callers[key] = _Cached(caller, expires_at, tick)
        return caller, "ok"

    def _credential(self, key: str) -> tuple[User | None, float | None]:
        """The user of a token hash and when the credential expires (from the store)."""
        users = self.backend.users
        user = users.user_by_token_hash(key)
        if user is not None:
            return user, user.token_expires_at
        session = users.session_by_token_hash(key)
        if session is None:
            return None, None
        # An expired session stays until the next login purges it: until then it is
        # answered as expired rather than unknown.
        return users.user_by_name(session.name), session.expires_at

    def _forget(self, key: str) -> None:
        with self._lock:
            self._callers.pop(key, None)

    def _prune(self, tick: float) -> None:
        """Drop entries due for revalidation (under the lock); all of them if none are."""
        stale = [k for k, c in self._callers.items() if tick - c.checked >= REVALIDATE_SECONDS]
        for k in stale or list(self._callers):
            del self._callers[k]

    def login(self, name: str, password: str) -> tuple[User, str] | None:
        """Check a password; on success open a login session (stored hashed in the backend,
        so it outlives a restart) that lasts ``[limits] session_ttl`` seconds."""
        user = self.backend.users.user_by_name(name)
        if user is None or not user.password_hash:
            check_password(password, _dummy_password_hash())  # the same time as a wrong one
            return None
        if not check_password(password, user.password_hash):
            return None
        token = new_token()
        now = time.time()
        users = self.backend.users
        users.purge_sessions(now)
        users.add_session(
            Session(
                token_hash=hash_token(token),
                name=user.name,
                created_at=now,
                expires_at=now + self.limits.session_ttl,
            )
        )
        return user, token

    def logout(self, token: str) -> bool:
        """End the login session of this token (a user's own token is revoked by the CLI)."""
        key = hash_token(token)
        self._forget(key)
        return self.backend.users.delete_session(key)

    def refuse(self, reason: str, actor: str, **details: object) -> None:
        self.context.refuse(reason, actor, **details)

    def close(self) -> None:
        for domain in reversed(self.started):
            try:
                domain.stop(self.services[domain.name])
            except Exception:
                log.exception("plugin stop failed", plugin=domain.name)
        self.started = []
        self.backend.close()


__all__ = ["Caller", "LabelError", "Node"]
