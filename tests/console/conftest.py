"""The console tests: the app served on 127.0.0.1 (as `image-service serve` serves it) on an
nx-27017 database, and Debian's Chromium driving it.

One Chromium serves the whole session and each test gets fresh browser contexts, so these tests
and their async fixtures all run in the session's event loop (Playwright's connection lives in
the loop that started it). The root conftest's async fixtures they need are redefined here for
that loop.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page
from pytest_asyncio import is_async_test

from app.auth.permissions import ADMIN
from app.keys import IMAGES
from schemas.image import normalize_image
from storage.mongo import open_client
from tests.support.browser import (
    CONTEXT_DEFAULTS,
    BrowserWatch,
    chromium_problem,
    launched_chromium,
)
from tests.support.raw_http import Served, served
from tests.support.registry import RunningRegistry, start_registry, stop_registry
from tests.support.stores import NX

HERE = Path(__file__).parent
NewPage = Callable[..., Awaitable[Page]]
TokenFor = Callable[..., Awaitable[str]]
PutImages = Callable[[Iterable[dict[str, Any]]], Awaitable[None]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run every test in this folder in the session's event loop, where the browser lives."""
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if item.path.is_relative_to(HERE) and is_async_test(item):
            item.add_marker(session_loop, append=False)


@pytest.fixture
def store() -> str:
    return NX


@pytest_asyncio.fixture(loop_scope="session")
async def db(nx_store: Any) -> AsyncIterator[Any]:
    """A fresh database on the session's nx-27017."""
    client = open_client(nx_store.uri, timeout_ms=5000)
    name = f"console_{uuid.uuid4().hex[:12]}"
    yield client[name]
    await client.drop_database(name)
    await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def admin_token(token_for: TokenFor) -> str:
    return await token_for(ADMIN, name="test-admin")


@pytest_asyncio.fixture(loop_scope="session")
async def console(settings: Any, db: Any) -> AsyncIterator[Served]:
    """The app on a real port of 127.0.0.1: `console.url`, `console.runner.app`."""
    async with served(settings, db) as running:
        yield running


@pytest.fixture
def put_images(console: Served) -> PutImages:
    """Store wire-shaped images through the app's image service (as tests/api does)."""

    async def put(images: Iterable[dict[str, Any]]) -> None:
        batch = [normalize_image(image) for image in images]
        await console.runner.app[IMAGES].upsert(batch, keep_last_updated=True)

    return put


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if problem := chromium_problem():
        pytest.fail(problem)
    async with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def watch(console: Served) -> BrowserWatch:
    """What the test's pages requested and complained about (checked after the test)."""
    return BrowserWatch(origin=console.url)


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(
    browser: Browser, console: Served, watch: BrowserWatch
) -> AsyncIterator[NewPage]:
    """`await new_page(**context_options)`: a page in a fresh context (its own storage) whose
    relative URLs go to the app. After the test the contexts close, and the test fails if a
    page reached another host, threw, logged an error or got an unexpected 5xx."""
    contexts = []

    async def open_page(**options: Any) -> Page:
        context = await browser.new_context(base_url=console.url, **{**CONTEXT_DEFAULTS, **options})
        contexts.append(context)
        await watch.attach(context)
        return await context.new_page()

    yield open_page
    for context in contexts:
        await context.close()
    if problems := watch.problems():
        pytest.fail("the browser saw:\n" + "\n".join(problems), pytrace=False)


@pytest_asyncio.fixture(loop_scope="session")
async def page(new_page: NewPage) -> Page:
    """A page on a laptop-sized screen, not yet opened (`await page.goto("/")`)."""
    return await new_page()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A real registry (Debian's docker-registry, no auth) for the pages that scan."""
    running, process = start_registry(tmp_path_factory.mktemp("registry"))
    yield running
    stop_registry(process)
