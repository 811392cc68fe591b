"""The images page's actions in Chromium: export as an NDJSON download (a large one confirmed
first), delete by query after its dry-run count, and neither offered beyond the caller's role."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from app.auth.permissions import ANALYST
from tests.console.image_catalog import NAMES, api_count, api_names, catalog, search
from tests.support.browser import sign_in
from tests.support.images import digest, image
from tests.support.raw_http import Served


async def test_delete_by_query_shows_the_dry_run_count_before_deleting(
    page: Page, console: Served, admin_token: str, put_images: Any
) -> None:
    await put_images(catalog(30))
    await sign_in(page, admin_token)
    query = "Image:registry.example.com/team2"
    await search(page, query)
    selected = await api_count(console, admin_token, query)
    await expect(page.locator(".count")).to_have_text(f"{selected} images match")

    await page.get_by_role("button", name="Delete matching…").click()
    dialog = page.get_by_role("dialog", name="Delete images")
    await expect(dialog).to_contain_text(f"{selected} images match")
    assert await api_count(console, admin_token) == 30  # a dry run deleted nothing

    await dialog.get_by_role("button", name=f"Delete {selected} images").click()
    await expect(dialog).to_have_count(0)
    await expect(page.locator(".count")).to_have_text("0 images match")
    assert await api_count(console, admin_token, query) == 0
    assert await api_count(console, admin_token) == 30 - selected


async def test_without_a_query_delete_is_disabled(
    page: Page, admin_token: str, put_images: Any
) -> None:
    await put_images(catalog(3))
    await sign_in(page, admin_token)
    await expect(page.get_by_role("button", name="Delete matching…")).to_be_disabled()


async def test_an_analyst_sees_neither_delete_nor_scan(
    page: Page, token_for: Any, put_images: Any
) -> None:
    await put_images(catalog(3))
    await sign_in(page, await token_for(ANALYST, name="analyst"))
    await expect(page.locator(NAMES)).to_have_count(3)
    await expect(page.get_by_role("button", name="Delete matching…")).to_have_count(0)
    navigation = page.get_by_role("navigation", name="Main")
    await expect(navigation.get_by_role("link", name="Images", exact=True)).to_be_visible()
    await expect(navigation.get_by_role("link", name="Scan", exact=True)).to_have_count(0)
    await expect(page.get_by_role("button", name="Export NDJSON")).to_be_visible()


async def test_export_downloads_the_query_as_ndjson(
    page: Page, console: Served, admin_token: str, put_images: Any
) -> None:
    await put_images(catalog(20))
    await sign_in(page, admin_token)
    query = "Image OS:alpine"
    await search(page, query)
    await expect(page.locator(".count")).to_have_text("10 images match")

    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Export NDJSON").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".ndjson")
    saved = Path(await download.path())
    lines = (await asyncio.to_thread(saved.read_text)).splitlines()
    exported = sorted(json.loads(line)["result"]["image"]["name"]["fullName"] for line in lines)
    assert exported == sorted(await api_names(console, admin_token, query=query))
    await expect(page.get_by_role("status").filter(has_text="Exported")).to_have_text(
        "Exported 10 lines."
    )


async def test_after_a_delete_the_page_says_how_many_went(
    page: Page, admin_token: str, put_images: Any
) -> None:
    await put_images(catalog(6))
    await sign_in(page, admin_token)
    await search(page, "Image OS:alpine")
    await page.get_by_role("button", name="Delete matching…").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete 3 images").click()
    await expect(page.get_by_role("status").filter(has_text="Deleted")).to_have_text(
        "Deleted 3 images."
    )


async def test_a_large_export_is_confirmed_first_with_the_command_line_way(
    page: Page, admin_token: str, put_images: Any
) -> None:
    """Over 10,000 images the browser would hold the whole file: it asks first, and says how
    the command line streams it to disk instead."""
    bare = image("registry.example.com/bulk/app:1", scanned=None)
    await put_images([{**bare, "id": digest(f"bulk-{i}")} for i in range(10_001)])
    await sign_in(page, admin_token)
    await page.get_by_role("button", name="Export NDJSON").click()
    dialog = page.get_by_role("dialog", name="A large export")
    await expect(dialog).to_contain_text("10,001 images")
    await expect(dialog).to_contain_text("curl -sN")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_have_count(0)
    await expect(page.get_by_role("button", name="Export NDJSON")).to_be_focused()
