"""The running AIS source: UDP and TCP listeners feeding the node's picture."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from kizuna.sources.ais.feeds import FeedServer, serve_tcp, serve_udp
from kizuna.sources.ais.ingest import AisIngestor

if TYPE_CHECKING:
    from kizuna.kernel.context import NodeContext
    from kizuna.picture.service import PictureService
    from kizuna.sources.ais import AisSettings


class AisService:
    """Built by the plugin's ``start`` (no sockets yet); :meth:`run` listens for feeds."""

    def __init__(self, ctx: NodeContext, picture: PictureService) -> None:
        self.ctx = ctx
        self.settings: AisSettings = ctx.settings  # type: ignore[assignment]
        self.picture = picture

    async def run(self) -> None:
        """AIS feeds: UDP datagrams and/or TCP pushers; batches flushed at least twice a second."""
        host, settings = self.ctx.identity.host, self.settings
        ingestor = AisIngestor(
            self.picture.ingest, self.ctx.parse_label("UNCLASSIFIED"), connection="ais"
        )
        servers: list[FeedServer] = []
        if settings.udp_port:
            servers.append(await serve_udp(host, settings.udp_port, ingestor, name="ais-udp"))
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
