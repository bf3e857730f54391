"""A node listening for AIS over UDP puts vessels on its picture."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

from tests.nodes import NodeProcess, free_port


def test_udp_ais_feed_reaches_the_picture(
    node_factory: Callable[..., NodeProcess], shared_data: Path
) -> None:
    udp = free_port(1)
    node = node_factory("usfj", "USA", ais_udp_port=udp)
    watch = node.user("watch", "USA", "SECRET")
    lines = [
        ln
        for ln in (shared_data / "ais" / "gpsd_sample.aivdm").read_text().splitlines()
        if ln.startswith("!AIVDM")
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for ln in lines:
            s.sendto((ln + "\r\n").encode(), ("127.0.0.1", udp))
    deadline = time.monotonic() + 20
    tracks: list[dict[str, object]] = []
    while time.monotonic() < deadline and not tracks:
        tracks = [t for t in watch.get("/api/v1/tracks").json() if t["source"] == "ais"]
        time.sleep(0.2)
    assert tracks, "no AIS track arrived"
    assert all(t["sidc"] and len(str(t["sidc"])) == 20 for t in tracks)
    assert any(t["mmsi"] for t in tracks)
    metrics = watch.get("/metrics").text
    assert "kizuna_tracks" in metrics
