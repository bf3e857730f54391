"""The web app's files: hashed assets cached a year and gzip-compressed, index.html
revalidated, nothing outside the build served."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kizuna.api.assets import asset_routes

JS = "export const answer = 42;\n" * 200


@pytest.fixture
def client(tmp_path: Path) -> TestClient[Litestar]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<script src="/assets/index-abc123.js"></script>' * 40)
    (dist / "assets" / "index-abc123.js").write_text(JS)
    (tmp_path / "secret.txt").write_text("not for the web")
    return TestClient(Litestar(route_handlers=asset_routes(dist)))


def test_a_hashed_asset_is_cached_a_year_and_compressed(client: TestClient[Litestar]) -> None:
    with client:
        r = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["vary"] == "Accept-Encoding"
        assert "javascript" in r.headers["content-type"]
        assert r.text == JS  # the client decompressed it
        assert int(r.headers["content-length"]) < len(JS) / 10
        plain = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == JS.encode()
        assert gzip.decompress(gzip.compress(plain.content)) == JS.encode()


def test_index_is_revalidated(client: TestClient[Litestar]) -> None:
    with client:
        r = client.get("/")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
        etag = r.headers["etag"]
        again = client.get("/", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert client.get("/index.html").headers["etag"] == etag


@pytest.mark.parametrize(
    "path", ["/assets/missing.js", "/assets/..%2Fsecret.txt", "/assets/.hidden", "/secret.txt"]
)
def test_nothing_else_is_served(client: TestClient[Litestar], path: str) -> None:
    with client:
        r = client.get(path)
        assert r.status_code == 404
        assert "not for the web" not in r.text
