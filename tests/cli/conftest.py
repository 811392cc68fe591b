"""Fixtures of the command tests: a fresh database on the session's nx-27017."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.cli.local_store import LocalStore
from storage.mongo import open_client


@pytest.fixture
def database() -> str:
    """A database name no other test uses (the commands get it in MONGODB_URI)."""
    return f"cli_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def mongo(nx_store: LocalStore, database: str) -> AsyncIterator[Any]:
    """That database, dropped after the test."""
    client = open_client(nx_store.uri, timeout_ms=5000)
    yield client[database]
    await client.drop_database(database)
    await client.close()
