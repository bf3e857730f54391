"""Issue 16, point 4: a partner node joins a running federation with `kizuna peer invite` and
`kizuna peer join` alone (ADR 0019).

Three real nodes (JJOC, USFJ, AUS) federate and run; a fourth (PHL, Philippines) starts with
no peer and joins each of them while everything runs: no restart, no certificate copied by
hand. It then holds exactly what a Philippine principal may see of the others' records under
the agreements they proposed. A used or expired invitation is refused, an agreement changes
while the nodes run, and a revoked peer can no longer connect (its queued outbox dropped,
audited).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from kizuna.federation.invites import decode_token, encode_token
from kizuna.federation.peerconf import add_peer
from kizuna.kernel import pki
from kizuna.kernel.config import NodeConfig, NodeDir, PeerConfig
from kizuna.node.runtime import Node
from kizuna.node.setup import init_node
from kizuna.node.users import make_user
from tests.cluster import Cluster
from tests.nodes import NodeProcess, free_port, kizuna, make_node_dir, metric

NATIONS = {"jjoc": "JPN", "usfj": "USA", "aus": "AUS", "phl": "PHL"}
# What each origin writes; the PHL agreement each proposes decides what PHL gets.
MARKINGS = {
    "jjoc": ["U", "S//REL TO JPN, PHL", "C//REL TO JPN, PHL", "S//REL TO USA, JPN",
             "S//REL TO ACM", "TS//REL TO JPN, PHL"],
    "usfj": ["U", "S//REL TO USA, PHL", "S//NOFORN", "S//REL TO FVEY",
             "TS//REL TO USA, PHL", "C//REL TO USA, JPN, PHL"],
    "aus": ["U", "C//REL TO AUS, PHL", "S//REL TO AUS, PHL", "S//REL TO AUS"],
}  # fmt: skip
AUS_TYPES = "report,audit_head"  # AUS proposes less than the default agreement
CEILING = {"jjoc": "SECRET", "usfj": "SECRET", "aus": "CONFIDENTIAL"}


def wait_until(check: Callable[[], object], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def user(directory: Path, name: str, nation: str, clearance: str) -> str:
    """A user made in the node's store before it starts (as `kizuna user add` does)."""
    node = Node(directory, domains=[])
    try:
        made, token = make_user(name, nation, clearance, [], [], node.groups)
        node.backend.users.add_user(made)
    finally:
        node.close()
    return token


def client(node: NodeProcess, token: str) -> httpx.Client:
    return httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def audit(directory: Path, action: str) -> list[dict[str, Any]]:
    lines = (directory / "audit.log").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == action]


def fingerprint(path: Path) -> str:
    return pki.fingerprint(pki.load_cert(path))


def held_reports(directory: Path) -> set[str]:
    """The reports of other origins the node's database holds (not what a user may see)."""
    with sqlite3.connect(f"file:{directory / 'kizuna.db'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT DISTINCT record_id FROM events WHERE record_type = 'report' AND origin != ?",
            (directory.name,),
        ).fetchall()
    return {r[0] for r in rows}


def held_types(directory: Path, origin: str) -> set[str]:
    with sqlite3.connect(f"file:{directory / 'kizuna.db'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT DISTINCT record_type FROM events WHERE origin = ?", (origin,)
        ).fetchall()
    return {r[0] for r in rows}


def bare_node(root: Path, node_id: str) -> Path:
    """A node directory that never runs (`kizuna init` without its plugins' tables)."""
    init_node(NodeDir(root / node_id), NodeConfig(node_id=node_id, nation="PHL", port=free_port()))
    return root / node_id


def write(c: httpx.Client, marking: str, title: str) -> str:
    r = c.post("/api/v1/reports", json={"label": marking, "title": {"en": title, "ja": title}})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def visible(c: httpx.Client) -> set[str]:
    r = c.get("/api/v1/reports", params={"limit": 1000})
    assert r.status_code == 200, r.text
    return {x["id"] for x in r.json()}


