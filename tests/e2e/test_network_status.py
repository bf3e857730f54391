"""Issue 19: the network status of three real nodes, one link cut by the fault proxy.

USFJ, JJOC and AUS peered pairwise; usfj→jjoc goes through a fault proxy. Cut, the
network view (``GET /api/v1/network``, the WebSocket topic ``network``) and ``kizuna peer
status`` show jjoc cut and its queues growing by precedence; with the status clock moved
11 minutes on (``[federation] clock_offset_s``, read live) the queued FLASH item is past
its 10-minute objective and raises ``flash_overdue`` (alert and counted metric); healed,
the queues drain and the digest comparison says agree.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.cluster import Cluster
from tests.nodes import NodeProcess, kizuna, metric

NATIONS = {"usfj": "USA", "jjoc": "JPN", "aus": "AUS"}
LABEL = "S//REL TO USA, AUS, JPN"
PLAN = {"FLASH": 2, "IMMEDIATE": 1, "PRIORITY": 3, "ROUTINE": 4}
SETTINGS = "\n[federation]\ndigest_every_s = 1.0\ndigest_alert_s = 30.0\nlink_cut_alert_s = 3.0\n"


def wait_for(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def set_offset(node: NodeProcess, seconds: float) -> None:
    """Move the node's status clock (the running node reads node.toml again)."""
    path = node.dir / "node.toml"
    text = re.sub(r"(?m)^clock_offset_s = .*$\n?", "", path.read_text())
    text = text.replace("[federation]\n", f"[federation]\nclock_offset_s = {seconds}\n", 1)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def peer(status: dict[str, Any], peer_id: str) -> dict[str, Any]:
    return next(p for p in status["peers"] if p["id"] == peer_id)


def depths(p: dict[str, Any]) -> dict[str, int]:
    return {q["precedence"]: q["depth"] for q in p["queues"]}


def token(client: httpx.Client) -> str:
    return str(client.headers["Authorization"].split()[1])


async def network_frames(url: str, seconds: float, first: bool = False) -> list[dict[str, Any]]:
    """The ``network`` frames a session gets in ``seconds`` (with ``first``: until one)."""
    frames = []
    async with connect(url) as ws:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            message = json.loads(raw)
            if message.get("type") == "network":
                frames.append(message["item"])
                if first:
                    break
    return frames


