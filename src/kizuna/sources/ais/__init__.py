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
"""

from kizuna.sources.ais.feeds import FeedServer, read_file, serve_tcp, serve_tcp_client, serve_udp
from kizuna.sources.ais.ingest import AisIngestor, IngestStats, coalesce_latest
from kizuna.sources.ais.nmea import Reject

__all__ = [
    "AisIngestor",
    "FeedServer",
    "IngestStats",
    "Reject",
    "coalesce_latest",
    "read_file",
    "serve_tcp",
    "serve_tcp_client",
    "serve_udp",
]
