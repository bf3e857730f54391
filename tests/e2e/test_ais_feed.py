"""AIS reaches a node's picture: over UDP while it serves, and from a file (`kizuna ingest ais`)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

from tests.nodes import NodeProcess, free_port, kizuna, make_node_dir


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


def test_ingest_ais_file_then_serve(tmp_path: Path, shared_data: Path) -> None:
    directory = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    sample = shared_data / "ais" / "gpsd_sample.aivdm"
    out = kizuna("ingest", "ais", str(sample), "--dir", str(directory), "--label", "S//REL TO JPN")
    lines = [ln for ln in out.stdout.splitlines() if ln]
    assert lines[0] == "offered 119, accepted 25, rejected 94, tracks 12"
    assert "  rejected unsupported_type: 93" in lines
    bad = kizuna("ingest", "ais", str(sample), "--dir", str(directory), "--label", "X", check=False)
    assert bad.returncode == 2 and "error: bad label" in bad.stderr
    node = NodeProcess(directory)
    node.start()
    try:
        tracks = node.user("watch", "USA", "SECRET").get("/api/v1/tracks").json()
        ais = [t for t in tracks if t["source"] == "ais"]
        assert ais and {t["label"] for t in ais} == {"SECRET//REL TO USA, JPN"}
        assert not node.user("low", "USA", "UNCLASSIFIED").get("/api/v1/tracks").json()
    finally:
        node.stop()
