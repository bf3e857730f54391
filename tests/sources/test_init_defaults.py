"""`kizuna init` options of the CoT and AIS plugins: a TAK user's defaults, and off switches."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from kizuna.kernel.config import NodeDir
from kizuna.sources import ais, cot


@pytest.fixture(scope="module")
def kizuna() -> typer.Typer:
    """The real `kizuna` command, with every installed plugin."""
    from kizuna.cli import build

    return build()


def init(kizuna: typer.Typer, directory: Path, *extra: str) -> dict[str, object]:
    args = ["init", "--dir", str(directory), "--node-id", "usfj", "--nation", "USA", *extra]
    result = CliRunner().invoke(kizuna, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return tomllib.loads((directory / "node.toml").read_text())


def test_init_serves_tak_clients_on_8087_and_8089_by_default(
    kizuna: typer.Typer, tmp_path: Path
) -> None:
    toml = init(kizuna, tmp_path / "n")
    assert toml["cot"] == {"tcp_port": 8087, "tls_port": 8089}
    assert toml["ais"] == {"udp_port": 0, "tcp_port": 0}
    config = NodeDir(tmp_path / "n").load()
    settings = cot.CotSettings(**config.plugins["cot"])
    assert cot.plugin.enabled(settings)
    assert not ais.plugin.enabled(ais.AisSettings(**config.plugins["ais"]))


def test_no_cot_turns_the_source_off(kizuna: typer.Typer, tmp_path: Path) -> None:
    toml = init(kizuna, tmp_path / "n", "--no-cot")
    assert toml["cot"] == {"enabled": False}
    assert not cot.plugin.enabled(cot.CotSettings(enabled=False))


def test_other_ports_and_one_listener_off(kizuna: typer.Typer, tmp_path: Path) -> None:
    toml = init(kizuna, tmp_path / "n", "--cot-port", "0", "--cot-tls-port", "9189")
    assert toml["cot"] == {"tcp_port": 0, "tls_port": 9189}
    toml = init(kizuna, tmp_path / "m", "--cot-port", "0", "--cot-tls-port", "0")
    assert not cot.plugin.enabled(cot.CotSettings(**toml["cot"]))  # type: ignore[arg-type]


def test_ais_listens_only_when_a_port_is_given(kizuna: typer.Typer, tmp_path: Path) -> None:
    toml = init(kizuna, tmp_path / "n", "--ais-udp-port", "10110", "--no-cot")
    assert toml["ais"] == {"udp_port": 10110, "tcp_port": 0}
    assert ais.plugin.enabled(ais.AisSettings(udp_port=10110))
    assert ais.plugin.enabled(ais.AisSettings(tcp_port=10111))
    assert not ais.plugin.enabled(ais.AisSettings(udp_port=10110, enabled=False))


def test_plugin_commands_are_mounted(kizuna: typer.Typer) -> None:
    runner = CliRunner()
    assert "client-cert" in runner.invoke(kizuna, ["tak", "--help"]).output
    assert "ais" in runner.invoke(kizuna, ["ingest", "--help"]).output
