"""A fresh PostgreSQL database for a test run, on the machine's server (127.0.0.1:5432,
user ``postgres``, trust auth; ``KIZUNA_TEST_PG`` names another server as a libpq URL).

Unreachable server: the tests that need it skip on a developer's machine and fail when
``CI`` is set (CI must start PostgreSQL; a silent skip would hide that it did not).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

SERVER = os.environ.get("KIZUNA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


def require_postgres() -> None:
    """Skip (or, with ``CI`` set, fail) unless the test server answers."""
    try:
        with psycopg.connect(SERVER, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {SERVER}: {exc}".strip()
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: .ci/run must start it)", pytrace=False)
        pytest.skip(message)


@contextlib.contextmanager
def fresh_database(prefix: str = "kizuna_test") -> Iterator[str]:
    """A new, uniquely named database (its URL), dropped afterwards."""
    require_postgres()
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(SERVER, name)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def schema_for(root: Path) -> str:
    """A schema name of its own for a node directory (the same directory, the same name)."""
    return "n_" + hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]


def store_url(database_url: str, root: Path) -> str:
    """The ``store`` setting of a node whose directory is ``root``, in that database."""
    sep = "&" if urlsplit(database_url).query else "?"
    return f"{database_url}{sep}schema={schema_for(root)}&pool_max=4"
