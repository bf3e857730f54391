"""Cursor-on-Target for TAK clients: XML and TAK protocol v1, TCP and mutual TLS.

As a plugin (``cot``) the node serves TAK clients on ``tcp_port`` (plain TCP:
clients get the node's nation at UNCLASSIFIED) and ``tls_port`` (mutual TLS
with client certificates from the node CA: ``kizuna tak client-cert``); 0 turns
a listener off. Events from clients go into the picture; tracks from other
sources are published to every client the release check allows.

The codec, framing and server load when first used, so that listing the
installed plugins (every ``kizuna`` command does) stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kizuna.kernel.contract import Domain, InitOption, Job, OpenNode, PluginSettings

if TYPE_CHECKING:
    import msgspec
    import typer

    from kizuna.kernel.context import NodeContext
    from kizuna.sources.cot.certs import server_ssl_context, write_client_cert
    from kizuna.sources.cot.codec import (
        CotError,
        CotEvent,
        event_from_track,
        label_from_event,
        parse_xml,
        to_xml,
        track_from_event,
    )
    from kizuna.sources.cot.server import CotServer
    from kizuna.sources.cot.service import CotService


class CotSettings(PluginSettings):
    """The ``[cot]`` table: listener ports (0 = that listener off)."""

    tcp_port: int = 8087
    tls_port: int = 8089
    # Markers and shapes of these record types are sent to TAK clients (per client, what
    # it may see) every ``shapes_interval`` seconds and when a client connects; 0 = off.
    shapes: tuple[str, ...] = ("incident", "mda_event", "reservation")
    shapes_interval: float = 60.0


class Cot(Domain):
    name = "cot"
    requires = ("picture",)
    settings = CotSettings

    def enabled(self, settings: msgspec.Struct | None) -> bool:
        if not isinstance(settings, CotSettings):
            return False
        return settings.enabled and bool(settings.tcp_port or settings.tls_port)

    def init_options(self) -> Sequence[InitOption]:
        return (
            InitOption(
                flag="--cot-port",
                setting="tcp_port",
                type=int,
                default=8087,
                help="CoT TCP port for TAK clients; 0 = off.",
            ),
            InitOption(
                flag="--cot-tls-port",
                setting="tls_port",
                type=int,
                default=8089,
                help="CoT TLS port (client certificates from the node CA); 0 = off.",
            ),
            InitOption(flag="--no-cot", type=bool, disables=True, help="Serve no TAK clients."),
        )

    def start(self, ctx: NodeContext) -> CotService:
        from kizuna.sources.cot.service import CotService

        return CotService(ctx, ctx.require("picture"))

    def jobs(self, service: CotService) -> Sequence[Job]:
        return (service.run(),)

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        from kizuna.sources.cot.cli import tak_app

        return {"tak": tak_app}


plugin = Cot()

_EXPORTS = {
    "server_ssl_context": "certs",
    "write_client_cert": "certs",
    "CotError": "codec",
    "CotEvent": "codec",
    "event_from_track": "codec",
    "label_from_event": "codec",
    "parse_xml": "codec",
    "to_xml": "codec",
    "track_from_event": "codec",
    "CotServer": "server",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "Cot",
    "CotError",
    "CotEvent",
    "CotServer",
    "CotSettings",
    "event_from_track",
    "label_from_event",
    "parse_xml",
    "plugin",
    "server_ssl_context",
    "to_xml",
    "track_from_event",
    "write_client_cert",
]
