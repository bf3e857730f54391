"""``kizuna doctor`` says plainly what is wrong with a node's set-up (issue 11)."""

from __future__ import annotations

import socket
from pathlib import Path

from kizuna.kernel.config import NodeDir, PeerConfig
from tests.nodes import kizuna, make_node_dir
from tests.store.pgtest import fresh_database, store_url


def doctor(root: Path) -> tuple[int, str]:
    proc = kizuna("doctor", "--dir", str(root), check=False)
    return proc.returncode, proc.stdout + proc.stderr


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once it is closed


def set_store(root: Path, store: str) -> None:
    nd = NodeDir(root)
    config = nd.load()
    config.store = store
    nd.save(config)


def test_a_fresh_node_passes_and_says_its_database_comes_later(tmp_path: Path) -> None:
    root = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    code, out = doctor(root)
    assert code == 0, out
    assert "ok   node certificate" in out
    assert "no database" in out and "created when the node starts" in out


def test_a_missing_database_and_a_broken_peer_fail_plainly(tmp_path: Path) -> None:
    root = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    with fresh_database() as url:
        set_store(root, url.rsplit("/", 1)[0] + "/kizuna_no_such_database")
        nd = NodeDir(root)
        config = nd.load()
        config.peers.append(
            PeerConfig(
                peer_id="jjoc",
                nation="JPN",
                url=f"https://127.0.0.1:{closed_port()}",
                cert="peers/jjoc.pem",
            )
        )
        nd.save(config)
        code, out = doctor(root)
    assert code == 1, out
    assert "FAIL store postgresql://" in out and "kizuna_no_such_database" in out
    assert "does not exist" in out
    assert "FAIL peer jjoc (JPN, https): pinned certificate" in out
    assert "warn peer jjoc" in out and "not reachable" in out


def test_a_node_on_postgresql_opens_its_store(tmp_path: Path) -> None:
    root = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    with fresh_database() as url:
        set_store(root, store_url(url, root))
        code, out = doctor(root)
    assert code == 0, out
    assert "ok   store postgresql://" in out and "opened and read" in out
