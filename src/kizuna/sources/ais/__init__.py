"""AIS (NMEA 0183 ``!AIVDM``/``!AIVDO``) → picture Tracks.

Pipeline (``AisIngestor.feed_lines`` for many lines, as files and streams
feed them; ``feed_bytes``/``feed_line`` for one). The common line, a
single-part position report, is framed and decoded inline in
``feed_lines``; every other line takes the general path, with the same
result (tested line for line):

1. **Framing** (``nmea.py``): optional NMEA 4.10 tag block
   (``\\s:src,c:1700000000*hh\\``; ``c:`` = observation time, else a trailing
   10-digit receiver timestamp as in NOAA/USCG logs, else the receive time
   passed in), checksum (always verified), field checks. Multi-part messages
   are reassembled per (connection, sequential id, channel) in a bounded
   buffer (``max_pending_fragments``, oldest dropped first) with expiry
   (``fragment_ttl`` seconds of receive time).
2. **Decoding** (``decode.py``): position reports (types 1, 2, 3, 18, 19, 27)
   take a hand-written fast path (six-bit armour → base64 alphabet →
   ``binascii`` → one int → shifts and masks) that returns exactly pyais's
   values; everything else, and truncated positions, go through ``pyais``.
   Static data (types 5, 24 A/B, and 19's name/type) goes into a per-MMSI
   cache in the ingestor so later positions carry name, callsign, ship type
   and (type 5) IMO/destination in ``remarks``.
3. **Mapping** (``ingest.py``, ``symbols.py``): ``Track`` with id
   ``ais-<mmsi>``, speed in m/s, course in degrees (None when "not
   available"), ``stale_at`` = observed + 10 min (class A), 15 min (class B),
   30 min (type 27), the ingestor's default label, a 2525D sea-surface SIDC
   and CoT type from the ship type (civilian types neutral, military and
   unknown types unknown), one ``Provenance`` naming the feed.
4. **Output**: tracks go to ``sink(list[Track])`` in batches of
   ``batch_size`` and on every ``flush()``; feeds flush after each chunk of
   received data. ``coalesce_latest`` reduces a batch to the newest per id
   for current-state sinks.

Rejects never raise: each line is counted under one :class:`Reject` reason
(bad_checksum, malformed, unsupported_type, incomplete_fragment,
invalid_position, decode_error), logged at debug (structlog event
``ais_reject``), and ``close()`` logs an ``ais_ingest_summary`` at info.
After ``close()``: ``accepted + rejected_total == offered`` (every fragment
line of a multi-part message shares its message's fate). Valid messages of
types we do not turn into tracks (4, 6, 8, 21, …) count as
``unsupported_type``.

Feeds (``feeds.py``): ``read_file``, ``serve_tcp_client`` (we connect),
``serve_udp`` and ``serve_tcp`` (we listen; they return a ``FeedServer``
with the bound ``port`` and ``close()``).

As a plugin (``ais``) the node listens on ``udp_port`` (NMEA datagrams from
receivers) and/or ``tcp_port`` (feeds that connect and push), each 0 = off;
``kizuna ingest ais FILE`` imports a file. The pipeline modules load when
first used, so that listing the installed plugins stays cheap.
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
    from kizuna.sources.ais.feeds import (
        FeedServer,
        read_file,
        serve_tcp,
        serve_tcp_client,
        serve_udp,
    )
    from kizuna.sources.ais.ingest import AisIngestor, IngestStats, coalesce_latest
    from kizuna.sources.ais.nmea import Reject
    from kizuna.sources.ais.service import AisService


class AisSettings(PluginSettings):
    """The ``[ais]`` table: listener ports (0 = that listener off)."""

    udp_port: int = 0
    tcp_port: int = 0
    # bytes of socket receive buffer for the UDP listener (0: the kernel's default)
    udp_rcvbuf: int = 4 << 20


class Ais(Domain):
    name = "ais"
    requires = ("picture",)
    settings = AisSettings

    def enabled(self, settings: msgspec.Struct | None) -> bool:
        if not isinstance(settings, AisSettings):
            return False
        return settings.enabled and bool(settings.udp_port or settings.tcp_port)

    def init_options(self) -> Sequence[InitOption]:
        return (
            InitOption(
                flag="--ais-udp-port",
                setting="udp_port",
                type=int,
                default=0,
                help="AIS NMEA UDP port; 0 = off.",
            ),
            InitOption(
                flag="--ais-tcp-port",
                setting="tcp_port",
                type=int,
                default=0,
                help="AIS NMEA TCP listen port; 0 = off.",
            ),
        )

    def start(self, ctx: NodeContext) -> AisService:
        from kizuna.sources.ais.service import AisService

        return AisService(ctx, ctx.require("picture"))

    def jobs(self, service: AisService) -> Sequence[Job]:
        return (service.run(),)

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        from kizuna.sources.ais.cli import ingest_app

        return {"ingest": ingest_app(open_node)}


plugin = Ais()

_EXPORTS = {
    "FeedServer": "feeds",
    "read_file": "feeds",
    "serve_tcp": "feeds",
    "serve_tcp_client": "feeds",
    "serve_udp": "feeds",
    "AisIngestor": "ingest",
    "IngestStats": "ingest",
    "coalesce_latest": "ingest",
    "Reject": "nmea",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "Ais",
    "AisIngestor",
    "AisSettings",
    "FeedServer",
    "IngestStats",
    "Reject",
    "coalesce_latest",
    "plugin",
    "read_file",
    "serve_tcp",
    "serve_tcp_client",
    "serve_udp",
]
