"""A real node with CoT on: TAK clients feed its picture and see the picture's other tracks."""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from cot_support import PytakClient, cot
from tests.nodes import NodeProcess, free_port, make_node_dir


def test_tak_client_and_picture_through_a_node(node_factory: Callable[..., NodeProcess]) -> None:
    port = free_port(1)
    node = node_factory("usfj", "USA", cot_port=port)
    table = tomllib.loads((node.dir / "node.toml").read_text())["cot"]
    assert table == {"tcp_port": port, "tls_port": 0}  # the listener not asked for is off
    alice = node.user("alice", "USA", "SECRET")

    async def session() -> None:
        client = await PytakClient.connect(f"tcp://127.0.0.1:{port}")
        await client.recv(skip=())
        await client.send(cot("ALPHA-1"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ids = [t["id"] for t in alice.get("/api/v1/tracks").json()]
            if "cot-ALPHA-1" in ids:
                break
            await asyncio.sleep(0.1)
        track = alice.get("/api/v1/tracks/cot-ALPHA-1").json()
        assert (track["source"], track["label"]) == ("cot", "UNCLASSIFIED")
        # a report made on the node reaches the TAK client when its label allows
        r = alice.post(
            "/api/v1/tracks",
            json=[
                {"label": "S//REL TO USA", "lat": 35.0, "lon": 139.0, "id": "secret-1"},
                {"label": "U", "lat": 35.1, "lon": 139.1, "id": "open-1", "cot_type": "a-f-S"},
            ],
        )
        assert r.status_code == 200, r.text
        assert (await client.recv()).get("uid") == "open-1"  # never the SECRET one
        await client.close()

    asyncio.run(session())


def test_test_nodes_serve_no_tak_clients_unless_asked(tmp_path: Path) -> None:
    directory = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    assert tomllib.loads((directory / "node.toml").read_text())["cot"] == {"enabled": False}
    directory = make_node_dir(tmp_path / "jjoc", "jjoc", "JPN", cot_tls_port=18089)
    assert tomllib.loads((directory / "node.toml").read_text())["cot"] == {
        "tcp_port": 0,
        "tls_port": 18089,
    }