def peer_client(joiner: Path, inviter: Path) -> httpx.Client:
    """The joiner's end of its mutual-TLS link, with the certificate it pinned at join."""
    from kizuna.federation.tls import client_context

    nd = NodeDir(joiner)
    peer = next(p for p in nd.load().peers if p.peer_id == inviter.name)
    ctx = client_context(nd, nd.peers / f"{inviter.name}.pem")
    return httpx.Client(verify=ctx, base_url=peer.url, timeout=10)


@dataclass
class Federation:
    cluster: Cluster
    writers: dict[str, httpx.Client]
    phl_viewers: dict[str, httpx.Client]  # a PHL principal on each node (agreement's ceiling)
    written: dict[str, dict[str, str]] = field(default_factory=dict)  # node -> id -> marking
    tokens: dict[str, str] = field(default_factory=dict)  # inviter -> the token PHL used

    def dir(self, node: str) -> Path:
        return self.cluster.nodes[node].dir


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("onboarding")
    cluster = Cluster(root)
    ports = {n: free_port(2) for n in NATIONS}
    with ThreadPoolExecutor(4) as pool:
        dirs = dict(
            zip(
                NATIONS,
                pool.map(lambda n: make_node_dir(root / n, n, NATIONS[n], port=ports[n]), NATIONS),
                strict=True,
            )
        )
    for n, d in dirs.items():
        cluster.nodes[n] = NodeProcess(d)
    # The running three-node federation, peered as `kizuna peer add` does.
    for a, b in (("jjoc", "usfj"), ("jjoc", "aus"), ("usfj", "aus")):
        for src, dst in ((a, b), (b, a)):
            pem = (
                dirs[dst].joinpath("node.pem").read_bytes()
                + dirs[dst].joinpath("ca.pem").read_bytes()
            )
            url = NodeDir(dirs[dst]).load().federation_url
            add_peer(
                NodeDir(dirs[src]),
                PeerConfig(peer_id=dst, nation=NATIONS[dst], url=url, cert=f"peers/{dst}.pem"),
                pem,
            )
    writers = {n: user(dirs[n], f"{n}.writer", NATIONS[n], "TOP_SECRET") for n in NATIONS}
    viewers = {n: user(dirs[n], "phl.viewer", "PHL", CEILING.get(n, "TOP_SECRET")) for n in NATIONS}
    try:
        with ThreadPoolExecutor(4) as pool:  # all four come up at once
            list(pool.map(NodeProcess.start, cluster.nodes.values()))
        yield Federation(
            cluster,
            {n: client(cluster.nodes[n], t) for n, t in writers.items()},
            {n: client(cluster.nodes[n], t) for n, t in viewers.items()},
        )
    finally:
        for node in cluster.nodes.values():  # all at once: each may take seconds to stop
            if node.proc is not None and node.proc.poll() is None:
                node.proc.send_signal(signal.SIGINT)
        for node in cluster.nodes.values():
            if node.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    node.proc.wait(timeout=10)
        cluster.stop()


