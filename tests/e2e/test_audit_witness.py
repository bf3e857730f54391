"""Peers witness each other's audit heads: a trail rewritten together with its local head
fails `kizuna audit verify --with-peers` on a node whose peer witnessed it.

In-process: two witness services on real node directories exchange heads and receipts
through the stream's wire form. End to end: two real nodes federate the ``audit_head``
stream; with both stopped, an attacker on usfj's files rolls the trail back to an old
copy of its head (no key needed), then rewrites it re-signed with the stolen node key:
each verifies clean locally and fails with the peer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.labels import Classification
from kizuna.core.release import make_principal, may_release
from kizuna.kernel.config import NodeConfig, NodeDir, PeerConfig
from kizuna.kernel.context import NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.node.setup import init_node
from kizuna.store.audit import GENESIS, Head, NodeKey, entry_statement, head_statement
from kizuna.witness import plugin
from kizuna.witness.models import HEAD_KEY, RECEIPT_KEY, Witnessed, encode
from kizuna.witness.service import WitnessService
from kizuna.witness.stream import HeadStream
from kizuna.witness.verify import peer_evidence
from tests.cluster import Cluster
from tests.nodes import kizuna

TYPES = "report,track,request,audit_head"

# -- in process --------------------------------------------------------------------------------


def _node(tmp: Path, node_id: str, nation: str) -> NodeContext:
    init_node(NodeDir(tmp / node_id), NodeConfig(node_id=node_id, nation=nation))
    return memory_context(node_id, nation, root=tmp / node_id)


def _pin(a: NodeContext, b: NodeContext) -> None:
    """a learns b's certificate, as `kizuna peer add` stores it."""
    pem = (b.root / "node.pem").read_text() + (b.root / "ca.pem").read_text()
    (a.root / "peers" / f"{b.node_id}.pem").write_text(pem)


class Pair:
    def __init__(self, tmp: Path) -> None:
        self.us = _node(tmp, "usfj", "USA")
        self.au = _node(tmp, "aus", "AUS")
        _pin(self.us, self.au)
        _pin(self.au, self.us)
        self.now = 1_700_000_000.0
        self.w_us = WitnessService(self.us, clock=lambda: self.now)
        self.w_au = WitnessService(self.au, clock=lambda: self.now)
        self.cursors: dict[str, int] = {"usfj": 0, "aus": 0}

    def pump(self, src: WitnessService, dst: WitnessService) -> int:
        """One link round src → dst through the wire form, as federation carries it."""
        stream_src, stream_dst = HeadStream(src), HeadStream(dst)
        items, self.cursors[src.node_id] = src.changes_since(self.cursors[src.node_id], 500)
        peer = make_principal(dst.ctx.nation, Classification.SECRET, name=f"node:{dst.node_id}")
        items = [i for i in items if may_release(stream_src.envelope(i).label, peer)]
        if not items:
            return 0
        return stream_dst.accept(src.node_id, stream_dst.decode(stream_src.encode(items)))

    def config(self) -> NodeConfig:
        peer = PeerConfig(peer_id="aus", nation="AUS", url="https://x", cert="peers/aus.pem")
        return NodeConfig(node_id="usfj", nation="USA", peers=[peer])

    def stored(self) -> dict[str, str]:
        value = self.us.backend.meta.meta_get(RECEIPT_KEY + "aus")
        return {RECEIPT_KEY + "aus": value} if value else {}


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    return Pair(tmp_path)


def _refusals(ctx: NodeContext) -> list[tuple[str, str]]:
    lines = (ctx.root / "audit.log").read_text().splitlines()
    return [
        (e["actor"], e["details"]["reason"])
        for e in map(json.loads, lines)
        if e["action"] == "witness.receive"
    ]


def test_the_plugin_offers_the_audit_head_stream(pair: Pair) -> None:
    assert list(plugin.federated_types()) == ["audit_head"]
    [stream] = plugin.streams(pair.w_us)
    assert isinstance(stream, HeadStream) and stream.name == "audit_head"


