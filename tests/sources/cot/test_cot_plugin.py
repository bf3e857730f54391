"""The CoT plugin as a node starts it: settings, the server job wired to the picture."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import msgspec
import typer
from cot_support import WAIT, PytakClient, cot
from tests.nodes import free_port
from tests.sources.fakes import FakePicture
from typer.testing import CliRunner

from kizuna.core.labels import Classification, make_label
from kizuna.kernel.config import NodeConfig, NodeDir
from kizuna.kernel.testing import memory_context
from kizuna.node.setup import init_node
from kizuna.picture.models import Provenance, Track
from kizuna.sources.cot import CotSettings, plugin
from kizuna.sources.cot.service import CotService


def kizuna() -> typer.Typer:
    """A root with the plugin's command groups mounted, as `kizuna` mounts them."""
    root = typer.Typer()
    for group, sub in plugin.cli(lambda _: None).items():  # type: ignore[arg-type,return-value]
        root.add_typer(sub, name=group)
    return root


def node_dir(tmp_path: Path) -> Path:
    init_node(NodeDir(tmp_path / "usfj"), NodeConfig(node_id="usfj", nation="USA"))
    return tmp_path / "usfj"


def ais_track(track_id: str = "ais-1") -> Track:
    return Track(
        id=track_id,
        source="ais",
        source_id=track_id[4:],
        name="MARU",
        lat=34.9,
        lon=139.8,
        observed_at=1.7e9,
        stale_at=1.7e9 + 600,
        cot_type="a-n-S-X",
        sidc="10043000001400000000",
        label=make_label(Classification.UNCLASSIFIED, originator="USA"),
    )


def test_settings_and_enabled() -> None:
    assert msgspec.convert({}, CotSettings) == CotSettings(tcp_port=8087, tls_port=8089)
    assert plugin.enabled(CotSettings())
    assert plugin.enabled(CotSettings(tcp_port=0))
    assert not plugin.enabled(CotSettings(tcp_port=0, tls_port=0))
    assert not plugin.enabled(CotSettings(enabled=False))
    assert plugin.requires == ("picture",)


async def test_job_serves_tak_clients_and_publishes_other_sources(tmp_path: Path) -> None:
    root = node_dir(tmp_path)
    tcp, tls = free_port(1), free_port(1)
    picture = FakePicture()
    ctx = memory_context(
        root=root, settings=CotSettings(tcp_port=tcp, tls_port=tls), services={"picture": picture}
    )
    service = plugin.start(ctx)
    assert isinstance(service, CotService)
    (job,) = plugin.jobs(service)
    task = asyncio.create_task(job)
    try:
        async with asyncio.timeout(WAIT):
            while service.server.tcp_address is None or service.server.tls_address is None:
                await asyncio.sleep(0.01)
        assert service.server.tcp_address[1] == tcp and service.server.tls_address[1] == tls
        a = await PytakClient.connect(f"tcp://127.0.0.1:{tcp}")
        b = await PytakClient.connect(f"tcp://127.0.0.1:{tcp}")
        await b.recv(skip=())
        await a.send(cot("ALPHA-1"))
        # the server relays its own clients; the picture gets the track, labelled by the node
        assert (await b.recv()).get("uid") == "ALPHA-1"
        async with asyncio.timeout(WAIT):
            while not picture.tracks:
                await asyncio.sleep(0.01)
        assert [t.id for t in picture.tracks] == ["cot-ALPHA-1"]
        assert picture.tracks[0].label.originator == "USA"
        # tracks from other sources (and CoT tracks from federation) go to TAK clients
        federated = msgspec.structs.replace(
            picture.tracks[0],
            id="cot-FAR",
            source_id="FAR",
            sources=[
                Provenance(
                    source="cot", source_id="FAR", observed_at=1.7e9, connection="federation:jjoc"
                )
            ],
        )
        picture.ingest([ais_track(), federated])
        assert (await b.recv()).get("uid") == "ais-1"
        assert (await b.recv()).get("uid") == "FAR"
        assert (await a.recv()).get("uid") == "ais-1"  # its own ALPHA-1 never comes back
        # the TLS listener uses the node's certificate: a client of its CA is accepted
        certs = tmp_path / "client"
        result = CliRunner().invoke(
            kizuna(),
            [
                "tak",
                "client-cert",
                "--dir",
                str(root),
                "--name",
                "VIPER",
                "--nation",
                "USA",
                "--clearance",
                "SECRET",
                "--out",
                str(certs),
            ],
        )
        assert result.exit_code == 0, result.output
        paths = dict(ln.split(": ", 1) for ln in result.output.splitlines())
        assert set(paths) == {"cert", "key", "ca", "p12"}
        viper = await PytakClient.connect(
            f"tls://127.0.0.1:{tls}", {k: Path(v) for k, v in paths.items()}
        )
        await viper.recv(skip=())
        picture.ingest([ais_track("ais-2")])
        assert (await viper.recv()).get("uid") == "ais-2"
        for client in (a, b, viper):
            await client.close()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        ctx.backend.close()
    assert service.server.client_count == 0


async def test_tcp_only_needs_no_certificates(tmp_path: Path) -> None:
    tcp = free_port(1)
    ctx = memory_context(
        root=tmp_path,
        settings=CotSettings(tcp_port=tcp, tls_port=0),
        services={"picture": FakePicture()},
    )
    service = plugin.start(ctx)
    assert service.server.ssl_context is None and service.server.tls_port is None
    (job,) = plugin.jobs(service)
    task = asyncio.create_task(job)
    try:
        async with asyncio.timeout(WAIT):
            while service.server.tcp_address is None:
                await asyncio.sleep(0.01)
        _, writer = await asyncio.open_connection("127.0.0.1", tcp)
        writer.close()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        ctx.backend.close()


def test_client_cert_refuses_a_bad_clearance(tmp_path: Path) -> None:
    root = node_dir(tmp_path)
    result = CliRunner().invoke(
        kizuna(),
        [
            *("tak", "client-cert", "--dir", str(root), "--name", "X", "--nation", "USA"),
            *("--clearance", "COSMIC", "--out", str(tmp_path / "x")),
        ],
    )
    assert result.exit_code == 2 and "error:" in result.output