def test_a_fourth_node_joins_with_invite_and_join_alone_and_holds_what_phl_may_see(
    fed: Federation,
) -> None:
    cluster = fed.cluster
    for node, markings in MARKINGS.items():  # history from before PHL existed
        fed.written[node] = {write(fed.writers[node], m, f"{node} {m}"): m for m in markings}
    phl = fed.dir("phl")
    assert NodeDir(phl).load().peers == []  # PHL runs, knowing nobody
    pids = {n: node.proc.pid for n, node in cluster.nodes.items() if node.proc}

    def onboard(inviter: str) -> str:
        options = {"expires": "10m"}
        if inviter == "aus":
            options |= {"types": AUS_TYPES, "max_classification": "CONFIDENTIAL"}
        token = fed.tokens[inviter] = cluster.invite(inviter, "phl", "PHL", **options)
        return cluster.join("phl", token).stdout

    # Three administrators at once: PHL's peers are edited under one lock.
    with ThreadPoolExecutor(3) as pool:
        inviters = ("jjoc", "usfj", "aus")
        outputs = dict(zip(inviters, pool.map(onboard, inviters), strict=True))
    for inviter, out in outputs.items():
        assert f"joined {inviter} ({NATIONS[inviter]})" in out

    # Both sides pinned each other's node certificate and recorded the proposed agreement.
    joined = {p.peer_id: p for p in NodeDir(phl).load().peers}
    assert sorted(joined) == ["aus", "jjoc", "usfj"]
    for inviter in joined:
        side = {p.peer_id: p for p in NodeDir(fed.dir(inviter)).load().peers}["phl"]
        assert (side.nation, side.max_classification) == ("PHL", CEILING[inviter])
        assert joined[inviter].max_classification == CEILING[inviter]
        assert sorted(joined[inviter].types) == sorted(side.types)
        assert fingerprint(fed.dir(inviter) / "peers" / "phl.pem") == fingerprint(phl / "node.pem")
        assert fingerprint(phl / "peers" / f"{inviter}.pem") == fingerprint(
            fed.dir(inviter) / "node.pem"
        )
    assert sorted(joined["aus"].types) == sorted(AUS_TYPES.split(","))

    # What a PHL principal may see of each origin's own records, under its agreement.
    expected: set[str] = set()
    for node, ids in fed.written.items():
        expected |= visible(fed.phl_viewers[node]) & set(ids)
    assert {m for ids in fed.written.values() for i, m in ids.items() if i in expected} == {
        "U", "S//REL TO JPN, PHL", "C//REL TO JPN, PHL", "S//REL TO USA, PHL",
        "C//REL TO USA, JPN, PHL", "C//REL TO AUS, PHL",
    }  # fmt: skip
    wait_until(lambda: held_reports(phl) >= expected, 30, "PHL holds what it may see")
    time.sleep(0.5)  # anything withheld would have come with the same batches
    assert held_reports(phl) == expected
    assert held_types(phl, "aus") <= set(AUS_TYPES.split(","))

    # The inviter's administrator sees who used the invitation.
    requests = json.loads(
        kizuna("peer", "requests", "--dir", str(fed.dir("jjoc")), "--json").stdout
    )
    assert [(r["peer_id"], r["status"]) for r in requests] == [("phl", "used")]
    assert requests[0]["joiner_fingerprint"] == fingerprint(phl / "node.pem")
    assert "secret_hash" not in requests[0]
    assert [e["outcome"] for e in audit(fed.dir("jjoc"), "federation.enrol")] == ["ok"]

    # And PHL's own records flow back.
    mine = write(fed.writers["phl"], "C//REL TO JPN, PHL", "phl report")
    wait_until(lambda: mine in visible(fed.writers["jjoc"]), 20, "PHL's report at JJOC")
    # Not one node was restarted.
    assert {n: node.proc.pid for n, node in cluster.nodes.items() if node.proc} == pids
    assert all(node.proc and node.proc.poll() is None for node in cluster.nodes.values())


def test_a_used_expired_or_altered_invitation_is_refused(fed: Federation, tmp_path: Path) -> None:
    cluster, jjoc, usfj = fed.cluster, fed.dir("jjoc"), fed.dir("usfj")
    late = bare_node(tmp_path, "phl-2")
    token = cluster.invite("usfj", "phl-2", "PHL", expires="1s")
    expires = time.monotonic() + 1.1

    # Someone holding JJOC's used token, on a machine of its own, claiming to be phl.
    impostor = bare_node(tmp_path, "phl")
    reused = cluster.join(impostor, fed.tokens["jjoc"], check=False)
    assert reused.returncode == 2 and "invitation already used" in reused.stderr
    assert audit(jjoc, "federation.enrol")[-1]["details"]["reason"] == "used"
    assert fingerprint(jjoc / "peers" / "phl.pem") == fingerprint(fed.dir("phl") / "node.pem")

    time.sleep(max(0.0, expires - time.monotonic()))
    expired = cluster.join(late, token, check=False)
    assert expired.returncode == 2 and "invitation expired" in expired.stderr
    assert audit(usfj, "federation.enrol")[-1]["details"]["reason"] == "expired"
    assert "phl-2" not in [p.peer_id for p in NodeDir(usfj).load().peers]
    assert NodeDir(late).load().peers == []

    # A token altered to send the joiner elsewhere: the joiner sees the wrong certificate
    # and sends nothing (the node it was sent to records no enrolment).
    invitation, _, signature = decode_token(token)
    moved = msgspec.structs.replace(invitation, url=NodeDir(jjoc).load().federation_url)
    before = len(audit(jjoc, "federation.enrol"))
    altered = cluster.join(late, encode_token(moved, signature), check=False)
    assert altered.returncode == 2 and "is not the inviter" in altered.stderr
    assert len(audit(jjoc, "federation.enrol")) == before

    # Without a pinned certificate or a valid secret, the federation port tells nothing.
    url = NodeDir(jjoc).load().federation_url
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with httpx.Client(verify=ctx, timeout=10) as c:
        garbage = c.post(f"{url}/federation/enrol", json=msgspec.to_builtins(invitation))
        guess = c.post(
            f"{url}/federation/enrol",
            json={
                "invitation": fed.tokens["jjoc"].split(".")[0],
                "secret": "guess",
                "peer_id": "phl",
                "nation": "PHL",
                "url": "https://127.0.0.1:1",
                "cert": "",
                "signature": "",
            },
        )
        assert garbage.status_code == 400
        assert (guess.status_code, guess.json()["detail"]) == (403, "invitation not valid")
        for answer in (garbage.text, guess.text):  # nothing about the inviter
            assert "jjoc" not in answer and "JPN" not in answer
        digest = c.get(f"{url}/federation/v1/digest", params={"peer": "phl"})
        assert digest.status_code == 403


