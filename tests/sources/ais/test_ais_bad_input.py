"""Every AIS reject is counted in the node's ``kizuna_bad_input_total{source="ais",reason}``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

from prometheus_client import generate_latest

from kizuna.kernel.testing import memory_context
from kizuna.sources.ais import AisIngestor, AisSettings, plugin
from tests.nodes import free_port
from tests.sources.fakes import FakePicture

from .conftest import UNCLASSIFIED, Collect
from .test_feeds import until

LINES = [
    b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",  # accepted
    b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*00",  # bad_checksum
    b"garbage",  # malformed
    b"!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
]


def test_the_ingestor_reports_each_reject_once() -> None:
    seen: list[tuple[str, int]] = []
    ing = AisIngestor(Collect(), UNCLASSIFIED, on_reject=lambda r, n: seen.append((r, n)))
    ing.feed_lines(LINES, 1.7e9)
    ing.close()  # the unfinished two-part message becomes incomplete_fragment
    totals: dict[str, int] = {}
    for reason, n in seen:
        totals[reason] = totals.get(reason, 0) + n
    assert totals == {k: v for k, v in ing.stats.rejected.items() if v}
    assert totals == {"bad_checksum": 1, "malformed": 1, "incomplete_fragment": 1}


async def test_the_plugin_counts_rejects_on_the_node_metrics(tmp_path: Path) -> None:
    udp = free_port(1)
    picture = FakePicture()
    ctx = memory_context(
        root=tmp_path, settings=AisSettings(udp_port=udp), services={"picture": picture}
    )
    (job,) = plugin.jobs(plugin.start(ctx))
    task = asyncio.create_task(job)

    def count(reason: str) -> float:
        value = ctx.metrics.bad_input.labels("ais", reason)._value.get()
        return float(value)

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            while not picture.tracks:  # the listener may not be bound yet: send again
                sock.sendto(b"\r\n".join(LINES[:3]) + b"\r\n", ("127.0.0.1", udp))
                with contextlib.suppress(TimeoutError):
                    await until(lambda: bool(picture.tracks), timeout=0.2)
        assert count("bad_checksum") >= 1 and count("bad_checksum") == count("malformed")
        text = generate_latest(ctx.metrics.registry).decode()
        assert 'kizuna_bad_input_total{reason="bad_checksum",source="ais"}' in text
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        ctx.backend.close()
