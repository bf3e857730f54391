"""Hybrid logical clock packed into one integer: milliseconds << 16 | counter."""

from __future__ import annotations

import time
from collections.abc import Callable

_COUNTER_BITS = 16
_COUNTER_MASK = (1 << _COUNTER_BITS) - 1


def pack(millis: int, counter: int) -> int:
    return (millis << _COUNTER_BITS) | counter


def to_seconds(hlc: int) -> float:
    return (hlc >> _COUNTER_BITS) / 1000.0


class HybridClock:
    """Monotonic timestamps that respect causality across nodes."""

    def __init__(self, wall: Callable[[], float] = time.time, last: int = 0) -> None:
        self._wall = wall
        self._last = last

    @property
    def last(self) -> int:
        return self._last

    def now(self) -> int:
        wall = pack(int(self._wall() * 1000), 0)
        self._last = wall if wall > self._last else self._last + 1
        return self._last

    def now_many(self, n: int) -> list[int]:
        """``n`` consecutive timestamps for one batch (one wall-clock read)."""
        wall = pack(int(self._wall() * 1000), 0)
        start = wall if wall > self._last else self._last + 1
        self._last = start + n - 1
        return list(range(start, start + n))

    def observe(self, remote: int) -> int:
        """Advance past a timestamp seen on an incoming event."""
        wall = pack(int(self._wall() * 1000), 0)
        self._last = max(wall, self._last + 1, remote + 1)
        return self._last
