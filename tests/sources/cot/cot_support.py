"""Helpers for CoT tests: a real pytak client, and raw-socket readers."""

from __future__ import annotations

import asyncio
import configparser
import xml.etree.ElementTree as ET
from pathlib import Path

import pytak

WAIT = 10.0  # guard against hangs only; no assertion depends on timing


def pytak_config(url: str, **extra: str) -> configparser.SectionProxy:
    cp = configparser.ConfigParser()
    cp["client"] = {"COT_URL": url, **extra}
    return cp["client"]


class PytakClient:
    """A pytak connection: pytak opens the socket (TCP or TLS) and does the I/O."""

    def __init__(self, config: configparser.SectionProxy) -> None:
        self.config = config
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    @classmethod
    async def connect(cls, url: str, certs: dict[str, Path] | None = None, **extra: str):
        if certs is not None:
            extra |= {
                "PYTAK_TLS_CLIENT_CERT": str(certs["cert"]),
                "PYTAK_TLS_CLIENT_KEY": str(certs["key"]),
                "PYTAK_TLS_CLIENT_CAFILE": str(certs["ca"]),
            }
        self = cls(pytak_config(url, **extra))
        self.reader, self.writer = await pytak.protocol_factory(self.config)
        self.tx = pytak.TXWorker(self.queue, self.config, self.writer)
        self.rx = pytak.RXWorker(self.queue, self.config, self.reader)
        return self

    async def send(self, data: bytes) -> None:
        await self.tx.send_data(data)

    async def recv(self, skip: tuple[str, ...] = ("t-x-takp-v",)) -> ET.Element:
        """Next event whose type is not in ``skip``, parsed by the standard library."""
        while True:
            raw = await asyncio.wait_for(self.rx.readcot(), WAIT)
            assert raw, "connection closed"
            event = ET.fromstring(raw.strip())
            if event.get("type") not in skip:
                return event

    async def close(self) -> None:
        self.writer.close()


def cot(uid: str, cot_type: str = "a-f-G-U-C", **attrs: str) -> bytes:
    """A CoT event built by pytak, with extra event attributes (labels)."""
    event = pytak.cot_event(
        lat=35.68,
        lon=139.76,
        hae=40,
        ce=10,
        le=10,
        uid=uid,
        stale=300,
        cot_type=cot_type,
        callsign=uid,
        extra_attrs=attrs or None,
    )
    return pytak.serialize_cot(event)


async def read_xml_event(reader: asyncio.StreamReader) -> ET.Element:
    raw = await asyncio.wait_for(reader.readuntil(b"</event>"), WAIT)
    return ET.fromstring(raw.strip())
