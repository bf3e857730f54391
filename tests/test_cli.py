"""The command line as an operator uses it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.nodes import add_user, kizuna, make_node_dir


def test_label_normalize() -> None:
    assert (
        kizuna("label", "normalize", "S//REL TO JPN, USA").stdout.strip()
        == "SECRET//REL TO USA, JPN"
    )
    bad = kizuna("label", "normalize", "S//NOFORN//REL TO JPN", check=False)
    assert bad.returncode != 0 and "NOFORN" in bad.stderr


def test_init_and_user_add(tmp_path: Path) -> None:
    d = make_node_dir(tmp_path / "n", "usfj", "USA")
    assert (d / "node.toml").exists() and (d / "ca.pem").exists() and (d / "node.key").exists()
    token = add_user(d, "kenji", "JPN", "SECRET", "--group", "ACM", "--role", "liaison")
    assert token.startswith("kz_") and len(token) > 40
    # The token is stored hashed, never in clear.
    assert token.encode() not in (d / "kizuna.db").read_bytes()
    dup = kizuna(
        "user",
        "add",
        "--dir",
        str(d),
        "--name",
        "kenji",
        "--nation",
        "JPN",
        "--clearance",
        "SECRET",
        check=False,
    )
    assert dup.returncode != 0
    wrong = kizuna(
        "user",
        "add",
        "--dir",
        str(d),
        "--name",
        "x",
        "--nation",
        "JPN",
        "--clearance",
        "SECRET",
        "--group",
        "FVEY",
        check=False,
    )
    assert wrong.returncode != 0 and "FVEY" in wrong.stderr


def test_audit_verify_detects_alteration_and_deletion(tmp_path: Path) -> None:
    d = make_node_dir(tmp_path / "n", "usfj", "USA")
    for i in range(4):
        add_user(d, f"user{i}", "USA", "SECRET")
    ok = kizuna("audit", "verify", "--dir", str(d))
    assert "4 entries" in ok.stdout
    log = d / "audit.log"
    lines = log.read_text().splitlines()

    altered = json.loads(lines[1])
    altered["details"]["clearance"] = "TOP_SECRET"
    log.write_text("\n".join([lines[0], json.dumps(altered), *lines[2:]]) + "\n")
    res = kizuna("audit", "verify", "--dir", str(d), check=False)
    assert res.returncode != 0 and "entry 2" in res.stderr

    log.write_text("\n".join([lines[0], *lines[2:]]) + "\n")  # delete entry 2
    res = kizuna("audit", "verify", "--dir", str(d), check=False)
    assert res.returncode != 0 and "entry 2" in res.stderr

    log.write_text("\n".join(lines[:3]) + "\n")  # delete the last entry
    res = kizuna("audit", "verify", "--dir", str(d), check=False)
    assert res.returncode != 0 and "entry 4" in res.stderr


def test_user_token_expiry_and_reissue(tmp_path: Path) -> None:
    d = make_node_dir(tmp_path / "n", "usfj", "USA")
    out = kizuna(
        "user",
        "add",
        "--dir",
        str(d),
        "--name",
        "hana",
        "--nation",
        "JPN",
        "--clearance",
        "SECRET",
        "--expires",
        "2999-01-01T00:00:00Z",
    ).stdout
    assert "expires 2999-01-01T00:00:00Z" in out
    first = out.strip().splitlines()[-1]
    again = kizuna("user", "token", "--dir", str(d), "--name", "hana", "--expires", "12h")
    second = again.stdout.strip().splitlines()[-1]
    assert second.startswith("kz_") and second != first
    assert second.encode() not in (d / "kizuna.db").read_bytes()
    missing = kizuna("user", "token", "--dir", str(d), "--name", "nobody", check=False)
    assert missing.returncode != 0 and "nobody" in missing.stderr
    revoked = kizuna("user", "revoke", "--dir", str(d), "--name", "hana")
    assert "revoked bearer token, 0 session(s)" in revoked.stdout
    assert "no bearer token" in kizuna("user", "revoke", "--dir", str(d), "--name", "hana").stdout
    trail = [json.loads(line)["action"] for line in (d / "audit.log").read_text().splitlines()]
    assert trail.count("user.revoke") == 2 and "user.token" in trail
