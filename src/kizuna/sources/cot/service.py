"""The running CoT source: a :class:`CotServer` wired to the node's picture."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog

from kizuna.core.labels import Classification, Label
from kizuna.kernel.config import NodeDir
from kizuna.kernel.ingress import Refusal, rule
from kizuna.sources.cot.certs import server_ssl_context
from kizuna.sources.cot.server import CotServer
from kizuna.sources.cot.shapes import ShapeFeed

if TYPE_CHECKING:
    from kizuna.kernel.context import NodeContext
    from kizuna.picture.models import Track
    from kizuna.picture.service import PictureService
    from kizuna.sources.cot import CotSettings

log = structlog.get_logger("kizuna.serve")


class CotService:
    """Built by the plugin's ``start`` (no sockets yet); :meth:`run` serves TAK clients."""

    def __init__(self, ctx: NodeContext, picture: PictureService) -> None:
        settings: CotSettings = ctx.settings  # type: ignore[assignment]
        nd = NodeDir(ctx.root)
        ssl_context = None
        if settings.tls_port:
            ssl_context = server_ssl_context(nd.node_cert, nd.node_key, nd.ca_cert)
        self.picture = picture
        self.ctx = ctx
        self.shapes_interval = float(getattr(settings, "shapes_interval", 0.0))
        self.shape_feed = ShapeFeed(
            ctx,
            list(getattr(settings, "shapes", ())),
            stale_s=max(3 * self.shapes_interval, 60.0),
        )
        ingress = rule(ctx.nation, ctx.groups)
        self.server = CotServer(
            on_tracks=picture.ingest,
            # plain TCP clients are the node's nation at UNCLASSIFIED
            default_principal=ingress.principal(ctx.nation, Classification.UNCLASSIFIED),
            nation=ctx.nation,
            groups=ctx.groups,
            on_reject=self._count_reject,
            on_refused=self._refused,
            ssl_context=ssl_context,
            host=ctx.identity.host,
            tcp_port=settings.tcp_port or None,
            tls_port=settings.tls_port or None,
        )

    def _count_reject(self, reason: str) -> None:
        """Every CoT reject: ``kizuna_bad_input_total{source="cot",reason}``."""
        self.ctx.metrics.bad_input.labels("cot", reason).inc()

    def _refused(self, client: str, label: Label, refusal: Refusal) -> None:
        """A label the ingress rule refused: counted and audited as the API's are."""
        self.ctx.refuse(
            "write_label", client, label=label.render(), why=refusal.reason, source="cot"
        )

    async def run(self) -> None:
        """Listen until cancelled; tracks from other sources are published to TAK clients."""
        server = self.server
        await server.start()
        loop = asyncio.get_running_loop()

        def publish_all(tracks: list[Track]) -> None:
            for track in tracks:
                server.publish(track)  # each client gets only what may_release allows

        def to_tak(tracks: list[Any]) -> None:
            # The CoT server relays its own clients itself; everything else is published,
            # one loop callback per ingested batch.
            out = [
                t
                for t in tracks
                if t.source != "cot"
                or (t.sources and t.sources[0].connection.startswith("federation:"))
            ]
            if out:
                loop.call_soon_threadsafe(publish_all, out)

        self.picture.on_tracks(to_tak)
        log.info("cot listening", tcp=server.tcp_address, tls=server.tls_address)
        shapes = asyncio.create_task(self.send_shapes()) if self.shapes_interval > 0 else None
        try:
            await asyncio.Event().wait()
        finally:
            if shapes is not None:
                shapes.cancel()
            await server.stop()

    async def send_shapes(self) -> None:
        """Send each client the markers and shapes (incidents, MDA events, reservations) its
        principal may see: every ``shapes_interval`` seconds, and soon after a client
        connects. Built per principal in a worker thread (store reads)."""
        server = self.server
        seen, last = -1, 0.0
        while True:
            await asyncio.sleep(min(0.5, self.shapes_interval))
            now = asyncio.get_running_loop().time()
            connections = server.counters["connections"]
            if connections == seen and now - last < self.shapes_interval:
                continue
            seen, last = connections, now
            principals = server.principals()
            if not principals:
                continue
            try:
                built = await asyncio.to_thread(self.shape_feed.by_principal, principals)
            except Exception:
                log.exception("cot.shapes_failed")
                continue
            for principal, events in built.items():
                server.send_to(principal, events)
