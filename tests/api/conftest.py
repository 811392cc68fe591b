"""API test helpers: store images through the service the app uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest

from app.keys import IMAGES
from schemas.image import normalize_image

Store = Callable[[Iterable[dict[str, Any]]], Awaitable[None]]


@pytest.fixture
def put_images(client: Any) -> Store:
    """Store wire-shaped images, keeping any `lastUpdated` they carry."""

    async def put(images: Iterable[dict[str, Any]]) -> None:
        batch = [normalize_image(image) for image in images]
        await client.server.app[IMAGES].upsert(batch, keep_last_updated=True)

    return put
