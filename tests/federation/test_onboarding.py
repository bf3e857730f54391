"""Enrolment with a one-time invitation, judged in process (ADR 0019): the secret is kept
hashed, used once, expires, is bound to the invited node, and tells nothing when wrong."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from kizuna.cli.peers import peer_app
from kizuna.federation.enrol import (
    NOT_VALID,
    Enrolment,
    EnrolRequest,
    invite,
    signed_part,
)
from kizuna.federation.invites import InvitationError, InvitationStore, decode_token
from kizuna.kernel import pki
from kizuna.kernel.config import NodeConfig, NodeDir
from kizuna.node.setup import init_node
from kizuna.store.audit import AuditLog

NOW = 1_800_000_000.0


def make_node(root: Path, node_id: str, nation: str, port: int) -> NodeDir:
    nd = NodeDir(root / node_id)
    init_node(nd, NodeConfig(node_id=node_id, nation=nation, port=port))
    return nd


def audit_of(nd: NodeDir) -> AuditLog:
    head: dict[str, str] = {}
    return AuditLog(nd.root / "audit.log", lambda: head.get("h"), lambda h: head.update(h=h))


def audit_entries(nd: NodeDir) -> list[dict[str, object]]:
    path = nd.root / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def nodes(tmp_path: Path) -> tuple[NodeDir, NodeDir]:
    return make_node(tmp_path, "jjoc", "JPN", 18600), make_node(tmp_path, "phl", "PHL", 18610)


def token_for(inviter: NodeDir, **kw: object) -> str:
    options: dict[str, object] = {
        "peer_id": "phl",
        "nation": "PHL",
        "types": ["report", "track"],
        "max_classification": "CONFIDENTIAL",
        "expires_at": NOW + 3600,
        "now": NOW,
    }
    options.update(kw)
    token, _ = invite(inviter, inviter.load(), **options)  # type: ignore[arg-type]
    return token


def request(joiner: NodeDir, token: str, **changes: str) -> bytes:
    """The request `kizuna peer join` sends, signed with the joiner's node key."""
    invitation, _, _ = decode_token(token)
    config = joiner.load()
    req = EnrolRequest(
        invitation=invitation.id,
        secret=invitation.secret,
        peer_id=config.node_id,
        nation=config.nation,
        url=config.federation_url,
        cert=joiner.node_cert.read_text() + joiner.ca_cert.read_text(),
        signature="",
    )
    req = msgspec.structs.replace(req, **changes)
    key = pki.load_key(joiner.node_key)
    req.signature = pki.sign(key, signed_part(req, invitation.fingerprint)).hex()
    return msgspec.json.encode(req)


def answer(reply: tuple[int, bytes, str]) -> tuple[int, dict[str, object]]:
    return reply[0], json.loads(reply[1])


def test_the_invitation_carries_the_proposal_and_the_secret_is_kept_only_hashed(
    nodes: tuple[NodeDir, NodeDir],
) -> None:
    jjoc, _ = nodes
    token = token_for(jjoc)
    invitation, signed, signature = decode_token(token)
    assert token.startswith("kzinv1.") and "\n" not in token
    assert (invitation.node_id, invitation.nation, invitation.peer_id) == ("jjoc", "JPN", "phl")
    assert invitation.fingerprint == pki.fingerprint(pki.load_cert(jjoc.node_cert))
    assert invitation.url == jjoc.load().federation_url
    assert invitation.types == ["report", "track"]
    assert invitation.max_classification == "CONFIDENTIAL"
    assert pki.verify_signature(pki.load_cert(jjoc.node_cert), signed, signature)
    stored = list((jjoc.root / "invitations").rglob("*.json"))
    assert len(stored) == 1 and stored[0].stat().st_mode & 0o077 == 0
    assert invitation.secret not in stored[0].read_text()
    assert InvitationStore(jjoc).all()[0].secret_hash != invitation.secret
    with pytest.raises(InvitationError):
        decode_token("kzinv1.not-base64!.x")
    with pytest.raises(InvitationError):
        decode_token(token.replace("kzinv1", "other", 1))


