"""Shared fixtures: real node directories and real node processes on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.cluster import Cluster
from tests.nodes import NodeProcess, make_node_dir

# Property tests: 2,000 examples in CI (the whole suite's budget is 25 minutes on two cores),
# fewer on a developer's machine; the parsers' fuzzers set their own counts.
settings.register_profile(
    "ci", max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The longest test files start first, so that two workers (`pytest -n 2 --dist loadfile`)
# finish together rather than one running a long file alone at the end.
LONG_FIRST = (
    "tests/security/test_schemathesis.py",
    "tests/security/test_egress_random.py",
    "tests/e2e/",
    "tests/node/test_workers.py",
    "tests/federation/test_nats",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next((i for i, p in enumerate(LONG_FIRST) if path.startswith(p)), len(LONG_FIRST))

    items.sort(key=rank)  # stable: each file keeps its own order


SHARED_DATA = Path(
    os.environ.get(
        "KIZUNA_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"test data not found at {SHARED_DATA} (set KIZUNA_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def node_factory(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """Start real `kizuna serve` processes; all are stopped after the test."""
    started: list[NodeProcess] = []

    def start(node_id: str = "usfj", nation: str = "USA", **kw: object) -> NodeProcess:
        directory = make_node_dir(tmp_path / node_id, node_id, nation, **kw)
        proc = NodeProcess(directory)
        proc.start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """Several real nodes to federate: add nodes, link them, start; all stopped after."""
    c = Cluster(tmp_path)
    yield c
    c.stop()