def test_heads_go_to_peers_and_signed_receipts_come_back(pair: Pair) -> None:
    for i in range(3):
        pair.us.audit.append("test", "tester", "ok", i=i)
    assert pair.w_us.refresh()
    assert pair.pump(pair.w_us, pair.w_au) == 1
    held = pair.w_au.held("usfj")
    assert held is not None and held.n == 3
    assert pair.pump(pair.w_au, pair.w_us) == 1
    receipt = pair.w_us.receipt("aus")
    assert receipt is not None and (receipt.witness, receipt.subject, receipt.n) == (
        "aus",
        "usfj",
        3,
    )
    evidence = peer_evidence(NodeDir(pair.us.root), pair.config(), pair.stored())
    assert [w.n for w in evidence.witnesses] == [3]
    assert not evidence.forged and not evidence.unconfirmed
    # The head moves on: the next round carries the new head only.
    pair.us.audit.append("test", "tester", "ok", i=3)
    assert pair.w_us.refresh() and not pair.w_us.refresh()
    assert pair.pump(pair.w_us, pair.w_au) == 1 and pair.w_au.held("usfj").n == 4  # type: ignore[union-attr]


def test_a_receipt_goes_only_to_its_subject_nation(pair: Pair) -> None:
    pair.us.audit.append("test", "tester", "ok")
    pair.w_us.refresh()
    pair.pump(pair.w_us, pair.w_au)
    [receipt] = [i for i in pair.w_au.changes_since(0, 10)[0] if i.witness]
    label = HeadStream(pair.w_au).envelope(receipt).label
    for nation, allowed in (("USA", True), ("AUS", True), ("JPN", False), ("KOR", False)):
        principal = make_principal(nation, Classification.TOP_SECRET, name=f"node:{nation}")
        assert may_release(label, principal) is allowed, nation
    [head] = [i for i in pair.w_us.changes_since(0, 10)[0] if not i.witness]
    assert HeadStream(pair.w_us).envelope(head).origin == "usfj"


def test_forged_heads_and_receipts_are_refused_counted_and_audited(pair: Pair) -> None:
    pair.us.audit.append("test", "tester", "ok")
    pair.w_us.refresh()
    real = pair.w_us.changes_since(0, 10)[0][0]
    other = NodeKey.load(pair.au.root / "node.key")  # not usfj's key
    forged_sig = base64.b64encode(other.sign(head_statement(9, "a" * 64))).decode()
    forged = Witnessed(subject="usfj", n=9, hash="a" * 64, sig=forged_sig)
    assert pair.w_au.accept("usfj", [forged]) == 0
    assert pair.w_au.held("usfj") is None
    assert pair.w_au.accept("usfj", [real]) == 1
    # A receipt for usfj that aus did not sign (usfj's own key signs it here).
    bad = Witnessed(
        subject="usfj", n=real.n, hash=real.hash, sig=real.sig, witness="aus", at=1, receipt="AAAA"
    )
    assert pair.w_us.accept("aus", [bad]) == 0
    assert pair.w_us.receipt("aus") is None
    assert ("node:usfj", "witness_bad_signature") in _refusals(pair.au)
    assert ("node:aus", "witness_bad_receipt") in _refusals(pair.us)
    counted = pair.au.metrics.federation_violations.labels("usfj", "witness_bad_signature")
    assert counted._value.get() == 1
    # A flood of forged heads in one batch: one signature checked, one refusal counted.
    started = time.perf_counter()
    assert pair.w_au.accept("usfj", [forged] * 5000) == 0
    assert time.perf_counter() - started < 0.5
    assert counted._value.get() == 2
    assert _refusals(pair.au).count(("node:usfj", "witness_bad_signature")) == 1
    # Someone else's head, or a receipt meant for another node: not kept.
    stranger = Witnessed(subject="jjoc", n=1, hash="b" * 64, sig=real.sig)
    assert pair.w_au.accept("usfj", [stranger]) == 0