def test_enrolment_pins_the_joiner_records_the_agreement_and_is_single_use(
    nodes: tuple[NodeDir, NodeDir],
) -> None:
    jjoc, phl = nodes
    token = token_for(jjoc)
    reloads: list[int] = []
    enrol = Enrolment(jjoc, jjoc.load(), audit_of(jjoc), lambda: reloads.append(1), Clock())
    body = request(phl, token)

    status, out = answer(enrol.handle("POST", body, "127.0.0.9"))
    assert status == 200, out
    assert out["node_id"] == "jjoc" and out["types"] == ["report", "track"]
    assert out["max_classification"] == "CONFIDENTIAL"
    assert str(out["cert"]).startswith(jjoc.node_cert.read_text())
    peers = jjoc.load().peers
    assert [(p.peer_id, p.nation, p.types, p.max_classification) for p in peers] == [
        ("phl", "PHL", ["report", "track"], "CONFIDENTIAL")
    ]
    assert pki.fingerprint(pki.load_cert(jjoc.peers / "phl.pem")) == pki.fingerprint(
        pki.load_cert(phl.node_cert)
    )
    assert reloads == [1]
    (record,) = InvitationStore(jjoc).all()
    assert record.state == "used" and record.joiner_address == "127.0.0.9"
    assert record.joiner_fingerprint == pki.fingerprint(pki.load_cert(phl.node_cert))
    entries = [e for e in audit_entries(jjoc) if e["action"] == "federation.enrol"]
    assert [e["outcome"] for e in entries] == ["ok"]

    again, out = answer(enrol.handle("POST", body, "127.0.0.9"))
    assert (again, out["detail"]) == (403, "invitation already used")
    assert len(jjoc.load().peers) == 1


def test_a_wrong_secret_or_unknown_invitation_gets_one_answer_that_tells_nothing(
    nodes: tuple[NodeDir, NodeDir],
) -> None:
    jjoc, phl = nodes
    token = token_for(jjoc)
    enrol = Enrolment(jjoc, jjoc.load(), audit_of(jjoc), clock=Clock())
    wrong = enrol.handle("POST", request(phl, token, secret="guess"), "10.0.0.1")
    unknown = enrol.handle("POST", request(phl, token, invitation="0123456789abcdef"), "10.0.0.1")
    assert wrong == unknown
    status, out = answer(wrong)
    assert (status, out["detail"]) == (403, NOT_VALID)
    assert "jjoc" not in wrong[1].decode() and "JPN" not in wrong[1].decode()
    malformed = answer(enrol.handle("POST", b"{not json", "10.0.0.1"))
    assert malformed[0] == 400
    assert jjoc.load().peers == []
    reasons = [e["details"] for e in audit_entries(jjoc) if e["action"] == "federation.enrol"]
    assert [r["reason"] for r in reasons] == ["bad_secret", "bad_secret", "malformed"]  # type: ignore[index]


def test_failures_are_limited_per_address(nodes: tuple[NodeDir, NodeDir]) -> None:
    jjoc, phl = nodes
    token = token_for(jjoc)
    clock = Clock()
    enrol = Enrolment(jjoc, jjoc.load(), audit_of(jjoc), clock=clock)
    bad = request(phl, token, secret="guess")
    for _ in range(enrol.limit.burst):
        assert enrol.handle("POST", bad, "10.0.0.2")[0] == 403
    # Blocked now, even with the right secret; another address is not.
    assert enrol.handle("POST", request(phl, token), "10.0.0.2")[0] == 429
    assert enrol.handle("POST", bad, "10.0.0.3")[0] == 403
    clock.now += enrol.limit.every
    assert enrol.handle("POST", request(phl, token), "10.0.0.2")[0] == 200


def test_an_expired_invitation_is_refused_and_says_so_only_to_the_holder_of_its_secret(
    nodes: tuple[NodeDir, NodeDir],
) -> None:
    jjoc, phl = nodes
    token = token_for(jjoc, expires_at=NOW + 60)
    clock = Clock()
    enrol = Enrolment(jjoc, jjoc.load(), audit_of(jjoc), clock=clock)
    clock.now += 61
    status, out = answer(enrol.handle("POST", request(phl, token), "127.0.0.1"))
    assert (status, out["detail"]) == (403, "invitation expired")
    status, out = answer(enrol.handle("POST", request(phl, token, secret="x"), "127.0.0.1"))
    assert (status, out["detail"]) == (403, NOT_VALID)
    assert jjoc.load().peers == []
    with pytest.raises(ValueError, match="7 days"):
        token_for(jjoc, expires_at=NOW + 8 * 86400)


