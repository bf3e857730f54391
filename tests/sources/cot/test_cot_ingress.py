"""CoT through the node's one ingress rule (issue 17, findings 1, 4 and 10).

A TAK client is a writer on the node, never the originator: what it sends is
originated by the host node's nation, and is refused (counted, logged, audited)
unless its label is releasable to the client and not above its clearance. TLS
clients' principals know the node's groups, so ``REL TO ACM`` works both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import typer
from cot_support import WAIT, PytakClient, cot
from prometheus_client import generate_latest
from tests.nodes import free_port
from tests.sources.fakes import FakePicture
from typer.testing import CliRunner

from kizuna.core.labels import Classification, make_label
from kizuna.kernel.config import NodeConfig, NodeDir
from kizuna.kernel.context import NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.node.setup import init_node
from kizuna.picture.models import Track
from kizuna.sources.cot import CotSettings, plugin
from kizuna.sources.cot.service import CotService

ACM = {"ACM": ["USA", "JPN"]}


def kizuna() -> typer.Typer:
    root = typer.Typer()
    for group, sub in plugin.cli(lambda _: None).items():  # type: ignore[arg-type,return-value]
        root.add_typer(sub, name=group)
    return root


def client_cert(
    root: Path, name: str, nation: str, *groups: str, clearance: str = "SECRET"
) -> tuple[int, str, dict[str, Path]]:
    args = ["tak", "client-cert", "--dir", str(root), "--name", name, "--nation", nation]
    args += ["--clearance", clearance, "--out", str(root.parent / "certs" / name)]
    for group in groups:
        args += ["--group", group]
    result = CliRunner().invoke(kizuna(), args)
    paths: dict[str, Path] = {}
    if result.exit_code == 0:
        paths = {k: Path(v) for k, v in (ln.split(": ", 1) for ln in result.output.splitlines())}
    return result.exit_code, result.output, paths


class JpnNode:
    """The JJOC node's CoT plugin in-process: TLS only, groups ACM = USA, JPN."""

    def __init__(self, ctx: NodeContext, service: CotService, picture: FakePicture) -> None:
        self.ctx, self.service, self.picture = ctx, service, picture
        assert service.server.tls_address is not None
        self.url = "tls://{}:{}".format(*service.server.tls_address)

    async def connect(self, name: str, nation: str, *groups: str) -> PytakClient:
        code, output, certs = client_cert(self.ctx.root, name, nation, *groups)
        assert code == 0, output
        client = await PytakClient.connect(self.url, certs)
        await client.recv(skip=())  # the protocol announcement
        return client

    def metrics(self) -> str:
        return generate_latest(self.ctx.metrics.registry).decode()

    def refusals(self) -> list[dict[str, object]]:
        entries = [json.loads(ln) for ln in self.ctx.audit.path.read_text().splitlines()]
        return [e for e in entries if e["outcome"] == "refused"]

    async def tracks(self, n: int) -> list[Track]:
        async with asyncio.timeout(WAIT):
            while len(self.picture.tracks) < n:
                await asyncio.sleep(0.01)
        return self.picture.tracks


@pytest.fixture
async def jjoc(tmp_path: Path) -> AsyncIterator[JpnNode]:
    root = tmp_path / "jjoc"
    init_node(NodeDir(root), NodeConfig(node_id="jjoc", nation="JPN", groups=ACM))
    picture = FakePicture()
    ctx = memory_context(
        "jjoc",
        "JPN",
        root=root,
        groups=ACM,
        settings=CotSettings(tcp_port=0, tls_port=free_port(1)),
        services={"picture": picture},
    )
    service = plugin.start(ctx)
    (job,) = plugin.jobs(service)
    task = asyncio.create_task(job)
    try:
        async with asyncio.timeout(WAIT):
            while service.server.tls_address is None:
                await asyncio.sleep(0.01)
        yield JpnNode(ctx, service, picture)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        ctx.backend.close()


