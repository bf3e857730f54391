"""Pull a JMA-style Atom feed: conditional GET, each entry fetched once, back-off on errors.

The feed (``feed/entry`` with ``id`` and ``link href`` to the XML document, as JMA's
``regular.xml`` / ``eqvol.xml`` publish) is fetched with the ETag and Last-Modified of the
previous answer (If-None-Match / If-Modified-Since), so an unchanged feed costs a 304.
The ids of entries already held are kept in the node's meta store: an entry is fetched
once, also across restarts. A failed poll doubles the wait (up to ``max_backoff``).
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import NamedTuple
from urllib.parse import urljoin

import httpx
import msgspec
import structlog

from kizuna.sources.alerts.service import AlertService, Outcome, Summary
from kizuna.sources.alerts.xmlsafe import AlertError, parse

log = structlog.get_logger("kizuna.alerts.feed")

ATOM = {"a": "http://www.w3.org/2005/Atom"}
MAX_FEED_BYTES = 4 << 20
MAX_HELD = 5_000


class FeedState(msgspec.Struct, kw_only=True):
    etag: str = ""
    last_modified: str = ""
    held: list[str] = []


class Answer(NamedTuple):
    status_code: int
    headers: httpx.Headers
    content: bytes


class FeedError(Exception):
    """A poll that failed (network, HTTP status, a feed that is not Atom)."""


class FeedPoller:
    def __init__(
        self, service: AlertService, url: str, *, timeout: float = 10.0, max_backoff: float = 900.0
    ) -> None:
        self.service = service
        self.url = url
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.meta = service.ctx.backend.meta
        self.meta_key = f"alerts.feed:{url}"
        stored = self.meta.meta_get(self.meta_key)
        self.state = msgspec.json.decode(stored, type=FeedState) if stored else FeedState()
        self.failures = 0

    def _save(self) -> None:
        self.state.held = self.state.held[-MAX_HELD:]
        self.meta.meta_set(self.meta_key, msgspec.json.encode(self.state).decode())

    async def _get(
        self, client: httpx.AsyncClient, url: str, limit: int, headers: dict[str, str] | None = None
    ) -> Answer:
        """GET ``url``, reading at most ``limit`` bytes of its body."""
        async with client.stream("GET", url, headers=headers) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FeedError(f"{url}: answer larger than {limit} bytes")
            return Answer(response.status_code, response.headers, bytes(body))

    async def poll_once(self, client: httpx.AsyncClient | None = None) -> Summary:
        """One poll: the feed (conditionally), then each entry not yet held. Raises
        :class:`FeedError` when the feed itself cannot be had."""
        own = client is None
        client = client or httpx.AsyncClient(timeout=self.timeout, follow_redirects=True)
        try:
            return await self._poll(client)
        finally:
            if own:
                await client.aclose()

    async def _poll(self, client: httpx.AsyncClient) -> Summary:
        summary = Summary()
        headers = {}
        if self.state.etag:
            headers["If-None-Match"] = self.state.etag
        if self.state.last_modified:
            headers["If-Modified-Since"] = self.state.last_modified
        try:
            response = await self._get(client, self.url, MAX_FEED_BYTES, headers)
        except httpx.HTTPError as exc:
            raise FeedError(f"{self.url}: {exc}") from None
        if response.status_code == 304:
            return summary
        if response.status_code != 200:
            raise FeedError(f"{self.url}: HTTP {response.status_code}")
        try:
            root = parse(response.content, MAX_FEED_BYTES)
        except AlertError as exc:
            raise FeedError(f"{self.url}: {exc.message}") from None
        if root.tag != "{http://www.w3.org/2005/Atom}feed":
            raise FeedError(f"{self.url}: not an Atom feed ({root.tag})")
        held = set(self.state.held)
        pending = False
        for entry_id, href in _entries(root, self.url):
            if entry_id in held:
                continue
            outcome = await self._entry(client, href)
            if outcome is None:
                pending = True  # fetch failed: try again next poll, keep the old validators
                continue
            summary.add(outcome)
            held.add(entry_id)
            self.state.held.append(entry_id)
        if not pending:
            self.state.etag = response.headers.get("etag", "")
            self.state.last_modified = response.headers.get("last-modified", "")
        self._save()
        return summary

    async def _entry(self, client: httpx.AsyncClient, href: str) -> Outcome | None:
        try:
            response = await self._get(client, href, self.service.max_bytes)
        except FeedError as exc:
            err = AlertError("too_large", str(exc))
            return await asyncio.to_thread(self.service._reject, href, b"", "unknown", err)
        except httpx.HTTPError as exc:
            log.warning("feed entry fetch failed", href=href, error=str(exc))
            return None
        if response.status_code != 200:
            log.warning("feed entry fetch failed", href=href, status=response.status_code)
            return None
        return await asyncio.to_thread(self.service.ingest_bytes, response.content, href)

    def backoff(self, interval: float) -> float:
        return float(min(interval * (2**self.failures), self.max_backoff))

    async def run(self, interval: float) -> None:
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=True) as client:
            while True:
                try:
                    summary = await self.poll_once(client)
                    self.failures = 0
                    if summary.counts:
                        log.info("feed ingested", url=self.url, **summary.counts)
                except FeedError as exc:
                    self.failures += 1
                    log.warning("feed poll failed", url=self.url, error=str(exc))
                except Exception:
                    self.failures += 1
                    log.exception("feed poll failed", url=self.url)
                await asyncio.sleep(self.backoff(interval))


def _entries(root: ET.Element, base: str) -> list[tuple[str, str]]:
    out = []
    for entry in root.findall("a:entry", ATOM):
        link = entry.find("a:link", ATOM)
        href = link.get("href", "") if link is not None else ""
        entry_id = (entry.findtext("a:id", "", ATOM) or "").strip() or href
        if href:
            out.append((entry_id, urljoin(base, href)))
    return out
