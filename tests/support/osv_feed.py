"""OSV archives as osv.dev publishes them (`<ecosystem>/all.zip`), built from records in the
test, and an aiohttp application serving them on loopback: ETag and Last-Modified with
conditional answers (304), an answer cut off half-way on request, and a log of what it was asked.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

_PUBLISHED = datetime(2026, 1, 1, tzinfo=UTC)


def osv_record(osv_id: str, ecosystem: str, name: str, fixed: str, **extra: Any) -> dict[str, Any]:
    """A record affecting `name` from the start until `fixed`, alias CVE-2024-<last digit>."""
    return {
        "id": osv_id,
        "modified": "2024-05-01T10:00:00Z",
        "aliases": [f"CVE-2024-{osv_id[-1]}"],
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
        **extra,
    }


def zip_of(records: list[dict[str, Any]]) -> bytes:
    """An all.zip: one `<id>.json` member per record, deflated; the same bytes for the same
    records."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            member = zipfile.ZipInfo(f"{record['id']}.json", date_time=(2026, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, json.dumps(record, indent=1))
    return buffer.getvalue()


def corrupt_member(archive: bytes) -> bytes:
    """The archive with one byte of its first member's compressed data changed: the central
    directory still reads, the member does not (CRC or inflate error)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as parsed:
        first = parsed.infolist()[0]
    data = bytearray(archive)
    at = first.header_offset  # the local header: 30 bytes, then the name and the extra field
    name_length = int.from_bytes(data[at + 26 : at + 28], "little")
    extra_length = int.from_bytes(data[at + 28 : at + 30], "little")
    start = at + 30 + name_length + extra_length
    data[start + first.compress_size // 2] ^= 0xFF
    return bytes(data)


@dataclass(frozen=True, slots=True)
class Asked:
    ecosystem: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int


@dataclass
class FeedServer:
    """The archives it serves by ecosystem; `cut` ones are cut off half-way."""

    archives: dict[str, bytes] = field(default_factory=dict)
    cut: set[str] = field(default_factory=set)
    asked: list[Asked] = field(default_factory=list)
    _modified: dict[str, datetime] = field(default_factory=dict)

    def publish(self, ecosystem: str, archive: bytes) -> None:
        """Serve `archive` from now on, with a new ETag and a later Last-Modified."""
        self.archives[ecosystem] = archive
        self._modified[ecosystem] = _PUBLISHED + timedelta(days=len(self.asked) + 1)

    def etag(self, ecosystem: str) -> str:
        return '"' + hashlib.sha256(self.archives[ecosystem]).hexdigest()[:20] + '"'

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{ecosystem}/all.zip", self._serve)
        return app

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        ecosystem = request.match_info["ecosystem"]
        if_none_match = request.headers.get("If-None-Match")
        if_modified_since = request.headers.get("If-Modified-Since")

        def asked(status: int) -> None:
            self.asked.append(Asked(ecosystem, if_none_match, if_modified_since, status))

        if ecosystem not in self.archives:
            asked(404)
            raise web.HTTPNotFound()
        data, etag = self.archives[ecosystem], self.etag(ecosystem)
        modified = self._modified[ecosystem]
        headers = {"ETag": etag, "Last-Modified": email.utils.format_datetime(modified, True)}
        if if_none_match is not None:
            unchanged = if_none_match == etag
        else:
            since = if_modified_since and email.utils.parsedate_to_datetime(if_modified_since)
            unchanged = bool(since) and modified <= since
        if unchanged:
            asked(304)
            return web.Response(status=304, headers=headers)
        asked(200)
        response = web.StreamResponse(headers=headers)
        response.content_type = "application/zip"
        response.content_length = len(data)
        await response.prepare(request)
        if ecosystem in self.cut:
            await response.write(data[: len(data) // 2])
            assert request.transport is not None
            request.transport.close()  # the rest never comes
            return response
        await response.write(data)
        await response.write_eof()
        return response
