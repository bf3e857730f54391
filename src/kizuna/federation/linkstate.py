"""What one link has seen: its state, last contact, round trip, throughput and refusals.

Each :class:`~kizuna.federation.link.Link` keeps a :class:`LinkState`; the network status
(:mod:`kizuna.federation.monitor`) reads it. Times shown to people come from the
federation's clock (the wall clock, plus ``[federation] clock_offset_s`` in tests);
rates use the monotonic clock, so moving the test clock does not change them.

The state names the last outcome of an exchange with the peer (a batch or a digest
probe): ``connected`` (it succeeded), ``refusing`` (the peer answered 403 or 409: it will
not take what we send), ``backoff`` (the peer answered some other error; the link retries
at ``backoff_until``), ``cut`` (no answer at all: connection refused, reset, timed out; or
no exchange yet).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Literal

from kizuna.kernel.streams import TransportError

State = Literal["connected", "cut", "refusing", "backoff"]

RATE_WINDOW = 60  # seconds of throughput the rates average over
REFUSING = (403, 409)  # a peer answering these refuses us, rather than failing


class AnsweredError(TransportError):
    """The peer answered, with an error status (``status``): it is reachable."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Rate:
    """Items per second over the last :data:`RATE_WINDOW` seconds (thread-safe)."""

    def __init__(self, window: int = RATE_WINDOW, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.clock = clock
        self.started = clock()
        self._buckets: deque[list[int]] = deque()  # [second, count]
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        if n <= 0:
            return
        second = int(self.clock())
        with self._lock:
            if self._buckets and self._buckets[-1][0] == second:
                self._buckets[-1][1] += n
            else:
                self._buckets.append([second, n])
            self._trim(second)

    def _trim(self, second: int) -> None:
        while self._buckets and self._buckets[0][0] <= second - self.window:
            self._buckets.popleft()

    def per_second(self) -> float:
        now = self.clock()
        with self._lock:
            self._trim(int(now))
            total = sum(count for _, count in self._buckets)
        # A link younger than the window averages over its life so far.
        return total / min(float(self.window), max(1.0, now - self.started))


class LinkState:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.state: State = "cut"
        self.contacted = False  # any exchange has succeeded since the node started
        self.last_contact: float | None = None
        self.up_since: float | None = None
        self.cut_since: float | None = None  # the first failure since the last success
        self.backoff_until: float | None = None
        self.rtt: float | None = None  # seconds
        self.error = ""
        self.sent = Rate()
        self.received = Rate()
        self.sent_total = 0
        self.received_total = 0
        self.refusals_in: Counter[str] = Counter()
        self.refusals_out: Counter[str] = Counter()
        self._lock = threading.Lock()

    def success(self, seconds: float) -> None:
        """An exchange with the peer succeeded, taking ``seconds``."""
        now = self.clock()
        if self.state != "connected" or self.up_since is None:
            self.up_since = now
        self.state = "connected"
        self.contacted = True
        self.last_contact = now
        self.rtt = seconds
        self.cut_since = None
        self.backoff_until = None
        self.error = ""

    def failure(self, exc: TransportError, retry_in: float | None = None) -> None:
        """An exchange failed; the link tries again in ``retry_in`` seconds (None: unknown)."""
        now = self.clock()
        status = getattr(exc, "status", None)
        if isinstance(status, int):
            self.state = "refusing" if status in REFUSING else "backoff"
            if status in REFUSING:
                self.refused_out("refused_by_peer")
        else:
            self.state = "cut"
        if self.cut_since is None:
            self.cut_since = now
        self.up_since = None
        self.backoff_until = None if retry_in is None else now + retry_in
        self.error = str(exc)[:200]

    def sent_events(self, n: int) -> None:
        self.sent.add(n)
        with self._lock:
            self.sent_total += n

    def received_events(self, n: int) -> None:
        self.received.add(n)
        with self._lock:
            self.received_total += n

    def refused_in(self, reason: str, n: int = 1) -> None:
        """Items from the peer refused at receipt (the reasons of ``rules.receipt_refusal``,
        an owner rule's, a stream's own)."""
        with self._lock:
            self.refusals_in[reason] += n

    def refused_out(self, reason: str, n: int = 1) -> None:
        """Items withheld from the peer by the release check at send (``label``,
        ``group_label``, ``not_expandable``…), or a batch it refused (``refused_by_peer``)."""
        with self._lock:
            self.refusals_out[reason] += n

    def refusal_counts(self) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        """(both directions added up, at receipt, at send), by reason."""
        with self._lock:
            both = self.refusals_in + self.refusals_out
            return (
                dict(sorted(both.items())),
                dict(sorted(self.refusals_in.items())),
                dict(sorted(self.refusals_out.items())),
            )
