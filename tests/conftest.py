"""Fixtures: settings built in code, a fresh database per test on each store, the app client."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest

from app.auth.permissions import ADMIN
from app.cli.local_store import LocalStore, start_local_store
from app.config import Settings
from app.main import create_app
from storage.mongo import open_client
from tests.support.access import bearer, issue_token
from tests.support.go_build import GoBinary, build_go_binary
from tests.support.stores import MONGODB, MONGOMOCK, NX, MongomockDatabase
from tests.support.swagger import missing_swagger, uses_swagger

STORES = [MONGOMOCK, NX] + ([MONGODB] if os.environ.get("TEST_MONGODB_URI") else [])


# tests/<kind>/…: the folder says what a test needs (`pytest -m unit` runs only the I/O-free ones).
KINDS = ("unit", "integration", "api", "cli", "scanner", "deploy", "fuzz", "console")


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


@pytest.fixture(scope="session")
def go_binary(tmp_path_factory: pytest.TempPathFactory) -> GoBinary:
    """A Go executable with versioned dependencies, built once per session by the Go toolchain."""
    return build_go_binary(tmp_path_factory.mktemp("go-build"))


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


TokenFor = Callable[..., Awaitable[str]]
AppClient = Callable[..., Awaitable[Any]]


@pytest.fixture
def token_for(settings: Settings, db: Any) -> TokenFor:
    """`await token_for("Analyst", name=…, expiration=…)`: a token with those roles on `db`."""

    async def issue(*roles: str, **options: Any) -> str:
        return await issue_token(db, settings, roles or (ADMIN,), **options)

    return issue


@pytest.fixture
async def admin_token(token_for: TokenFor) -> str:
    return await token_for(ADMIN, name="test-admin")


@pytest.fixture
def app_client(aiohttp_client: Any) -> AppClient:
    """`await app_client(settings, db)`: the app on `db`, every request with an Admin token
    (`roles=` for others)."""

    async def start(settings: Settings, db: Any, *, roles: tuple[str, ...] = (ADMIN,)) -> Any:
        token = await issue_token(db, settings, roles, name="test-client")
        return await aiohttp_client(create_app(settings, db=db), headers=bearer(token))

    return start


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, db: Any, admin_token: str) -> Any:
    """The app on `db`; every request carries an Admin token unless it sends its own."""
    return await aiohttp_client(create_app(settings, db=db), headers=bearer(admin_token))


@pytest.fixture
async def anonymous(client: Any) -> AsyncIterator[aiohttp.ClientSession]:
    """A session to the `client`'s server that sends no credentials."""
    async with aiohttp.ClientSession(base_url=client.make_url("/")) as session:
        yield session
