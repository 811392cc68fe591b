"""Fixtures: settings built in code, a fresh database per test on each store, the app client."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from app.cli.local_store import LocalStore, start_local_store
from app.config import Settings
from app.main import create_app
from storage.mongo import open_client
from tests.support.stores import MONGODB, MONGOMOCK, NX, MongomockDatabase
from tests.support.swagger import missing_swagger, uses_swagger

STORES = [MONGOMOCK, NX] + ([MONGODB] if os.environ.get("TEST_MONGODB_URI") else [])


# tests/<kind>/…: the folder says what a test needs (`pytest -m unit` runs only the I/O-free ones).
KINDS = ("unit", "integration", "api", "cli", "scanner", "deploy")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its kind; stop the run once, before any test, when tests that need
    the swagger cannot read it."""
    tests_dir = config.rootpath / "tests"
    for item in items:
        kind = item.path.relative_to(tests_dir).parts[0]
        if kind in KINDS:
            item.add_marker(kind)
    modules = {getattr(item, "module", None) for item in items} - {None}
    if any(uses_swagger(module) for module in modules) and (problem := missing_swagger()):
        pytest.exit(problem, returncode=1)


@pytest.fixture(scope="session")
def nx_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStore]:
    store = start_local_store(tmp_path_factory.mktemp("nx-27017"))
    yield store
    store.stop()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    marker = request.node.get_closest_marker("nx_gap")
    if marker is not None and name == NX:
        request.applymarker(pytest.mark.xfail(reason=f"nx-27017: {marker.args[0]}", strict=True))
    return name


@pytest.fixture
def settings() -> Settings:
    # no rescan loop: API tests do not watch names; the scanner tests turn it on
    return Settings(
        mongodb_uri="mongodb://127.0.0.1:1/unused", database="unused", reprocess_interval_s=0
    )


@pytest.fixture
async def db(store: str, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    if store == MONGOMOCK:
        yield MongomockDatabase(name)
        return
    uri = request.getfixturevalue("nx_store").uri if store == NX else os.environ["TEST_MONGODB_URI"]
    client = open_client(uri, timeout_ms=5000)  # configured as the service configures it
    yield client[name]
    await client.drop_database(name)
    await client.close()


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, db: Any) -> Any:
    return await aiohttp_client(create_app(settings, db=db))
