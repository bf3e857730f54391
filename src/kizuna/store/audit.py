"""Tamper-evident audit trail: an append-only JSON-lines file, each entry hash-chained.

Entry n holds ``prev`` (entry n-1's hash) and ``hash`` = SHA-256 over its own
canonical content and ``prev``. The chain head (count and last hash) is also
anchored in the node's database, so deleting entries from the end is caught.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def _digest(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    canon = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


class AuditLog:
    def __init__(
        self,
        path: Path,
        anchor_get: Callable[[], str | None],
        anchor_set: Callable[[str], None],
    ) -> None:
        self.path = path
        self._anchor_set = anchor_set
        self._lock = threading.Lock()
        head = anchor_get()
        if head:
            n, last = head.split(":")
            self._count, self._last = int(n), last
        else:
            self._count, self._last = 0, GENESIS

    def append(self, action: str, actor: str, outcome: str, **details: Any) -> None:
        with self._lock:
            entry: dict[str, Any] = {
                "n": self._count + 1,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "action": action,
                "actor": actor,
                "outcome": outcome,
                "details": details,
                "prev": self._last,
            }
            entry["hash"] = _digest(entry)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            self._count, self._last = entry["n"], entry["hash"]
            self._anchor_set(f"{self._count}:{self._last}")


def verify(path: Path, anchor: str | None) -> tuple[bool, str]:
    """Check the chain; returns (ok, message naming the first bad entry)."""
    prev, count = GENESIS, 0
    if path.exists():
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    return False, f"entry {lineno}: not valid JSON"
                if entry.get("n") != lineno:
                    return (
                        False,
                        f"entry {lineno}: sequence number {entry.get('n')!r}, expected {lineno} (an entry was deleted or reordered)",
                    )
                if entry.get("prev") != prev:
                    return (
                        False,
                        f"entry {lineno}: chain broken (previous entry altered or deleted)",
                    )
                if entry.get("hash") != _digest(entry):
                    return False, f"entry {lineno}: content altered (hash mismatch)"
                prev, count = entry["hash"], lineno
    if anchor:
        n, last = anchor.split(":")
        if int(n) != count or last != prev:
            return (
                False,
                f"entry {count + 1}: log ends at entry {count} but the node recorded {n} entries (entries deleted from the end)",
            )
    return True, f"audit log intact: {count} entries"
