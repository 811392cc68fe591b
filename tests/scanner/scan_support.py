"""Apps wired to the test registries, a fresh nx-27017 database each, and feed imports."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.cli.vulndb import import_feed
from app.composition import rematch_stored_images
from app.config import Settings
from app.scanner.registry.settings import RegistrySettings
from tests.support.oci.samples import write_feed


def scan_settings(*hosts: str, **overrides: Any) -> Settings:
    registry = RegistrySettings(
        insecure_registries=frozenset(hosts),
        allowlist=frozenset(overrides.pop("allowlist", ())),
        max_retries=overrides.pop("max_retries", 1),
        backoff_base_s=0.05,
        request_timeout_s=overrides.pop("request_timeout_s", 10.0),
        auth_file=overrides.pop("auth_file", None),
    )
    base = Settings(
        mongodb_uri="mongodb://127.0.0.1:1/unused",
        database="unused",
        registry=registry,
        reprocess_interval_s=0,
    )
    return base.with_overrides(**overrides)


def unique_repo(prefix: str = "team/app") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def load_feed(db: Any, directory: Path, records: list[dict[str, Any]]) -> int:
    """Import OSV records the way `image-service vulndb import` does, re-matching after."""
    write_feed(directory, records)
    report = await import_feed(db, directory, progress=False)
    if not report.changed:
        return 0
    return await rematch_stored_images(db, scan_settings())


async def metric(client: Any, name: str) -> float:
    text = await (await client.get("/metrics")).text()
    found = re.search(rf"^image_service_scanner_{name}_total (\S+)$", text, re.M)
    assert found, f"metric {name} missing"
    return float(found.group(1))


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 20.0, step_s: float = 0.1
) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110  (polling another process)
            await asyncio.sleep(step_s)
