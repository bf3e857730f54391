"""Token-bucket rate limits, as ASGI middleware of the node's app.

- Writes (POST, PATCH, PUT, DELETE) with a valid bearer token: per user, ``[limits]
  write_burst`` requests at once, refilled at ``write_rate`` per second. Writes without a
  valid token pass on, to be answered 401 by the route.
- ``POST /api/v1/login``: every attempt per client address (``login_address_*``), and
  failed attempts per login name (``login_*``; a successful login gives its attempt back,
  so only guessing drains a name).

A refused request is answered 429 problem+json (``/problems/rate-limited``) with
``Retry-After``, counted as ``kizuna_access_refused_total{reason="rate_limit"}``, and
audited once per limit and key every :data:`AUDIT_EVERY` seconds (with how many were
refused in between), so that a flood cannot flood the trail. The client address is the
TCP peer's: behind a reverse proxy every client shares the proxy's.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from kizuna.api.language import API, language_of_headers
from kizuna.api.problems import PROBLEM, title

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from kizuna.node.runtime import Node

WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
LOGIN_PATH = "/api/v1/login"
LOGIN_BODY_MAX = 64 * 1024  # a login body larger than this is not read for its name
AUDIT_EVERY = 10.0  # seconds between audit entries for one limit and key
MAX_KEYS = 50_000  # buckets kept per limit (least recently used dropped first)


class Buckets:
    """One token bucket per key: ``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(self, burst: int, rate: float, clock: Callable[[], float]) -> None:
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()  # key -> [tokens, at]

    def take(self, key: str) -> float:
        """Take one token: 0 if there was one, else the seconds until there is."""
        if self.burst <= 0:
            return 0.0
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = [float(self.burst), now]
            self._buckets[key] = bucket
            if len(self._buckets) > MAX_KEYS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return 0.0
        return (1.0 - bucket[0]) / self.rate if self.rate > 0 else 3600.0

    def give(self, key: str) -> None:
        """Give a token back (the request turned out not to count)."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket[0] = min(float(self.burst), bucket[0] + 1.0)


class _LoginName(msgspec.Struct):
    name: str


def _login_name(body: bytes) -> str | None:
    try:
        return msgspec.json.decode(body, type=_LoginName).name[:64]
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


async def _too_many(send: Send, scope: Scope, wait: float, what: str) -> None:
    """A 429 answer; ``what`` names the limit (a ``rate.*`` key of the API catalog)."""
    retry = max(1, math.ceil(wait))
    language = language_of_headers(scope.get("headers", ()))
    body = msgspec.json.encode(
        {
            "type": "/problems/rate-limited",
            "title": title(429, language),
            "status": 429,
            "detail": API.get(
                language, "detail.rate-limited", what=API.get(language, what), retry=retry
            ),
            "retry_after": retry,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", PROBLEM.encode()),
                (b"retry-after", str(retry).encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class RateLimits:
    """The node's limits; ``Litestar(middleware=[RateLimits(node)])`` wraps every route."""

    def __init__(self, node: Node, clock: Callable[[], float] = time.monotonic) -> None:
        limits = node.limits
        self.node = node
        self.clock = clock
        self.writes = Buckets(limits.write_burst, limits.write_rate, clock)
        self.login_names = Buckets(limits.login_burst, limits.login_rate, clock)
        self.login_addresses = Buckets(limits.login_address_burst, limits.login_address_rate, clock)
        self._audited: dict[str, tuple[float, int]] = {}  # limit:key -> (at, refused since)

    def __call__(self, app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if str(scope["type"]) != "http" or scope.get("method") not in WRITES:
                await app(scope, receive, send)
            elif scope.get("path") == LOGIN_PATH:
                await self._login(app, scope, receive, send)
            else:
                await self._write(app, scope, receive, send)

        return middleware

    async def _write(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        token = _bearer(scope)
        caller = self.node.caller_for_token(token) if token else None
        if caller is not None:
            wait = self.writes.take(caller.name)
            if wait:
                self._refused("writes", caller.name, scope)
                await _too_many(send, scope, wait, "rate.writes")
                return
        await app(scope, receive, send)

    async def _login(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        wait = self.login_addresses.take(address)
        if wait:
            self._refused("login_address", address, scope)
            await _too_many(send, scope, wait, "rate.logins-address")
            return
        messages: list[Any] = []  # the request's body messages, replayed to the app
        size, complete = 0, False
        while size <= LOGIN_BODY_MAX:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                complete = True
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        name = _login_name(body) if complete else None
        if name is not None:
            wait = self.login_names.take(name)
            if wait:
                self._refused("login_name", name, scope, address=address)
                await _too_many(send, scope, wait, "rate.logins-name")
                return

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        status: list[int] = []

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await app(scope, replay, watch)
        if name is not None and status and 200 <= status[0] < 300:
            self.login_names.give(name)

    def _refused(self, limit: str, key: str, scope: Scope, **details: Any) -> None:
        """Count every refusal; audit one per limit and key every AUDIT_EVERY seconds."""
        now = self.clock()
        slot = f"{limit}:{key}"
        at, since = self._audited.get(slot, (-math.inf, 0))
        if now - at < AUDIT_EVERY:
            self._audited[slot] = (at, since + 1)
            self.node.metrics.refused.labels("rate_limit").inc()
            return
        if len(self._audited) > MAX_KEYS:
            self._audited.clear()
        self._audited[slot] = (now, 0)
        self.node.refuse(
            "rate_limit",
            key,
            limit=limit,
            path=str(scope.get("path", "")),
            refused_since_last_entry=since,
            **details,
        )
