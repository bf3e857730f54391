"""What a plugin is started with: the node's identity and the ports it may use.

A :class:`NodeContext` holds no domain: a domain that needs another one names it
in ``requires`` and receives that domain's service through :meth:`require`.
Services are unit-tested with :func:`kizuna.kernel.testing.memory_context`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import msgspec
import structlog
from litestar.di import NamedDependency

from kizuna.core.labels import GroupRegistry, Label, parse_label
from kizuna.core.release import Principal
from kizuna.kernel.bus import PushBus
from kizuna.kernel.metrics import Metrics
from kizuna.store.audit import AuditLog
from kizuna.store.base import Backend, EventLog, User

if TYPE_CHECKING:
    from kizuna.kernel.contract import Domain

log = structlog.get_logger("kizuna.node")


class Caller(msgspec.Struct, frozen=True):
    """An authenticated user and the principal the release check sees."""

    user: User
    principal: Principal

    @property
    def name(self) -> str:
        return self.user.name


CallerDep: TypeAlias = NamedDependency[Caller]
"""A route handler's ``caller`` parameter: the node injects the authenticated caller by name."""


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    """Who the node is and where it lives."""

    node_id: str
    nation: str
    host: str = "127.0.0.1"
    root: Path = Path(".")  # the node directory: certificates, keys, files of plugins


class Exports:
    """Every started plugin with its service, in start order (the node fills it), so an
    adapter (interop) can collect each one's ``Domain.features`` and reach the plugin that
    imports a kind, through the kernel contract alone."""

    def __init__(self) -> None:
        self._started: list[tuple[Domain, Any]] = []

    def add(self, domain: Domain, service: Any) -> None:
        self._started.append((domain, service))

    def started(self) -> list[tuple[Domain, Any]]:
        return list(self._started)


class Quarantine:
    """Records a domain has taken out of the live views (an exercise's after ENDEX): each
    provider answers the ``(record type, id)`` pairs it holds back, and every released read
    (``kernel/access.py``) leaves them out, whichever domain owns them. Nothing is deleted."""

    def __init__(self) -> None:
        self._providers: list[Callable[[], Set[tuple[str, str]]]] = []

    def add(self, provider: Callable[[], Set[tuple[str, str]]]) -> None:
        self._providers.append(provider)

    def hides(self, record_type: str, record_id: str) -> bool:
        key = (record_type, record_id)
        return any(key in provider() for provider in self._providers)


class NodeContext:
    """The node as one plugin sees it."""

    def __init__(
        self,
        identity: Identity,
        *,
        groups: GroupRegistry,
        backend: Backend,
        audit: AuditLog,
        bus: PushBus,
        metrics: Metrics,
        settings: msgspec.Struct | None = None,
        services: Mapping[str, Any] | None = None,
        name: str = "",
        exports: Exports | None = None,
        quarantine: Quarantine | None = None,
    ) -> None:
        self.identity = identity
        self.groups = groups
        self.backend = backend
        self.events: EventLog = backend.events
        self.audit = audit
        self.bus = bus
        self.metrics = metrics
        self.settings = settings
        self.name = name
        self._services = services if services is not None else {}
        self.exports = exports if exports is not None else Exports()
        self.quarantine = quarantine if quarantine is not None else Quarantine()

    @property
    def node_id(self) -> str:
        return self.identity.node_id

    @property
    def nation(self) -> str:
        return self.identity.nation

    @property
    def root(self) -> Path:
        return self.identity.root

    def require(self, name: str) -> Any:
        """The started service of a plugin this one ``requires``."""
        try:
            return self._services[name]
        except KeyError:
            raise LookupError(
                f"plugin {self.name!r} asked for {name!r}: name it in `requires`"
            ) from None

    def parse_label(self, text: str) -> Label:
        """A marking written on this node: its nation is the originator."""
        return parse_label(text, originator=self.nation, groups=self.groups)

    def refuse(self, reason: str, actor: str, **details: object) -> None:
        """Every refused access is counted and written to the audit trail."""
        self.metrics.refused.labels(reason).inc()
        self.audit.append("access", actor, "refused", reason=reason, **details)
        log.warning("access refused", reason=reason, actor=actor, **details)

    def node_principal(self) -> Principal:
        """This node as a recipient of federated data: its nation, any classification."""
        from kizuna.core.labels import Classification
        from kizuna.core.release import make_principal

        return make_principal(
            self.nation,
            Classification.TOP_SECRET,
            registry=self.groups,
            name=f"node:{self.node_id}",
        )
