"""Helpers of the backend contract tests (the backends themselves are listed in conftest)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from kizuna.core.labels import parse_label
from kizuna.store.base import Backend

# Opens a node's backend in a directory: the same directory (and node id) reopens the
# same data; a new directory is a new, empty store.
BackendFactory = Callable[[Path, str], Backend]

U = parse_label("U")
SECRET = parse_label("S//REL TO USA, JPN")
CONF = parse_label("C//REL TO USA, AUS, JPN")
LABELS = [U, SECRET, CONF]


class Opener:
    """Opens backends under one directory; closes what is left open at the end."""

    def __init__(self, factory: BackendFactory, root: Path) -> None:
        self.factory = factory
        self.root = root
        self._open: list[Backend] = []

    def __call__(self, node_id: str = "usfj") -> Backend:
        """The backend of node ``node_id`` (its own directory): fresh the first time,
        the same data every later time."""
        root = self.root / node_id
        root.mkdir(parents=True, exist_ok=True)
        backend = self.factory(root, node_id)
        self._open.append(backend)
        return backend

    def reopen(self, backend: Backend) -> Backend:
        """Close ``backend`` and open its data again, as after a restart."""
        node_id = backend.events.node_id
        backend.close()
        self._open.remove(backend)
        return self(node_id)

    def close_all(self) -> None:
        for backend in self._open:
            with contextlib.suppress(Exception):
                backend.close()
        self._open.clear()


@contextlib.contextmanager
def scratch(factory: BackendFactory) -> Iterator[Opener]:
    """An :class:`Opener` in a temporary directory, for one hypothesis example."""
    with tempfile.TemporaryDirectory(prefix="kizuna-contract-") as tmp:
        opener = Opener(factory, Path(tmp))
        try:
            yield opener
        finally:
            opener.close_all()
