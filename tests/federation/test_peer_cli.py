"""`kizuna peer add` checks an agreement's types against the installed plugins; `peer digest`."""

from __future__ import annotations

import json
from pathlib import Path

from kizuna.kernel.plugins import load_domains
from tests.nodes import kizuna, make_node_dir


def test_peer_add_knows_the_types_of_installed_plugins(tmp_path: Path) -> None:
    a = make_node_dir(tmp_path / "usfj", "usfj", "USA")
    b = make_node_dir(tmp_path / "jjoc", "jjoc", "JPN")
    cert = tmp_path / "jjoc.pem"
    cert.write_text(kizuna("node", "cert", "--dir", str(b)).stdout)
    info = json.loads(kizuna("node", "info", "--dir", str(b)).stdout)
    base = ["peer", "add", "--dir", str(a), "--peer-id", "jjoc", "--nation", "JPN"]
    base += ["--url", info["federation_url"], "--cert", str(cert)]

    bad = kizuna(*base, "--types", "report,bogus", check=False)
    assert bad.returncode == 2
    assert "unknown record types ['bogus']" in bad.stderr
    known = {t for d in load_domains() for t in d.federated_types()}
    assert {"report", "track", "request"} <= known
    assert all(t in bad.stderr for t in known)

    kizuna(*base, "--types", "report,track")
    config = json.loads(kizuna("node", "info", "--dir", str(a)).stdout)
    assert config["peers"] == ["jjoc"]

    out = json.loads(kizuna("peer", "digest", "--dir", str(a), "--peer", "jjoc").stdout)
    assert out["node"] == "usfj" and out["peer"] == "jjoc" and out["count"] == 0
    missing = kizuna("peer", "digest", "--dir", str(a), "--peer", "aus", check=False)
    assert missing.returncode == 2 and "no peer 'aus'" in missing.stderr
