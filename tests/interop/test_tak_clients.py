"""Incidents (and any plugin's reservations) sent to TAK clients as CoT markers and shapes
over the CoT server's mutual-TLS port, each client receiving only what it may see."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import xml.etree.ElementTree as ET
from pathlib import Path

from kizuna.kernel.pki import create_ca, issue_cert, write_cert, write_key
from kizuna.sources.cot import CotSettings
from kizuna.sources.cot.certs import server_ssl_context, write_client_cert
from kizuna.sources.cot.server import CotServer
from kizuna.sources.cot.service import CotService
from tests.interop.support import world


def pki(root: Path) -> tuple[ssl.SSLContext, dict[str, dict[str, Path]]]:
    ca, ca_key = create_ca("jjoc", "JPN")
    write_cert(root / "ca.pem", ca)
    write_key(root / "ca.key", ca_key)
    cert, key = issue_cert(ca, ca_key, common_name="localhost", nation="JPN", server=True)
    write_cert(root / "server.pem", cert)
    write_key(root / "server.key", key)
    clients = {
        name: write_client_cert(
            root / "ca.pem", root / "ca.key", name, nation, "SECRET", [], root / name
        )
        for name, nation in (("JP-1", "JPN"), ("AU-1", "AUS"))
    }
    return server_ssl_context(root / "server.pem", root / "server.key", root / "ca.pem"), clients


async def events_of(reader: asyncio.StreamReader, quiet: float = 1.0) -> list[ET.Element]:
    """Every event the client receives until the line is quiet for ``quiet`` seconds."""
    out = []
    with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError):
        while True:
            raw = await asyncio.wait_for(reader.readuntil(b"</event>"), quiet)
            out.append(ET.fromstring(raw.strip()))
    return [e for e in out if not e.get("type", "").startswith("t-x-")]


async def test_each_tak_client_gets_the_markers_and_shapes_it_may_see(tmp_path: Path) -> None:
    w = world(tmp_path / "jjoc")
    server_ctx, certs = pki(tmp_path)
    settings = CotSettings(tcp_port=0, tls_port=0, shapes_interval=30.0)  # and on each connection
    service = CotService(w.node._context(settings, "cot"), w.node.service("picture"))
    service.server = CotServer(
        tcp_port=None,
        tls_port=0,
        ssl_context=server_ctx,
        nation="JPN",
        groups=w.node.groups,
        announce_protocol=False,
    )
    await service.server.start()
    feed = asyncio.create_task(service.send_shapes())
    try:
        host, port = service.server.tls_address or ("", 0)
        got = {}
        for name, paths in certs.items():
            client = ssl.create_default_context(cafile=str(paths["ca"]))
            client.load_cert_chain(str(paths["cert"]), str(paths["key"]))
            reader, writer = await asyncio.open_connection(
                host, port, ssl=client, server_hostname="localhost"
            )
            got[name] = (reader, writer)
        received = {name: await events_of(r) for name, (r, _) in got.items()}
        for _, writer in got.values():
            writer.close()
    finally:
        feed.cancel()
        await service.server.stop()
        w.node.close()

    def summary(events: list[ET.Element]) -> set[tuple[str, str, str]]:
        return {
            (e.get("uid", "").split(".")[2], e.get("type", ""), e.get("access", "")) for e in events
        }

    jp, au = summary(received["JP-1"]), summary(received["AU-1"])
    # The incident (C//REL TO JPN, USA) as a drawing of its CAP area: JPN only.
    assert ("incident", "u-d-f", "CONFIDENTIAL") in jp
    assert not any(kind == "incident" for kind, _, _ in au)
    # The stand-in plugin's reservation (C//REL TO JPN, AUS): both; its NOFORN feature: JPN.
    assert ("reservation", "u-d-f", "CONFIDENTIAL") in jp & au
    assert len({e.get("uid") for e in received["AU-1"] if ".reservation." in e.get("uid", "")}) == 1
    assert any("leak-1" in e.get("uid", "") for e in received["JP-1"])
    assert not any("leak-1" in e.get("uid", "") for e in received["AU-1"])
    shape = next(e for e in received["AU-1"] if ".reservation." in e.get("uid", ""))
    links = [link.get("point") for link in shape.iter("link")]
    assert len(links) == 5 and links[0] == links[-1]  # a closed ring of lat,lon points
    assert shape.get("releaseableTo") == "AUS JPN"
    assert shape.find("detail/contact").get("callsign").startswith("(//JPN CONFIDENTIAL")
    # Zones and tracks are not shape types: none sent as shapes.
    assert not any(kind in ("mda_zone", "track") for kind, _, _ in jp | au)
