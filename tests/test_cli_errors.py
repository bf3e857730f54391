"""Every user mistake at the command line ends in one clear line and a non-zero exit."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kizuna.kernel.panels import ORDER
from tests.nodes import free_port, kizuna, make_node_dir


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_node_dir(tmp_path_factory.mktemp("cli") / "usfj", "usfj", "USA")


def _api_port(directory: Path) -> int:
    text = (directory / "node.toml").read_text()
    return int(next(ln.split("=")[1] for ln in text.splitlines() if ln.startswith("port ")))


@pytest.fixture
def occupied(node: Path) -> Iterator[int]:
    """The node's API port, held by someone else."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", _api_port(node)))
        s.listen()
        yield _api_port(node)


def _user(node: Path, *extra: str) -> list[str]:
    return ["user", "add", "--dir", str(node), "--name", "x", "--nation", "USA", *extra]


CASES: dict[str, tuple[Callable[[Path, Path], list[str]], str]] = {
    "unknown group": (
        lambda node, tmp: _user(node, "--clearance", "SECRET", "--group", "NOPE"),
        "unknown group 'NOPE'",
    ),
    "bad label": (
        lambda node, tmp: ["label", "normalize", "S//REL TO XXX"],
        "unknown country code 'XXX'",
    ),
    "bad clearance": (
        lambda node, tmp: _user(node, "--clearance", "ULTRA"),
        "ULTRA",
    ),
    "missing node directory (serve)": (
        lambda node, tmp: ["serve", "--dir", str(tmp / "nowhere")],
        "is not a Kizuna node directory",
    ),
    "missing node directory (user add)": (
        lambda node, tmp: [
            *_user(tmp / "nowhere", "--clearance", "SECRET"),
        ],
        "is not a Kizuna node directory",
    ),
    "bad certificate": (
        lambda node, tmp: [
            "peer",
            "add",
            "--dir",
            str(node),
            "--peer-id",
            "jjoc",
            "--nation",
            "JPN",
            "--url",
            "https://127.0.0.1:1",
            "--cert",
            str(_junk(tmp)),
        ],
        "certificate",
    ),
}


def _junk(tmp: Path) -> Path:
    path = tmp / "junk.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    return path


def _one_line(proc_stderr: str) -> str:
    lines = [ln for ln in proc_stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc_stderr
    assert "Traceback" not in proc_stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_mistake_is_one_line_and_a_failure(case: str, node: Path, tmp_path: Path) -> None:
    args, expected = CASES[case]
    proc = kizuna(*args(node, tmp_path), check=False)
    assert proc.returncode != 0
    assert expected in _one_line(proc.stderr)


def test_a_port_in_use_is_named_before_anything_starts(node: Path, occupied: int) -> None:
    proc = kizuna("serve", "--dir", str(node), check=False)
    assert proc.returncode != 0
    line = _one_line(proc.stderr)
    assert f"API port {occupied}/tcp" in line and "already in use" in line


def test_a_plugin_port_in_use_is_named(node: Path) -> None:
    udp = free_port(1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", udp))
        proc = kizuna("serve", "--dir", str(node), "--set", f"ais.udp_port={udp}", check=False)
    assert proc.returncode != 0
    assert f"[ais] udp_port {udp}/udp" in _one_line(proc.stderr)


def test_help_groups_commands_by_task() -> None:
    """`kizuna --help` lists commands under what they are for, in the order of a node's life."""
    out = kizuna("--help").stdout
    panels = [p for p in ORDER if f"─ {p} " in out]
    assert panels == list(ORDER)
    positions = {
        name: out.index(f"│ {name} ") for name in ("init", "serve", "request", "ingest", "audit")
    }
    assert sorted(positions, key=positions.__getitem__) == [
        "init",
        "serve",
        "request",
        "ingest",
        "audit",
    ]
