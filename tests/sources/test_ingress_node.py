"""A real JPN node with CoT (TLS) and AIS (UDP) on: input it refuses is counted on /metrics.

Issue 17, findings 1 and 10: a PHL TAK client's NOFORN event is refused (not stored as
``//PHL SECRET//NOFORN``) and shows as ``kizuna_bad_input_total{source="cot"}``; a bad
NMEA line shows as ``kizuna_bad_input_total{source="ais"}``.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.nodes import NodeProcess, free_port, kizuna
from tests.sources.cot.cot_support import PytakClient, cot

BAD_NMEA = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*00\r\n"  # wrong checksum
GOOD_NMEA = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\r\n"  # ais-371798000


def series(node: NodeProcess, source: str, reason: str) -> float | None:
    text = httpx.get(f"{node.url}/metrics", timeout=10).text
    pattern = rf'kizuna_bad_input_total\{{reason="{reason}",source="{source}"\}} (\S+)'
    found = re.search(pattern, text)
    return float(found.group(1)) if found else None


def tak_cert(node: NodeProcess, name: str, nation: str, out: Path) -> dict[str, Path]:
    proc = kizuna(
        *("tak", "client-cert", "--dir", str(node.dir), "--name", name, "--nation", nation),
        *("--clearance", "SECRET", "--out", str(out / name)),
    )
    return {k: Path(v) for k, v in (ln.split(": ", 1) for ln in proc.stdout.splitlines())}


def test_rejected_cot_and_ais_input_is_on_metrics(
    node_factory: Callable[..., NodeProcess], tmp_path: Path
) -> None:
    tls, udp = free_port(1), free_port(1)
    node = node_factory("jjoc", "JPN", cot_tls_port=tls, ais_udp_port=udp)
    kenji = node.user("kenji", "JPN", "SECRET")
    phl_certs = tak_cert(node, "MABUHAY", "PHL", tmp_path)

    async def tak_session() -> None:
        client = await PytakClient.connect(f"tls://127.0.0.1:{tls}", phl_certs)
        await client.recv(skip=())
        await client.send(cot("NF-1", access="SECRET", caveat="NOFORN"))
        await client.send(cot("OK-1", access="SECRET", releaseableTo="PHL"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and series(node, "cot", "not_permitted") is None:
            await asyncio.sleep(0.1)
        await client.close()

    asyncio.run(tak_session())
    assert series(node, "cot", "not_permitted") == 1.0
    deadline = time.monotonic() + 20
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        while time.monotonic() < deadline and series(node, "ais", "bad_checksum") is None:
            sock.sendto(BAD_NMEA, ("127.0.0.1", udp))  # the listener may not be bound yet
            time.sleep(0.2)
        sock.sendto(GOOD_NMEA, ("127.0.0.1", udp))
    assert (series(node, "ais", "bad_checksum") or 0) >= 1.0
    # the node's own JPN user sees what was accepted, labelled by the node; never NF-1
    while time.monotonic() < deadline:
        ids = {t["id"] for t in kenji.get("/api/v1/tracks").json()}
        if {"cot-OK-1", "ais-371798000"} <= ids:
            break
        time.sleep(0.1)
    assert "cot-NF-1" not in ids and {"cot-OK-1", "ais-371798000"} <= ids
    ok = kenji.get("/api/v1/tracks/cot-OK-1").json()
    assert (ok["label_fgi"], ok["originator"]) == ("//JPN SECRET//REL TO JPN, PHL", "JPN")
    assert kenji.get("/api/v1/tracks/cot-NF-1").status_code == 404
