"""Serving the console: its page at `/`, its files under `/console/`, read once at start-up.

Only the files shipped in `assets/` are served, looked up by name: no path from a request
reaches the disk. Every answer carries a Content-Security-Policy that lets the page load
scripts, styles and data from this origin only, so the console cannot reach another host.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from app.http import dumps
from app.pipeline import Pipeline, RoutePolicy
from app.services.search_labels import search_labels

ASSETS = Path(__file__).parent / "assets"
CONSOLE_PREFIX = "/console/"
OPEN = RoutePolicy(guard=None)  # the pages hold no data; every API call they make is authorized
LABELS_FILE = "search-labels.json"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # revalidated each time (cheap: an ETag), so a new version is never mixed with an old one
    "Cache-Control": "no-cache",
}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, content_type: str) -> Asset:
        return cls(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def load_assets(root: Path = ASSETS) -> dict[str, Asset]:
    """Every file under `root` by its path relative to it, plus the search labels."""
    assets: dict[str, Asset] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
            assets[path.relative_to(root).as_posix()] = Asset.of(
                path.read_bytes(), kind or "application/octet-stream"
            )
    assets[LABELS_FILE] = Asset.of(dumps({"labels": search_labels()}), "application/json")
    return assets


def _answer(request: web.Request, asset: Asset) -> web.Response:
    headers = dict(SECURITY_HEADERS, ETag=asset.etag)
    if asset.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    charset = "utf-8" if asset.content_type.startswith(("text/", "application/json")) else None
    return web.Response(
        body=asset.body, content_type=asset.content_type, charset=charset, headers=headers
    )


def setup_console(pipeline: Pipeline, assets: dict[str, Asset] | None = None) -> None:
    """The console page at `/` and its files at `/console/<path>`."""
    files = load_assets() if assets is None else assets
    page = files["index.html"]

    async def console_page(request: web.Request) -> web.Response:
        return _answer(request, page)

    async def console_file(request: web.Request) -> web.Response:
        found = files.get(request.match_info["path"])
        if found is None:
            raise web.HTTPNotFound()
        return _answer(request, found)

    pipeline.add("GET", "/", console_page, OPEN)
    pipeline.add("GET", CONSOLE_PREFIX + "{path:.+}", console_file, OPEN)
