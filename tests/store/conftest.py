"""Fixtures of the store tests: this run's own PostgreSQL database (see :mod:`tests.store.pgtest`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The URL of this run's own PostgreSQL database, dropped at the end of the run.

    Skips when no server answers, and fails instead when ``CI`` is set."""
    from tests.store.pgtest import fresh_database

    with fresh_database("kizuna_store") as url:
        yield url
