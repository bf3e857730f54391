"""A watched folder: every alert document dropped in it is ingested once.

A file is taken once its size and modification time held still for one poll (a writer
may still be copying it). Files are known by their content's SHA-256, kept in the node's
meta store, so a file moved or renamed inside the folder (or dropped again) is not
ingested twice, and a restart does not replay the folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import structlog

from kizuna.sources.alerts.service import AlertService, Summary, alert_files

log = structlog.get_logger("kizuna.alerts.watch")

META_KEY = "alerts.watch.done"
MAX_REMEMBERED = 5_000


class FolderWatcher:
    def __init__(self, service: AlertService, folder: Path) -> None:
        self.service = service
        self.folder = folder
        self.meta = service.ctx.backend.meta
        self._done: list[str] = json.loads(self.meta.meta_get(META_KEY) or "[]")
        self._done_set = set(self._done)
        self._seen: dict[Path, tuple[int, int]] = {}  # size and mtime at the last poll
        self._known: dict[tuple[Path, int, int], str] = {}  # stat → content hash

    def poll(self) -> Summary:
        """One pass over the folder (blocking): ingest each stable file not yet done."""
        summary = Summary()
        if not self.folder.is_dir():
            return summary
        current: dict[Path, tuple[int, int]] = {}
        for path in alert_files(self.folder):
            try:
                st = path.stat()
            except OSError:
                continue  # moved away meanwhile
            stamp = (st.st_size, st.st_mtime_ns)
            current[path] = stamp
            if self._seen.get(path) != stamp:
                continue  # new or still changing: take it at the next poll
            sha = self._known.get((path, *stamp))
            if sha is not None and sha in self._done_set:
                continue
            try:
                raw = path.read_bytes()
            except OSError:
                continue
            sha = hashlib.sha256(raw).hexdigest()
            self._known[(path, *stamp)] = sha
            if sha in self._done_set:
                continue  # the same document under another name
            summary.add(self.service.ingest_bytes(raw, str(path)))
            self._remember(sha)
        self._seen = current
        self._known = {k: v for k, v in self._known.items() if k[0] in current}
        return summary

    def _remember(self, sha: str) -> None:
        self._done.append(sha)
        self._done_set.add(sha)
        if len(self._done) > MAX_REMEMBERED:
            drop = self._done[: len(self._done) - MAX_REMEMBERED]
            self._done = self._done[len(drop) :]
            self._done_set.difference_update(drop)
        self.meta.meta_set(META_KEY, json.dumps(self._done))

    async def run(self, interval: float) -> None:
        while True:
            try:
                summary = await asyncio.to_thread(self.poll)
                if summary.counts:
                    log.info("watched folder ingested", folder=str(self.folder), **summary.counts)
            except Exception:
                log.exception("watched folder poll failed", folder=str(self.folder))
            await asyncio.sleep(interval)
