"""Peers witness each other's audit trails (``kizuna.domains`` entry point ``witness``).

Each node sends its signed audit head to its peers on the ``audit_head`` stream; a peer
checks the signature against the pinned certificate (``peers/<id>.pem``), keeps the
newest head it holds and sends back a receipt it signs. ``kizuna audit verify
--with-peers`` then checks the trail against what each peer holds, so a trail rewritten
together with its local head (even re-signed with a stolen node key) or rolled back to
an older copy fails on a node whose peer witnessed it.

``models`` (the wire item, signed statements), ``service`` (WitnessService: state,
receipt checks), ``stream`` (the federated stream), ``verify`` (evidence for the CLI).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.kernel.context import NodeContext
from kizuna.kernel.contract import Domain, Job, PluginSettings
from kizuna.witness.models import AUDIT_HEAD


class WitnessSettings(PluginSettings, kw_only=True):
    """The ``[witness]`` table."""

    interval: float = 2.0  # seconds between checks whether our head moved


class Witness(Domain):
    name = "witness"
    settings = WitnessSettings

    def federated_types(self) -> Sequence[str]:
        return [AUDIT_HEAD]

    def start(self, ctx: NodeContext) -> Any:
        from kizuna.witness.service import WitnessService

        settings = ctx.settings if isinstance(ctx.settings, WitnessSettings) else WitnessSettings()
        return WitnessService(ctx, interval=settings.interval)

    def jobs(self, service: Any) -> Sequence[Job]:
        return [service.run()]

    def streams(self, service: Any) -> Sequence[Any]:
        from kizuna.witness.stream import HeadStream

        return [HeadStream(service)]


plugin = Witness()