async def test_a_foreign_tak_client_writes_as_the_node_and_only_what_it_may_see(
    jjoc: JpnNode,
) -> None:
    phl = await jjoc.connect("MABUHAY", "PHL")
    jpn = await jjoc.connect("SAKURA", "JPN")
    # NOFORN on a JPN node means JPN only: a PHL writer would lock itself out
    await phl.send(cot("NF-1", access="SECRET", caveat="NOFORN"))
    # REL TO USA (and the node's JPN) does not include the PHL writer either
    await phl.send(cot("REL-USA", access="SECRET", releaseableTo="USA"))
    await phl.send(cot("REL-PHL", access="SECRET", releaseableTo="USA PHL"))
    track = (await jjoc.tracks(1))[0]
    assert (track.id, track.label.render()) == ("cot-REL-PHL", "//JPN SECRET//REL TO USA, JPN, PHL")
    got = await jpn.recv()  # the node's own nation sees it; the refused two were never relayed
    assert (got.get("uid"), got.get("releaseableTo")) == ("REL-PHL", "USA JPN PHL")
    assert len(jjoc.picture.tracks) == 1
    # counted as bad CoT input and as refused writes, each in the audit trail
    text = jjoc.metrics()
    assert 'kizuna_bad_input_total{reason="not_permitted",source="cot"} 2.0' in text
    assert 'kizuna_access_refused_total{reason="write_label"} 2.0' in text
    refusals = jjoc.refusals()
    assert [(e["details"]["reason"], e["details"]["source"]) for e in refusals] == [  # type: ignore[index]
        ("write_label", "cot")
    ] * 2
    assert all(str(e["actor"]).startswith("MABUHAY@") for e in refusals)
    assert [e["details"]["label"] for e in refusals] == [  # type: ignore[index]
        "//JPN SECRET//NOFORN",
        "//JPN SECRET//REL TO USA, JPN",
    ]
    assert jjoc.service.server.stats()["rejected_not_permitted"] == 2
    # a JPN client may write NOFORN on its own nation's node
    await jpn.send(cot("NF-JPN", access="SECRET", caveat="NOFORN"))
    tracks = await jjoc.tracks(2)
    assert tracks[1].label.render() == "//JPN SECRET//NOFORN"
    for client in (phl, jpn):
        await client.close()


async def test_tak_client_cert_knows_the_node_groups(jjoc: JpnNode) -> None:
    root = jjoc.ctx.root
    code, output, _ = client_cert(root, "VIPER", "USA", "ACM")
    assert code == 0, output
    for bad, why in (("XYZ", "unknown group 'XYZ'"), ("ACM", "not a member of group ACM")):
        code, output, _ = client_cert(root, "HANA", "KOR", bad)
        assert code == 2 and why in output and "Traceback" not in output, output
    code, output, _ = client_cert(root, "../X", "USA")
    assert code == 2 and "error:" in output and "Traceback" not in output, output


async def test_tls_clients_get_and_send_group_labels(jjoc: JpnNode) -> None:
    usa = await jjoc.connect("VIPER", "USA", "ACM")
    jpn = await jjoc.connect("SAKURA", "JPN")  # no group claimed: its nation's groups apply
    kor = await jjoc.connect("HANA", "KOR")
    acm = make_label(
        Classification.SECRET, rel_to={"ACM"}, originator="JPN", groups=jjoc.ctx.groups
    )
    base = dict(
        source="ais",
        lat=34.9,
        lon=139.8,
        observed_at=1.7e9,
        stale_at=1.7e9 + 600,
        cot_type="a-n-S-X",
        sidc="10043000001400000000",
    )
    jjoc.picture.ingest(
        [
            Track(id="ais-1", source_id="1", label=acm, **base),  # type: ignore[arg-type]
            Track(id="ais-2", source_id="2", label=make_label(Classification.UNCLASSIFIED), **base),  # type: ignore[arg-type]
        ]
    )
    for client in (usa, jpn):
        got = await client.recv()
        assert (got.get("uid"), got.get("releaseableTo")) == ("ais-1", "JPN ACM")
        assert (await client.recv()).get("uid") == "ais-2"
    assert (await kor.recv()).get("uid") == "ais-2"  # never the ACM one
    # a USA client may label for ACM; KOR, not a member, may not
    await kor.send(cot("KOR-ACM", access="SECRET", releaseableTo="ACM"))
    await usa.send(cot("USA-ACM", access="SECRET", releaseableTo="ACM"))
    got = await jpn.recv()
    assert (got.get("uid"), got.get("releaseableTo")) == ("USA-ACM", "JPN ACM")
    tracks = [t for t in await jjoc.tracks(3) if t.source == "cot"]
    assert [(t.id, t.label.render()) for t in tracks] == [
        ("cot-USA-ACM", "//JPN SECRET//REL TO JPN, ACM")
    ]
    assert 'kizuna_bad_input_total{reason="not_permitted",source="cot"} 1.0' in jjoc.metrics()
    for client in (usa, jpn, kor):
        await client.close()