def test_an_agreement_changes_without_a_restart(fed: Federation) -> None:
    usfj, phl = fed.dir("usfj"), fed.dir("phl")
    kizuna(
        "peer",
        "set",
        "--dir",
        str(usfj),
        "--peer-id",
        "phl",
        "--max-classification",
        "CONFIDENTIAL",
    )
    wait_until(lambda: audit(usfj, "federation.peer_changed"), 10, "USFJ applies the change")
    secret = write(fed.writers["usfj"], "S//REL TO USA, PHL", "after set, secret")
    confidential = write(fed.writers["usfj"], "C//REL TO USA, PHL", "after set, confidential")
    wait_until(lambda: confidential in held_reports(phl), 20, "the CONFIDENTIAL report at PHL")
    assert secret not in held_reports(phl)


def test_a_revoked_peer_can_no_longer_connect_and_its_outbox_is_dropped(fed: Federation) -> None:
    jjoc, phl = fed.dir("jjoc"), fed.dir("phl")
    with peer_client(phl, jjoc) as c:
        assert c.get("/federation/v1/digest", params={"peer": "phl"}).status_code == 200
    # PHL leaves first: JJOC's next records for it queue up, undeliverable.
    kizuna("peer", "revoke", "--dir", str(phl), "--peer-id", "jjoc")
    wait_until(lambda: audit(phl, "federation.peer_removed"), 10, "PHL drops JJOC")
    for i in range(3):
        write(fed.writers["jjoc"], "C//REL TO JPN, PHL", f"queued {i}")

    def queued() -> bool:
        return metric(fed.writers["jjoc"], "kizuna_outbox_depth", peer="phl") >= 3

    wait_until(queued, 15, "JJOC's outbox for PHL")

    out = kizuna("peer", "revoke", "--dir", str(jjoc), "--peer-id", "phl").stdout
    assert "revoked" in out
    wait_until(lambda: audit(jjoc, "federation.peer_removed"), 10, "JJOC drops PHL")
    dropped = sum(
        e["details"]["outbox_dropped"]
        for e in audit(jjoc, "peer.revoke") + audit(jjoc, "federation.peer_removed")
    )
    assert dropped >= 3
    assert not (jjoc / "peers" / "phl.pem").exists()
    assert "phl" not in [p.peer_id for p in NodeDir(jjoc).load().peers]

    # PHL's certificate no longer opens JJOC's federation port.
    nd = NodeDir(phl)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(str(nd.node_cert), str(nd.node_key))
    url = NodeDir(jjoc).load().federation_url
    refused: list[str] = []
    try:
        with httpx.Client(verify=ctx, timeout=10) as c:
            r = c.get(f"{url}/federation/v1/digest", params={"peer": "phl"})
            refused.append(str(r.status_code))
    except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
        refused.append(type(exc).__name__)
    assert refused != ["200"], refused
    wait_until(
        lambda: "federation_tls" in (jjoc / "node.log").read_text(), 10, "the refusal logged"
    )