def test_a_held_head_only_moves_forward(pair: Pair) -> None:
    for i in range(5):
        pair.us.audit.append("test", "tester", "ok", i=i)
    pair.w_us.refresh()
    pair.pump(pair.w_us, pair.w_au)
    key = NodeKey.load(pair.us.root / "node.key")  # usfj's own key: a rolled-back trail
    lines = (pair.us.root / "audit.log").read_text().splitlines()
    third = json.loads(lines[2])
    sig = base64.b64encode(key.sign(head_statement(3, third["hash"]))).decode()
    older = Witnessed(subject="usfj", n=3, hash=third["hash"], sig=sig)
    assert pair.w_au.accept("usfj", [older]) == 0
    assert pair.w_au.accept("usfj", [older]) == 0
    assert pair.w_au.held("usfj").n == 5  # type: ignore[union-attr]
    assert _refusals(pair.au).count(("node:usfj", "witness_rollback")) == 1  # audited once


def test_evidence_forged_missing_or_asked_live(pair: Pair) -> None:
    nd, config = NodeDir(pair.us.root), pair.config()
    missing = peer_evidence(nd, config, {})
    assert missing.unconfirmed and "audit_head" in missing.unconfirmed[0]

    pair.us.audit.append("test", "tester", "ok")
    pair.w_us.refresh()
    pair.pump(pair.w_us, pair.w_au)
    pair.pump(pair.w_au, pair.w_us)
    receipt = pair.w_us.receipt("aus")
    assert receipt is not None
    tampered = {RECEIPT_KEY + "aus": encode(Witnessed(**{**_fields(receipt), "n": 7}))}
    assert peer_evidence(nd, config, tampered).forged

    # The transport hook: usfj asks aus for the head it holds (here in process).
    asked: Callable[[PeerConfig], Witnessed | None] = lambda peer: pair.w_au.answer("usfj")  # noqa: E731
    live = peer_evidence(nd, config, {}, fetch=asked)
    assert [w.source.split(" (")[1].split(":")[0] for w in live.witnesses] == ["asked now"]
    answer = HeadStream(pair.w_au).answer("usfj")
    assert answer is not None and answer.witness == "aus"
    assert HeadStream(pair.w_au).answer("jjoc") is None

    def down(peer: PeerConfig) -> Witnessed | None:
        raise OSError("connection refused")

    fallback = peer_evidence(nd, config, pair.stored(), fetch=down)
    assert fallback.notes and [w.n for w in fallback.witnesses] == [1]


def test_held_heads_survive_a_restart_and_receipts_go_out_again(pair: Pair) -> None:
    pair.us.audit.append("test", "tester", "ok")
    pair.w_us.refresh()
    pair.pump(pair.w_us, pair.w_au)
    assert pair.au.backend.meta.meta_get(HEAD_KEY + "usfj")
    again = WitnessService(pair.au)
    receipts = [i for i in again.changes_since(0, 10)[0] if i.witness == "aus"]
    assert [(r.subject, r.n) for r in receipts] == [("usfj", 1)]


def _fields(item: Witnessed) -> dict[str, Any]:
    return {f: getattr(item, f) for f in item.__struct_fields__}


# -- end to end ------------------------------------------------------------------------------


def _verify(d: Path, *extra: str) -> tuple[int, str]:
    res = kizuna("audit", "verify", "--dir", str(d), *extra, check=False)
    return res.returncode, res.stdout + res.stderr


def _witnessed_all(d: Path) -> bool:
    code, out = _verify(d, "--with-peers")
    if code != 0:
        return False
    count = int(out.split("intact: ")[1].split(" entries")[0])
    return f"peer aus (its last receipt: {count} entries" in out


def _wait(probe: Callable[[], bool], timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.5)
    raise AssertionError("timed out")