def test_the_invitation_is_bound_to_the_invited_node_and_its_key(
    nodes: tuple[NodeDir, NodeDir], tmp_path: Path
) -> None:
    jjoc, phl = nodes
    other = make_node(tmp_path, "mnl", "PHL", 18620)
    token = token_for(jjoc)
    enrol = Enrolment(jjoc, jjoc.load(), audit_of(jjoc), clock=Clock())
    status, out = answer(enrol.handle("POST", request(other, token), "127.0.0.1"))
    assert (status, out["detail"]) == (403, "invitation is for node phl (PHL)")
    # Claiming to be phl with mnl's certificate, or phl's certificate without its key.
    status, out = answer(enrol.handle("POST", request(other, token, peer_id="phl"), "127.0.0.1"))
    assert status == 400 and "names mnl (PHL), not phl (PHL)" in str(out["detail"])
    forged = json.loads(request(phl, token))
    forged["signature"] = json.loads(request(other, token, peer_id="phl"))["signature"]
    status, out = answer(enrol.handle("POST", json.dumps(forged).encode(), "127.0.0.1"))
    assert status == 400 and "signature" in str(out["detail"])
    assert jjoc.load().peers == []
    # None of that used the invitation up.
    assert enrol.handle("POST", request(phl, token), "127.0.0.1")[0] == 200


def test_a_refused_invitation_no_longer_works(nodes: tuple[NodeDir, NodeDir]) -> None:
    jjoc, phl = nodes
    token = token_for(jjoc)
    store = InvitationStore(jjoc)
    (record,) = store.all()
    assert store.move(record.id, "pending", "refused", refused_at=NOW)
    enrol = Enrolment(jjoc, jjoc.load(), audit_of(jjoc), clock=Clock())
    status, out = answer(enrol.handle("POST", request(phl, token), "127.0.0.1"))
    assert (status, out["detail"]) == (403, "invitation refused by the administrator")


def test_of_joiners_racing_with_one_invitation_exactly_one_enrols(
    nodes: tuple[NodeDir, NodeDir],
) -> None:
    """Two workers of the inviter, eight attempts at once: one rename decides."""
    jjoc, phl = nodes
    token = token_for(jjoc)
    body = request(phl, token)
    workers = [Enrolment(jjoc, jjoc.load(), audit_of(jjoc), clock=Clock()) for _ in range(2)]
    results: list[int] = []
    start = threading.Barrier(8)

    def attempt(i: int) -> None:
        start.wait()
        results.append(workers[i % 2].handle("POST", body, f"127.0.0.{i}")[0])

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [403] * 7
    assert [p.peer_id for p in jjoc.load().peers] == ["phl"]


def test_refusing_a_used_invitation_revokes_the_peer_that_joined(
    nodes: tuple[NodeDir, NodeDir],
) -> None:
    """`kizuna peer requests` shows who used it; `kizuna peer refuse` undoes the join."""
    jjoc, phl = nodes
    token = token_for(jjoc, expires_at=time.time() + 600, now=time.time())
    enrol = Enrolment(jjoc, jjoc.load(), audit_of(jjoc))
    assert enrol.handle("POST", request(phl, token), "127.0.0.1")[0] == 200
    (record,) = InvitationStore(jjoc).all()
    cli = CliRunner()
    listed = cli.invoke(peer_app, ["requests", "--dir", str(jjoc.root)])
    assert f"{record.id}  phl (PHL)  used" in listed.output
    out = cli.invoke(peer_app, ["refuse", "--dir", str(jjoc.root), record.id])
    assert f"invitation {record.id} for phl refused; peer phl revoked" in out.output
    assert jjoc.load().peers == [] and not (jjoc.peers / "phl.pem").exists()
    assert list((jjoc.peers / "revoked").glob("phl-*.pem"))
    assert InvitationStore(jjoc).all()[0].state == "refused"
    actions = [e["action"] for e in audit_entries(jjoc)]
    assert "peer.revoke" in actions and "peer.refuse" in actions
    again = cli.invoke(peer_app, ["refuse", "--dir", str(jjoc.root), record.id])
    assert again.exit_code == 2 and "refused already" in again.output
