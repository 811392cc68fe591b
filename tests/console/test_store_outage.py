"""The console when its store dies under it: the failure in words, then the same view back once
the store returns, with nothing lost."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, expect

from app.auth.permissions import ADMIN
from app.cli.local_store import start_local_store
from app.keys import IMAGES
from schemas.image import normalize_image
from storage.mongo import open_client
from tests.support.access import issue_token
from tests.support.browser import CONTEXT_DEFAULTS, BrowserWatch, sign_in
from tests.support.images import component, image, vuln
from tests.support.raw_http import served

NAMES = "table[aria-label=Images] tbody tr td:first-child a"


async def test_a_killed_store_is_explained_and_the_view_comes_back_with_it(
    browser: Browser, settings: Any, tmp_path: Path
) -> None:
    store = await asyncio.to_thread(start_local_store, tmp_path)
    client = open_client(store.uri, timeout_ms=2000)
    try:
        db = client["outage"]
        token = await issue_token(db, settings, (ADMIN,), name="outage-admin")
        async with served(settings, db) as app:
            images = [
                image(
                    f"registry.example.com/outage/app{i}:1",
                    component("zlib", "1.2", vuln(f"CVE-2024-{i}", 7.5, "IMPORTANT")),
                )
                for i in range(3)
            ]
            await app.runner.app[IMAGES].upsert(
                [normalize_image(i) for i in images], keep_last_updated=True
            )
            context = await browser.new_context(base_url=app.url, **CONTEXT_DEFAULTS)
            watch = BrowserWatch(origin=app.url)
            watch.expect_status(503, 504)  # what the page is to explain
            await watch.attach(context)
            page = await context.new_page()
            await sign_in(page, token)
            await expect(page.locator(NAMES)).to_have_count(3)

            os.kill(store.process.pid, signal.SIGKILL)
            await asyncio.to_thread(store.process.wait)
            await page.get_by_role("button", name="Search", exact=True).click()
            alert = page.get_by_role("alert")
            await expect(alert).to_contain_text("unavailable", timeout=30_000)
            await expect(page.locator(NAMES)).to_have_count(0)

            store = await asyncio.to_thread(start_local_store, tmp_path, port=store.port)
            await alert.get_by_role("button", name="Try again").click()
            await expect(page.locator(NAMES)).to_have_count(3, timeout=30_000)
            await expect(page.locator(".count")).to_have_text("3 images")
            await context.close()
            assert watch.problems() == []
    finally:
        await client.close()
        await asyncio.to_thread(store.stop)
