"""`kizuna access list` and `kizuna access load` on a node's own database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kizuna.access import plugin
from tests.access.support import Node, start, utc


class Handle:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.closed = 0

    def service(self, name: str) -> Any:
        return self.node.services[name]

    def close(self) -> None:
        self.closed += 1


def test_list_and_load(tmp_path: Path) -> None:
    node = start("jjoc", "JPN", root=tmp_path, upto="access")
    handle = Handle(node)
    app = plugin.cli(lambda _dir: handle)["access"]
    runner = CliRunner()
    listed = runner.invoke(app, ["list", "--dir", str(tmp_path), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert {r["key"]: r["in_force"] for r in rows}["japan-philippines-raa"] == "2025-09-11"

    bad = tmp_path / "bad.toml"
    bad.write_text('[[arrangement]]\nkey = "x"\nnations = ["KOR"]\nin_force = "soon"\n', "utf-8")
    refused = runner.invoke(app, ["load", str(bad), "--dir", str(tmp_path)])
    assert refused.exit_code == 2 and "arrangement 1" in refused.output
    good = tmp_path / "kor.toml"
    good.write_text(
        '[[arrangement]]\nkey = "japan-korea-test"\nname = { en = "Test", ja = "試験" }\n'
        'nations = ["KOR"]\nin_force = "2026-01-01"\nbases = ["jsdf"]\n',
        "utf-8",
    )
    loaded = runner.invoke(app, ["load", str(good), "--dir", str(tmp_path)])
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output.split() == ["japan-korea-test.jjoc"]
    when = (utc("2026-03-01T00:00Z"), utc("2026-03-01T08:00Z"))
    assert node.access.check("KOR", "training", "asaka", *when).allowed
    assert handle.closed == 3
