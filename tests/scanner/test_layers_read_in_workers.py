"""The layer reader's tests (tests/unit/app/scanner/test_layers_read.py), every one of them run
again with the layers read by a pool of two worker processes instead of a thread."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from app.scanner.layers.analysis import LayerAnalyser
from app.scanner.layers.workers import WorkerPool
from tests.unit.app.scanner.test_layers_read import *  # noqa: F403 - the same tests, collected here

# one pool for the module: its workers outlive each test, as they outlive each scan
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pool() -> AsyncIterator[WorkerPool]:
    workers = WorkerPool(2)
    yield workers
    await workers.close()
    assert workers.pids == []


@pytest.fixture
def analyser(pool: WorkerPool) -> LayerAnalyser:
    return pool