def test_a_cut_link_is_shown_queues_grow_flash_overdue_alerts_and_healing_drains(
    cluster: Cluster,
) -> None:
    for node_id, nation in NATIONS.items():
        node = cluster.node(node_id, nation)
        with (node.dir / "node.toml").open("a") as fh:
            fh.write(SETTINGS)
    cluster.link("usfj", "jjoc", proxied=True)
    cluster.link("usfj", "aus")
    cluster.link("jjoc", "aus")
    cluster.start()
    usfj, jjoc = cluster.nodes["usfj"], cluster.nodes["jjoc"]
    watch = usfj.user("us.watch", "USA", "SECRET", "--role", "watch")
    writer = usfj.user("us.writer", "USA", "SECRET", "--role", "requester")
    reader = jjoc.user("jp.reader", "JPN", "SECRET")

    # Only operators: a user without the watch or admin role is refused (problem+json).
    refused = writer.get("/api/v1/network")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "watch" in refused.json()["detail"]

    def network() -> dict[str, Any]:
        r = watch.get("/api/v1/network")
        assert r.status_code == 200, r.text
        return dict(r.json())

    # Up: every link connected, the digests compared and equal.
    first = wait_for(
        lambda: (
            (s := network())
            and all(
                p["state"] == "connected" and p["digest"]["state"] == "agree" for p in s["peers"]
            )
            and s
        ),
        20,
        "all links up and agreeing",
    )
    assert first["node"] == "usfj" and first["nation"] == "USA"
    assert sorted(p["id"] for p in first["peers"]) == ["aus", "jjoc"]
    assert metric(watch, "kizuna_digest_agree", peer="jjoc") == 1

    proxy = cluster.proxy("usfj", "jjoc")
    proxy.cut()
    for precedence, n in PLAN.items():
        for i in range(n):
            r = writer.post(
                "/api/v1/reports",
                json={
                    "label": LABEL,
                    "precedence": precedence,
                    "title": {"en": f"{precedence} {i}", "ja": f"{precedence} {i}"},
                },
            )
            assert r.status_code == 201, r.text

    cut = wait_for(
        lambda: (
            (s := network())
            and peer(s, "jjoc")["state"] == "cut"
            and depths(peer(s, "jjoc")) == PLAN
            and s
        ),
        20,
        "jjoc cut with the reports queued by precedence",
    )
    j = peer(cut, "jjoc")
    assert j["cut_since"] is not None and j["backoff_until"] is not None
    assert j["digest"]["state"] != "agree"  # entries wait: no comparison now
    assert [q["precedence"] for q in j["queues"]] == ["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]
    assert [q["objective_s"] for q in j["queues"]] == [600, 1800, 10800, 21600]
    assert all(0 <= q["oldest_age_s"] < 120 and not q["overdue"] for q in j["queues"])
    # The link to AUS is unaffected: delivered, nothing waits.
    a = wait_for(
        lambda: (
            (p := peer(network(), "aus"))["state"] == "connected"
            and sum(depths(p).values()) == 0
            and p
        ),
        20,
        "aus drained",
    )
    assert a["sent_total"] >= sum(PLAN.values())
    assert metric(watch, "kizuna_link_up", peer="jjoc") == 0
    assert metric(watch, "kizuna_outbox_depth_by_precedence", peer="jjoc", precedence="FLASH") == 2
    assert metric(watch, "kizuna_outbox_depth", peer="jjoc") == sum(PLAN.values())

    # The same table in a terminal, and the same status as JSON.
    table = kizuna("peer", "status", "--dir", str(usfj.dir)).stdout
    row = next(line for line in table.splitlines() if line.startswith("jjoc "))
    assert "JPN" in row and " cut " in row and "https" in row
    for n in PLAN.values():
        assert f"{n} (" in row  # each depth with its oldest age
    as_json = json.loads(kizuna("peer", "status", "--dir", str(usfj.dir), "--json").stdout)
    assert depths(peer(as_json, "jjoc")) == PLAN and peer(as_json, "jjoc")["state"] == "cut"

    # The link has been cut longer than link_cut_alert_s (3 s): link_cut.
    wait_for(
        lambda: any(x["kind"] == "link_cut" and x["peer"] == "jjoc" for x in network()["alerts"]),
        15,
        "the link_cut alert",
    )
    assert not any(x["kind"] == "flash_overdue" for x in network()["alerts"])
    assert metric(watch, "kizuna_network_alerts_total", kind="flash_overdue") == 0

    # Eleven minutes later by the status clock: the FLASH items are past 10 minutes.
    set_offset(usfj, 660)
    late = wait_for(
        lambda: (
            (s := network())
            and any(x["kind"] == "flash_overdue" and x["peer"] == "jjoc" for x in s["alerts"])
            and s
        ),
        15,
        "the flash_overdue alert",
    )
    alert = next(x for x in late["alerts"] if x["kind"] == "flash_overdue")
    assert "jjoc" in alert["title"]["en"] and "FLASH" in alert["title"]["ja"]
    flash = peer(late, "jjoc")["queues"][0]
    assert flash["overdue"] and flash["oldest_age_s"] > 600
    immediate = peer(late, "jjoc")["queues"][1]
    assert not immediate["overdue"]  # 11 minutes is within IMMEDIATE's 30
    assert metric(watch, "kizuna_network_alerts_total", kind="flash_overdue") == 1
    assert metric(watch, "kizuna_network_alert_active", kind="flash_overdue", peer="jjoc") == 1
    assert metric(watch, "kizuna_outbox_oldest_seconds", peer="jjoc", precedence="FLASH") > 600
    assert "flash_overdue" in kizuna("peer", "status", "--dir", str(usfj.dir)).stdout

    # Live, on the WebSocket: operators get the status; others get no network frame.
    ws = f"ws://127.0.0.1:{usfj.port}/api/v1/ws?token="
    frames = asyncio.run(network_frames(ws + token(watch), 5, first=True))
    assert frames and any(x["kind"] == "flash_overdue" for x in frames[-1]["alerts"])
    # An operator's first frame comes at the session's first flush (0.1 s): 1.5 s is ample.
    assert asyncio.run(network_frames(ws + token(writer), 1.5)) == []

    # Healed: the queues drain, the digest agrees, the alerts clear.
    proxy.heal()
    healed = wait_for(
        lambda: (
            (s := network())
            and (p := peer(s, "jjoc"))["state"] == "connected"
            and sum(depths(p).values()) == 0
            and p["digest"]["state"] == "agree"
            and not s["alerts"]
            and s
        ),
        30,
        "jjoc drained and agreeing, no alerts",
    )
    j = peer(healed, "jjoc")
    assert j["sent_total"] >= sum(PLAN.values())
    assert j["last_contact"] is not None and j["rtt_ms"] is not None
    assert metric(watch, "kizuna_network_alert_active", kind="flash_overdue", peer="jjoc") == 0
    assert metric(watch, "kizuna_network_alerts_total", kind="flash_overdue") == 1
    assert metric(watch, "kizuna_digest_agree", peer="jjoc") == 1
    titles = {x["title"]["en"] for x in reader.get("/api/v1/reports").json()}
    assert {f"{p} {i}" for p, n in PLAN.items() for i in range(n)} <= titles


def test_peer_status_says_plainly_when_the_node_is_not_running(tmp_path: Path) -> None:
    from tests.nodes import make_node_dir

    directory = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    out = kizuna("peer", "status", "--dir", str(directory), check=False)
    assert out.returncode == 1
    assert "usfj is not running" in out.stderr and "kizuna serve" in out.stderr
    # A status a dead node left behind is not taken for a running one.
    stale = directory / "network-status.json"
    stale.write_text('{"node": "usfj", "nation": "USA", "now": "", "peers": [], "alerts": []}')
    old = time.time() - 60
    os.utime(stale, (old, old))
    out = kizuna("peer", "status", "--dir", str(directory), check=False)
    assert out.returncode == 1 and "not running" in out.stderr
