"""The AIS plugin as a node starts it: listeners on the configured ports, `kizuna ingest ais`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import structlog
import typer
from typer.testing import CliRunner

from kizuna.kernel.config import NodeConfig, NodeDir
from kizuna.kernel.testing import memory_context
from kizuna.node.setup import init_node
from kizuna.sources.ais import AisSettings, plugin
from tests.nodes import free_port
from tests.sources.fakes import FakeHandle, FakePicture

from .test_feeds import PAYLOAD, until


def test_settings_and_enabled() -> None:
    assert msgspec.convert({}, AisSettings) == AisSettings(udp_port=0, tcp_port=0)
    assert not plugin.enabled(AisSettings())
    assert plugin.enabled(AisSettings(udp_port=10110))
    assert not plugin.enabled(AisSettings(tcp_port=10110, enabled=False))
    assert plugin.requires == ("picture",)


async def test_job_listens_on_udp_and_tcp(tmp_path: Path) -> None:
    udp, tcp = free_port(1), free_port(1)
    picture = FakePicture()
    ctx = memory_context(
        root=tmp_path,
        settings=AisSettings(udp_port=udp, tcp_port=tcp),
        services={"picture": picture},
    )
    (job,) = plugin.jobs(plugin.start(ctx))
    task = asyncio.create_task(job)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            while not picture.tracks:  # the listener may not be bound yet: send again
                sock.sendto(PAYLOAD, ("127.0.0.1", udp))
                with contextlib.suppress(TimeoutError):
                    await until(lambda: bool(picture.tracks), timeout=0.2)
        assert {t.id for t in picture.tracks} == {"ais-371798000", "ais-338087471"}
        assert all(p.connection.startswith("ais-udp") for t in picture.tracks for p in t.sources)
        assert all(t.label.render() == "UNCLASSIFIED" for t in picture.tracks)
        picture.tracks.clear()
        _, writer = await asyncio.open_connection("127.0.0.1", tcp)
        writer.write(PAYLOAD)
        await writer.drain()
        await until(lambda: len(picture.tracks) >= 2)  # flushed within half a second
        assert all(p.connection.startswith("ais-tcp:") for t in picture.tracks for p in t.sources)
        writer.close()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        ctx.backend.close()


@pytest.fixture(autouse=True)
def keep_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command sets the process's logging up; in-process, logs are captured instead."""
    monkeypatch.setattr("kizuna.kernel.logging.configure", lambda level="INFO": None)
    with structlog.testing.capture_logs():
        yield


def kizuna(handle: FakeHandle, opened: list[Path]) -> typer.Typer:
    def open_node(root: Path) -> FakeHandle:
        opened.append(root)
        return handle

    root = typer.Typer()
    for group, sub in plugin.cli(open_node).items():
        root.add_typer(sub, name=group)
    return root


def test_ingest_ais_file(tmp_path: Path, data_dir: Path) -> None:
    nd = NodeDir(tmp_path / "usfj")
    init_node(nd, NodeConfig(node_id="usfj", nation="USA"))
    picture, opened = FakePicture(), []
    handle = FakeHandle({"picture": picture})
    sample = data_dir / "gpsd_sample.aivdm"
    result = CliRunner().invoke(
        kizuna(handle, opened),
        ["ingest", "ais", str(sample), "--dir", str(nd.root), "--label", "S//REL TO JPN"],
    )
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln]  # the progress bar leaves a blank
    assert lines[0] == "offered 119, accepted 25, rejected 94, tracks 12"
    assert all(ln.startswith("  rejected ") for ln in lines[1:])
    assert opened == [nd.root] and handle.closed
    assert picture.tracks
    assert {t.label.render() for t in picture.tracks} == {"SECRET//REL TO USA, JPN"}
    assert {p.connection for t in picture.tracks for p in t.sources} == {sample.name}


def test_ingest_ais_refuses_a_bad_label(tmp_path: Path, data_dir: Path) -> None:
    nd = NodeDir(tmp_path / "usfj")
    init_node(nd, NodeConfig(node_id="usfj", nation="USA"))
    handle = FakeHandle({"picture": FakePicture()})
    result = CliRunner().invoke(
        kizuna(handle, []),
        [
            *("ingest", "ais", str(data_dir / "gpsd_sample.aivdm"), "--dir", str(nd.root)),
            *("--label", "SECRET//REL TO XXX"),
        ],
    )
    assert result.exit_code == 2 and "error: bad label" in result.output
    assert handle.closed
