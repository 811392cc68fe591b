"""Blobs streamed from a repository, checked against their digest and size as they arrive."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager

from app.scanner.errors import DigestMismatch, LayerLimitExceeded, RegistryProtocolError
from app.scanner.model import Descriptor
from app.scanner.reference import ImageReference
from app.scanner.registry import digests
from app.scanner.registry.answers import bad_status
from app.scanner.registry.authorized import AuthorizedRequests
from app.scanner.registry.transport import CHUNK_BYTES, Fetched


class BlobStream(AbstractAsyncContextManager["BlobStream"]):
    """A blob's bytes in chunks of about 64 KiB, checked against its digest at the end.

    Iterate to the end (the check raises there), or use `async with` so that stopping early
    releases the connection and the registry's slot at once.
    """

    def __init__(self, chunks: AsyncGenerator[bytes, None]):
        self._chunks = chunks

    def __aiter__(self) -> BlobStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        await self._chunks.aclose()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def blob_chunks(
    requests: AuthorizedRequests,
    ref: ImageReference,
    descriptor: Descriptor,
    max_bytes: int | None,
) -> AsyncGenerator[bytes, None]:
    """The blob's bytes; raises DigestMismatch or LayerLimitExceeded as RegistryClient.open_blob
    says."""
    host = ref.registry
    try:
        hasher = digests.hasher_for(descriptor.digest)
    except ValueError as error:
        raise RegistryProtocolError(str(error), registry=host) from None
    limit = descriptor.size if max_bytes is None else min(descriptor.size, max_bytes)
    url = requests.base(ref) / "blobs" / descriptor.digest
    received = 0
    async with requests.stream(ref, url) as response:
        if response.status != 200:
            body = await response.content.read(CHUNK_BYTES)
            fetched = Fetched(response.status, response.headers, body)
            raise bad_status(ref, descriptor.digest, fetched, what="blob")
        if response.content_length is not None and response.content_length > limit:
            raise too_large(ref, descriptor, limit, max_bytes)
        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
            received += len(chunk)
            if received > limit:
                raise too_large(ref, descriptor, limit, max_bytes)
            hasher.update(chunk)
            yield chunk
    algorithm = descriptor.digest.split(":", 1)[0]
    if received != descriptor.size or f"{algorithm}:{hasher.hexdigest()}" != descriptor.digest:
        raise DigestMismatch(
            f"blob {descriptor.digest} from registry {host} does not match its digest",
            registry=host,
        )


def too_large(
    ref: ImageReference, descriptor: Descriptor, limit: int, max_bytes: int | None
) -> LayerLimitExceeded:
    if max_bytes is not None and limit == max_bytes:
        reason = f"more than the {max_bytes}-byte limit"
    else:
        reason = f"more than the {descriptor.size} bytes its descriptor declares"
    return LayerLimitExceeded(
        f"blob {descriptor.digest} from registry {ref.registry} is {reason}",
        registry=ref.registry,
    )
