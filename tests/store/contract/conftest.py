"""The backend contract: every storage engine passes the same tests, through the ports only.

A backend joins the suite by adding its name to ``BACKENDS`` and a branch to
:func:`backend_factory` returning a :data:`~tests.store.contract.support.BackendFactory`:
it opens a ``Backend`` for a node id in a directory. Opening the same directory (and node
id) again must reopen the same data; a new directory must be a new, empty store. A
backend that keeps its data elsewhere (a PostgreSQL server) keys a database or schema on
the directory and starts it empty the first time it sees the directory.

PostgreSQL: one fresh database per test run (``postgres_database`` in
``tests/store/conftest.py``, dropped at the end), one schema per node directory in it.
Without a server the PostgreSQL half skips, or fails when ``CI`` is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kizuna.store.base import Backend
from kizuna.store.sqlite_backend import open_sqlite
from tests.store.contract.support import BackendFactory, Opener

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session", params=BACKENDS)
def backend_factory(request: pytest.FixtureRequest) -> BackendFactory:
    """Session scoped, so property tests (hypothesis) may use it."""
    if request.param == "sqlite":
        return lambda root, node_id: open_sqlite("sqlite", root, node_id)
    if request.param == "postgresql":
        from kizuna.store.postgres_backend import open_postgres
        from tests.store.pgtest import store_url

        database: str = request.getfixturevalue("postgres_database")
        return lambda root, node_id: open_postgres(store_url(database, root), root, node_id)
    raise AssertionError(f"no factory for backend {request.param!r}")


@pytest.fixture
def open_backend(backend_factory: BackendFactory, tmp_path: Path) -> Iterator[Opener]:
    opener = Opener(backend_factory, tmp_path)
    yield opener
    opener.close_all()


@pytest.fixture
def backend(open_backend: Opener) -> Backend:
    """A fresh backend of node ``usfj``."""
    return open_backend("usfj")
