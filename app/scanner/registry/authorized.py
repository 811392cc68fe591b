"""Requests to one repository that carry its authorization and answer one auth challenge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from yarl import URL

from app.scanner.reference import ImageReference
from app.scanner.registry.auth import Authenticator, Authorization
from app.scanner.registry.manifests import ACCEPT
from app.scanner.registry.transport import Fetched, Transport


class AuthorizedRequests:
    """A manifest fetch or a blob stream for a reference, authorized as its registry asks."""

    def __init__(self, transport: Transport, auth: Authenticator):
        self._transport = transport
        self._auth = auth

    def base(self, ref: ImageReference) -> URL:
        """The repository's v2 URL."""
        return self._transport.base_url(ref.registry) / "v2" / ref.remote

    def manifest_url(self, ref: ImageReference, reference: str) -> URL:
        return self.base(ref) / "manifests" / reference

    async def fetch(
        self, ref: ImageReference, method: str, url: URL, *, limit: int
    ) -> tuple[Fetched, Authorization]:
        """A manifest request, answering one auth challenge if the registry sends it."""
        host, remote = ref.registry, ref.remote
        authorization = await self._auth.authorization(host, remote)
        for challenged in (False, True):
            fetched = await self._transport.fetch(
                host, method, url, headers=_headers(authorization, ACCEPT), limit=limit
            )
            if fetched.status not in (401, 403):
                return fetched, authorization
            if challenged or fetched.status == 403:
                break
            challenges = fetched.headers.getall("WWW-Authenticate", [])
            authorization = await self._auth.answer(host, remote, challenges, authorization)
        raise self._auth.denied(host, remote, authorization)

    @asynccontextmanager
    async def stream(self, ref: ImageReference, url: URL) -> AsyncIterator[aiohttp.ClientResponse]:
        """A blob GET held open, answering one auth challenge if the registry sends it."""
        host, remote = ref.registry, ref.remote
        authorization = await self._auth.authorization(host, remote)
        for challenged in (False, True):
            async with self._transport.stream(
                host, url, headers=_headers(authorization, None)
            ) as response:
                if response.status not in (401, 403):
                    yield response
                    return
                status = response.status
                challenges = response.headers.getall("WWW-Authenticate", [])
            if challenged or status == 403:
                break
            authorization = await self._auth.answer(host, remote, challenges, authorization)
        raise self._auth.denied(host, remote, authorization)


def _headers(authorization: Authorization, accept: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if accept:
        headers["Accept"] = accept
    if authorization.header:
        headers["Authorization"] = authorization.header
    return headers
