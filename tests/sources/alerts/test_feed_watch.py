"""The Atom feed pull (against a local HTTP server this test starts) and the watched folder."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kizuna.sources.alerts.feed import FeedPoller
from kizuna.sources.alerts.watch import FolderWatcher
from tests.incidents.support import caller, event_count, start

ETAG = '"feed-v1"'
MODIFIED = "Mon, 09 Oct 2023 03:00:05 GMT"


class Site:
    def __init__(self, docs: dict[str, bytes]) -> None:
        self.docs = docs
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.fail_feed = 0

    def feed(self, base: str) -> bytes:
        entries = "".join(
            f"<entry><id>urn:uuid:{name}</id><title>t</title>"
            f'<updated>2023-10-09T03:00:00Z</updated><link type="application/xml" href="{base}/data/{name}"/></entry>'
            for name in self.docs
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>urn:feed</id><title>JMA</title><updated>2023-10-09T03:00:00Z</updated>{entries}</feed>"
        ).encode()


@pytest.fixture
def site(jma_dir: Path) -> Iterator[tuple[Site, str]]:
    files = sorted(jma_dir.glob("20231009*_VTSE41.xml"))[:3]
    s = Site({p.name: p.read_bytes() for p in files})

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            s.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            if self.path == "/feed.xml":
                if s.fail_feed:
                    s.fail_feed -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == ETAG:
                    self.send_response(304)
                    self.end_headers()
                    return
                body = s.feed(f"http://127.0.0.1:{self.server.server_port}")
                self.send_response(200)
                self.send_header("ETag", ETAG)
                self.send_header("Last-Modified", MODIFIED)
            elif self.path.startswith("/data/") and self.path[6:] in s.docs:
                body = s.docs[self.path[6:]]
                self.send_response(200)
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield s, f"http://127.0.0.1:{server.server_port}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()


def test_feed_is_pulled_conditionally_and_each_entry_fetched_once(site: tuple[Site, str]) -> None:
    s, url = site
    ctx, incidents, alerts = start()
    poller = FeedPoller(alerts, url)
    first = asyncio.run(poller.poll_once())
    assert first.counts == {"new": 1, "updated": 2}
    data = [p for p, _ in s.requests if p.startswith("/data/")]
    assert len(data) == 3
    # second poll: conditional headers, 304, no entry fetched again
    s.requests.clear()
    asyncio.run(poller.poll_once())
    assert [p for p, _ in s.requests] == ["/feed.xml"]
    headers = s.requests[0][1]
    assert headers["if-none-match"] == ETAG and headers["if-modified-since"] == MODIFIED
    # a feed that changed (new ETag) lists the same entries plus one: only the new is fetched
    extra = sorted(s.docs)[0].replace("VTSE41", "copy")
    s.docs[extra] = b"<not-an-alert/>"
    s.requests.clear()
    poller.state.etag = '"stale"'
    third = asyncio.run(poller.poll_once())
    assert [p for p, _ in s.requests] == ["/feed.xml", f"/data/{extra}"]
    assert third.counts == {"rejected": 1}
    # a restarted poller reads the held entries from the node's meta store
    s.requests.clear()
    poller2 = FeedPoller(alerts, url)
    poller2.state.etag = ""
    asyncio.run(poller2.poll_once())
    assert [p for p, _ in s.requests] == ["/feed.xml"]
    assert len(incidents.list(caller(ctx))) == 1


def test_feed_errors_back_off(site: tuple[Site, str]) -> None:
    from kizuna.sources.alerts.feed import FeedError

    s, url = site
    ctx, _incidents, alerts = start()
    poller = FeedPoller(alerts, url, max_backoff=100)
    s.fail_feed = 1
    with pytest.raises(FeedError):
        asyncio.run(poller.poll_once())
    poller.failures = 3
    assert poller.backoff(10) == 80 and FeedPoller(alerts, url, max_backoff=30).backoff(10) == 10
    poller.failures = 10
    assert poller.backoff(10) == 100
    assert event_count(ctx) == 0


def test_watched_folder_ingests_each_document_once(jma_dir: Path, tmp_path: Path) -> None:
    ctx, _incidents, alerts = start()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    files = sorted(jma_dir.glob("20231009*_VTSE41.xml"))[:2]
    for p in files:
        shutil.copy(p, inbox / p.name)
    watcher = FolderWatcher(alerts, inbox)
    assert watcher.poll().counts == {}  # first sight: wait until the files hold still
    assert watcher.poll().counts == {"new": 1, "updated": 1}
    assert watcher.poll().counts == {}
    length = event_count(ctx)
    (inbox / files[0].name).rename(inbox / "renamed.xml")  # moved or renamed: not again
    (inbox / "sub").mkdir()
    shutil.copy(files[1], inbox / "sub" / "again.xml")
    watcher.poll()
    assert watcher.poll().counts == {} and event_count(ctx) == length
    # a restart remembers what was done (the node's meta store)
    restarted = FolderWatcher(alerts, inbox)
    restarted.poll()
    assert restarted.poll().counts == {} and event_count(ctx) == length
