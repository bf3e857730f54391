"""The web app's files (``web/dist``): hashed assets cached for a year, gzip-compressed.

Vite names every asset by its content hash (``index-DIj2RfZ4.js``), so an asset never
changes under its name: browsers keep it a year (``immutable``) and a new build is new
names. ``index.html`` names the current assets: browsers revalidate it every time
(``no-cache`` with an ETag, answered 304 when unchanged). Text assets are sent gzip-
compressed to clients that accept it, each compressed once and kept (the whole app is a
few MB), with ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

YEAR = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_COMPRESSIBLE = (".js", ".mjs", ".css", ".html", ".json", ".svg", ".map", ".txt", ".wasm")
_MIN_GZIP = 1024  # bytes: smaller files are sent as they are


class WebAssets:
    """The files of a built web app, read once and kept with their gzip forms."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[bytes, bytes | None, str]] = {}

    def _load(self, rel: str) -> tuple[bytes, bytes | None, str] | None:
        with self._lock:
            held = self._cache.get(rel)
            if held is not None:
                return held
            path = (self.dist / rel).resolve()
            if not path.is_file() or self.dist.resolve() not in path.parents:
                return None
            body = path.read_bytes()
            packed = None
            if path.suffix in _COMPRESSIBLE and len(body) >= _MIN_GZIP:
                packed = gzip.compress(body, compresslevel=9, mtime=0)
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            self._cache[rel] = (body, packed, etag)
            return self._cache[rel]

    def response(self, request: Request[Any, Any, Any], rel: str, cache: str) -> Response[bytes]:
        found = self._load(rel)
        if found is None:
            raise NotFoundException(f"no such file: /{rel}")
        body, packed, etag = found
        media = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        if media.startswith("text/") or media in ("application/javascript", "text/javascript"):
            media += "; charset=utf-8"
        headers = {"Cache-Control": cache, "ETag": etag, "Vary": "Accept-Encoding"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(b"", status_code=304, headers=headers)
        accepts = request.headers.get("accept-encoding", "")
        if packed is not None and "gzip" in accepts:
            headers["Content-Encoding"] = "gzip"
            return Response(packed, media_type=media, headers=headers)
        return Response(body, media_type=media, headers=headers)


def asset_routes(dist: Path) -> list[Any]:
    """Routes serving ``dist``: ``/`` (and ``/index.html``) and ``/assets/{name}``."""
    assets = WebAssets(dist)

    @get(["/", "/index.html"], include_in_schema=False, sync_to_thread=False)
    def index(request: Request[Any, Any, Any]) -> Response[bytes]:
        return assets.response(request, "index.html", REVALIDATE)

    @get("/assets/{name:str}", include_in_schema=False, sync_to_thread=False)
    def asset(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
        if "/" in name or name.startswith("."):
            raise NotFoundException(f"no such file: /assets/{name}")
        return assets.response(request, f"assets/{name}", YEAR)

    return [index, asset]
