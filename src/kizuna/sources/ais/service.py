"""The running AIS source: UDP and TCP listeners feeding the node's picture."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from prometheus_client import Counter

from kizuna.core.labels import Label
from kizuna.kernel.ingress import rule
from kizuna.sources.ais.feeds import FeedServer, serve_tcp, serve_udp
from kizuna.sources.ais.ingest import AisIngestor

if TYPE_CHECKING:
    from kizuna.kernel.context import NodeContext
    from kizuna.picture.models import Track
    from kizuna.picture.service import PictureService
    from kizuna.sources.ais import AisSettings


def default_label(ctx: NodeContext, marking: str = "UNCLASSIFIED") -> Label:
    """The label of a feed's tracks, by the node's ingress rule: the node's nation originates,
    and the node, which runs the feed, is the writer."""
    ingress = rule(ctx.nation, ctx.groups)
    return ingress.check(ingress.parse(marking), ingress.host)


class AisService:
    """Built by the plugin's ``start`` (no sockets yet); :meth:`run` listens for feeds."""

    def __init__(self, ctx: NodeContext, picture: PictureService) -> None:
        self.ctx = ctx
        self.settings: AisSettings = ctx.settings  # type: ignore[assignment]
        self.picture = picture
        self._reports = Counter(
            "kizuna_ais_reports_total",
            "AIS position reports handed to the picture",
            registry=ctx.metrics.registry,
        )

    def _ingest(self, batch: list[Track]) -> None:
        self._reports.inc(len(batch))
        self.picture.ingest(batch)

    def _count(self, reason: str, lines: int) -> None:
        """Every AIS reject: ``kizuna_bad_input_total{source="ais",reason}``, per line."""
        self.ctx.metrics.bad_input.labels("ais", reason).inc(lines)

    async def run(self) -> None:
        """AIS feeds: UDP datagrams and/or TCP pushers; batches flushed at least twice a second."""
        host, settings = self.ctx.identity.host, self.settings
        ingestor = AisIngestor(
            self._ingest, default_label(self.ctx), connection="ais", on_reject=self._count
        )
        servers: list[FeedServer] = []
        if settings.udp_port:
            servers.append(
                await serve_udp(
                    host, settings.udp_port, ingestor, name="ais-udp", rcvbuf=settings.udp_rcvbuf
                )
            )
        if settings.tcp_port:
            servers.append(await serve_tcp(host, settings.tcp_port, ingestor, name="ais-tcp"))
        try:
            while True:
                await asyncio.sleep(0.5)
                ingestor.flush()
        finally:
            for server in servers:
                server.close()
            ingestor.close()
