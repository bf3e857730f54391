"""`kizuna exercise import-msel`: an MSEL imported from CSV on the node's own database, all
rows or none, the bad rows named."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kizuna.cli import build
from kizuna.node.runtime import Node
from tests.exercises.inproc import exercise_in
from tests.exercises.test_msel import GOOD


def test_import_msel_from_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "usfj"
    cli = build()
    runner = CliRunner()
    init = ["init", "--dir", str(root), "--node-id", "usfj", "--nation", "USA", "--no-cot"]
    assert runner.invoke(cli, [*init, "--port", "0"]).exit_code == 0
    node = Node(root)
    try:
        service = node.service("exercises")
        eid = service.create_exercise(service.node_caller(), exercise_in()).id
    finally:
        node.close()
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("1,00:30", "1,00:99"), encoding="utf-8")
    result = runner.invoke(cli, ["exercise", "import-msel", eid, str(bad), "--dir", str(root)])
    assert result.exit_code == 1 and "row 2" in result.output, result.output
    good = tmp_path / "msel.csv"
    good.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(cli, ["exercise", "import-msel", eid, str(good), "--dir", str(root)])
    assert result.exit_code == 0 and "imported 3 injects" in result.output, result.output
    node = Node(root)
    try:
        service = node.service("exercises")
        assert [i.seq for i in service.injects(service.node_caller(), eid)] == [3, 1, 2]
    finally:
        node.close()
