"""Ecosystem archives fetched over HTTP from a server on loopback: whole or not at all, within
the size limit, checked against the MD5 a bucket announces, redirects followed within bounds,
nothing taken from the environment; and the archive check that runs before any import."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from app.osv_archives import OsvArchives
from app.services.feed_source import DownloadFailed, Validators
from app.services.feed_sync import check_archive
from tests.support.osv_feed import corrupt_member, osv_record, zip_of

ARCHIVE = zip_of([osv_record(f"GHSA-{n}", "PyPI", f"p{n}", "1.0") for n in range(5)])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(aiohttp_server: Any, handler: Handler) -> str:
    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await aiohttp_server(app, host="127.0.0.1")
    return str(server.make_url("")).rstrip("/")


async def fetch(url: str, tmp_path: Path, *, max_bytes: int = 1 << 20, **known: str) -> Any:
    validators = Validators(known.get("etag"), known.get("last_modified")) if known else None
    async with OsvArchives(url, max_bytes=max_bytes, timeout_s=30) as source:
        return await source.fetch("PyPI", validators, tmp_path / "all.zip")


def test_ecosystem_names_are_quoted_into_the_path() -> None:
    source = OsvArchives("https://mirror.example.com/osv", max_bytes=1, timeout_s=1)
    assert source.url("Rocky Linux") == "https://mirror.example.com/osv/Rocky%20Linux/all.zip"
    assert source.url("Ubuntu") == "https://mirror.example.com/osv/Ubuntu/all.zip"


async def test_a_whole_archive_with_its_validators_and_checksum(
    aiohttp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        md5 = base64.b64encode(hashlib.md5(ARCHIVE).digest()).decode()  # noqa: S324
        headers = {"ETag": '"v1"', "x-goog-hash": f"crc32c=AAAAAA==,md5={md5}"}
        return web.Response(body=ARCHIVE, headers=headers)

    url = await serve(aiohttp_server, handler)
    # neither a proxy nor netrc credentials from the environment are used
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")
    monkeypatch.setenv("NO_PROXY", "")
    got = await fetch(url, tmp_path, etag='"v0"')
    assert got.path.read_bytes() == ARCHIVE
    assert (got.size, got.sha256) == (len(ARCHIVE), hashlib.sha256(ARCHIVE).hexdigest())
    assert got.validators == Validators('"v1"', None)
    assert seen[0]["If-None-Match"] == '"v0"'
    assert seen[0]["Accept-Encoding"] == "identity"
    assert "Authorization" not in seen[0]
    check_archive(got.path)


async def test_an_archive_not_matching_the_announced_md5_is_refused(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    async def handler(request: web.Request) -> web.Response:
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()  # noqa: S324
        return web.Response(body=ARCHIVE, headers={"x-goog-hash": f"md5={wrong}"})

    with pytest.raises(DownloadFailed, match="does not match the MD5 its server announced"):
        await fetch(await serve(aiohttp_server, handler), tmp_path)


async def test_the_size_limit_holds_with_and_without_a_length(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    async def announced(request: web.Request) -> web.Response:
        return web.Response(body=ARCHIVE)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(ARCHIVE), 100):
            await response.write(ARCHIVE[start : start + 100])
        await response.write_eof()
        return response

    with pytest.raises(DownloadFailed, match=f"is {len(ARCHIVE)} bytes, more than 200"):
        await fetch(await serve(aiohttp_server, announced), tmp_path, max_bytes=200)
    with pytest.raises(DownloadFailed, match="is more than 200 bytes"):
        await fetch(await serve(aiohttp_server, chunked), tmp_path, max_bytes=200)
    got = await fetch(await serve(aiohttp_server, chunked), tmp_path)
    assert got.sha256 == hashlib.sha256(ARCHIVE).hexdigest()


async def test_redirects_are_followed_a_few_times(aiohttp_server: Any, tmp_path: Path) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.path == "/PyPI/all.zip":
            raise web.HTTPFound("/mirror/PyPI.zip")
        if request.path == "/mirror/PyPI.zip":
            return web.Response(body=ARCHIVE)
        raise web.HTTPFound(request.path + "x")  # forever

    url = await serve(aiohttp_server, handler)
    assert (await fetch(url, tmp_path)).size == len(ARCHIVE)
    with pytest.raises(DownloadFailed, match="redirected more than 5 times"):
        await fetch(url + "/loop", tmp_path)


async def test_answers_other_than_the_archive_are_failures(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    async def handler(request: web.Request) -> web.Response:
        status = 304 if request.path.startswith("/unasked") else 503
        return web.Response(status=status)

    url = await serve(aiohttp_server, handler)
    with pytest.raises(DownloadFailed, match=r"/PyPI/all.zip answered HTTP 503"):
        await fetch(url, tmp_path, etag='"v1"')
    # not modified, though nothing was asked conditionally
    with pytest.raises(DownloadFailed, match="answered HTTP 304"):
        await fetch(url + "/unasked", tmp_path)
    assert await fetch(url + "/unasked", tmp_path, etag='"v1"') is None


def test_the_archive_check(tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    path.write_bytes(ARCHIVE)
    check_archive(path)
    path.write_bytes(ARCHIVE[: len(ARCHIVE) // 2])
    with pytest.raises(DownloadFailed, match="not a readable zip archive"):
        check_archive(path)
    path.write_bytes(corrupt_member(ARCHIVE))
    with pytest.raises(DownloadFailed, match="the archive is corrupt: GHSA-0.json"):
        check_archive(path)
