"""Real registries for the scanner tests: Debian's docker-registry on loopback, one per session."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from storage.mongo import open_client
from tests.support.registry import RunningRegistry, start_registry, stop_registry

AUTH_USERNAME = "scanner"


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A registry without auth, filesystem storage in a session temp dir."""
    running, process = start_registry(tmp_path_factory.mktemp("registry"))
    yield running
    stop_registry(process)


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A registry requiring htpasswd Basic auth as user "scanner" with a random password
    (`auth_registry.username` / `.password`)."""
    credentials = (AUTH_USERNAME, secrets.token_urlsafe(18))
    running, process = start_registry(
        tmp_path_factory.mktemp("auth-registry"), credentials=credentials
    )
    yield running
    stop_registry(process)


@pytest.fixture
async def nx_db(nx_store: Any) -> AsyncIterator[Any]:
    """A fresh database on the nx-27017 store (scanner tests use the real protocol only)."""
    client = open_client(nx_store.uri, timeout_ms=5000)
    name = f"scan_{uuid.uuid4().hex[:12]}"
    yield client[name]
    await client.drop_database(name)
    await client.close()