def _lines(d: Path) -> list[str]:
    return (d / "audit.log").read_text().splitlines()


def _set_db_head(d: Path, value: str) -> None:
    conn = sqlite3.connect(d / "kizuna.db")
    with conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_head', ?)", (value,))
    conn.close()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _resign(d: Path, entries: list[dict[str, Any]]) -> None:
    """The attacker holds node.key: a new trail, every entry and both heads signed."""
    key = NodeKey.load(d / "node.key")
    prev = GENESIS
    for n, entry in enumerate(entries, start=1):
        entry.pop("sig", None)
        entry.update(n=n, prev=prev)
        body = {k: v for k, v in entry.items() if k != "hash"}
        canon = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        entry["hash"] = prev = hashlib.sha256(canon.encode()).hexdigest()
        entry["sig"] = _b64(key.sign(entry_statement(n, prev)))
    text = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entries)
    (d / "audit.log").write_text(text)
    head = Head(len(entries), prev, _b64(key.sign(head_statement(len(entries), prev)))).render()
    (d / "audit.head").write_text(head + "\n")
    _set_db_head(d, head)


@pytest.mark.e2e
def test_a_rewritten_trail_with_its_head_fails_with_the_peer_that_witnessed_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    usfj = cluster.node("usfj", "USA")
    cluster.node("aus", "AUS")
    cluster.link("usfj", "aus", types=TYPES)
    cluster.start()
    for i in range(3):
        usfj.user(f"user{i}", "USA", "SECRET")  # audited by another process while serving
    _wait(lambda: _witnessed_all(usfj.dir))
    old_head = (usfj.dir / "audit.head").read_text()  # what an attacker copies today
    kept = len(_lines(usfj.dir))
    for i in range(3, 6):
        usfj.user(f"user{i}", "USA", "SECRET")
    _wait(lambda: _witnessed_all(usfj.dir))
    cluster.stop()
    code, out = _verify(usfj.dir, "--with-peers")
    assert code == 0, out
    backup = tmp_path / "backup"
    shutil.copytree(usfj.dir, backup)

    # 1. Rolled back to the old copy of the head: no key needed, locally clean.
    (usfj.dir / "audit.log").write_text("\n".join(_lines(usfj.dir)[:kept]) + "\n")
    (usfj.dir / "audit.head").write_text(old_head)
    _set_db_head(usfj.dir, old_head.strip())
    code, out = _verify(usfj.dir)
    assert code == 0, out  # the limit the peers are for (docs/decisions/0008)
    code, out = _verify(usfj.dir, "--with-peers")
    assert code == 1 and "peer aus" in out and f"entry {kept + 1}" in out, out

    # 2. Rewritten and re-signed with the stolen node key: locally clean as well.
    for name in ("audit.log", "audit.head", "kizuna.db"):
        shutil.copy2(backup / name, usfj.dir / name)
    entries = [json.loads(line) for line in _lines(usfj.dir)]
    target = next(e for e in entries if e["details"].get("name") == "user1")
    target["details"]["clearance"] = "TOP SECRET"
    _resign(usfj.dir, entries)
    code, out = _verify(usfj.dir)
    assert code == 0, out
    code, out = _verify(usfj.dir, "--with-peers")
    assert code == 1 and "peer aus" in out and "rewritten" in out, out

    # 3. And the receipt deleted as well: the peer cannot confirm, which is no pass either.
    conn = sqlite3.connect(usfj.dir / "kizuna.db")
    with conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (RECEIPT_KEY + "aus",))
    conn.close()
    code, out = _verify(usfj.dir, "--with-peers")
    assert code == 2 and "not confirmed" in out and "peer aus" in out, out

    # 4. With the peer up, it is asked live over the federation link: tampered again.
    cluster.nodes["aus"].start()
    code, out = _verify(usfj.dir, "--with-peers")
    assert code == 1 and "peer aus" in out and "rewritten" in out, out
