"""Cursor-on-Target for TAK clients: XML and TAK protocol v1, TCP and mutual TLS."""

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

__all__ = [
    "CotError",
    "CotEvent",
    "CotServer",
    "event_from_track",
    "label_from_event",
    "parse_xml",
    "server_ssl_context",
    "to_xml",
    "track_from_event",
    "write_client_cert",
]
