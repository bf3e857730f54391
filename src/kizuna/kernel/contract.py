"""The contract every plugin implements: a domain, a source, a backend or a transport.

A **domain** (and a source, which is a domain that brings data in) is an object
with a ``name``, what it ``requires``, its record types, its settings table, and
hooks the node calls while assembling itself:

* ``start(ctx)`` builds the domain's service from its :class:`NodeContext`;
* ``routes()`` returns Litestar handlers, which receive that service as the
  ``service`` dependency (and the caller as ``caller``);
* ``jobs(service)`` returns coroutines run while the node serves;
* ``streams(service)`` returns federated streams (records outside the event log);
* ``cli(open_node)`` returns Typer command groups mounted under ``kizuna``;
* ``init_options()`` adds options to ``kizuna init`` that fill its settings table.

Plugins are found through entry points (``kizuna.domains``, ``kizuna.backends``,
``kizuna.transports``), so a partner nation ships its own as a separate package.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import msgspec

from kizuna.core.merge import Merge, lww_merge

if TYPE_CHECKING:
    import typer

    from kizuna.kernel.context import NodeContext
    from kizuna.kernel.streams import FederatedStream

Job = Coroutine[Any, Any, None]


class PluginSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of a plugin's settings table; ``enabled = false`` keeps the plugin off."""

    enabled: bool = True


class RecordType(msgspec.Struct, frozen=True, kw_only=True):
    """A record type in the event log: its pure merge rule and where it belongs."""

    name: str
    merge: Merge = lww_merge
    # The record type whose label bounds this one's (comments of a request), if any.
    parent: str | None = None


class InitOption(msgspec.Struct, frozen=True, kw_only=True):
    """An option a plugin adds to ``kizuna init``; its value lands in the plugin's table.

    ``flag`` is the option (``--cot-port``); ``setting`` the key in the settings table.
    A boolean option with ``disables`` set turns the whole plugin off when given."""

    flag: str
    setting: str = ""
    help: str = ""
    type: type[Any] = str
    default: Any = None
    disables: bool = False


class NodeHandle(Protocol):
    """An opened node for CLI commands: the started services of its plugins."""

    def service(self, name: str) -> Any: ...

    def close(self) -> None: ...


OpenNode = Callable[[Path], NodeHandle]


class Domain:
    """Base class of a plugin that joins a node; override what the plugin has."""

    name: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    settings: ClassVar[type[msgspec.Struct] | None] = None

    def record_types(self) -> Sequence[RecordType]:
        return ()

    def enabled(self, settings: msgspec.Struct | None) -> bool:
        """Whether the node starts this plugin with these settings (a source may be off)."""
        return bool(getattr(settings, "enabled", True))

    def start(self, ctx: NodeContext) -> Any:
        """Build the service; no I/O on the event loop, no background work yet."""
        return None

    def routes(self) -> Sequence[Any]:
        return ()

    def jobs(self, service: Any) -> Sequence[Job]:
        return ()

    def streams(self, service: Any) -> Sequence[FederatedStream[Any]]:
        return ()

    def federated_types(self) -> Sequence[str]:
        """Names a sharing agreement may list for this plugin (record types and streams)."""
        return [rt.name for rt in self.record_types()]

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        """Command groups to mount: ``{"tak": app}`` gives ``kizuna tak …``; a group that
        another plugin also names gets both plugins' commands (``kizuna ingest ais``)."""
        return {}

    def init_options(self) -> Sequence[InitOption]:
        return ()

    def init_settings(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """The settings table ``kizuna init`` writes from this plugin's option values
        (None: write no table). The default takes each option's value under its key."""
        table = {
            opt.setting: values[opt.flag]
            for opt in self.init_options()
            if opt.setting and values.get(opt.flag) is not None
        }
        return table or None

    def stop(self, service: Any) -> None:
        """Release what ``start`` opened (commit pending state, close files)."""
