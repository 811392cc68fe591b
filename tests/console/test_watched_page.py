"""The Watched images page in Chromium: watching a name pushed to a real registry, then
unwatching it after the confirm step; the API agrees at every step."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from app.auth.permissions import ANALYST
from app.config import Settings
from tests.console.steps import call_api, sign_in_at
from tests.scanner.scan_support import scan_settings, unique_repo
from tests.support.browser import axe_check, screenshot
from tests.support.oci.samples import push_debian
from tests.support.raw_http import Served
from tests.support.registry import RunningRegistry

HEADING = "Watched images"
DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$")


@pytest.fixture
def settings(registry: RunningRegistry) -> Settings:
    return scan_settings(registry.host)


async def watched(console: Served, token: str) -> list[dict[str, Any]]:
    status, body = await call_api(console, token, "GET", "/v1/watchedimages")
    assert status == 200, body
    return list(body.get("watchedImages", []))


async def test_watch_then_unwatch_through_the_page(
    page: Page, console: Served, admin_token: str, registry: RunningRegistry
) -> None:
    pushed = push_debian(registry, unique_repo(), "1.0")
    name = pushed.reference(registry)
    await sign_in_at(page, admin_token, "/watched", HEADING)
    await expect(page.get_by_text("No image is watched yet.")).to_be_visible()

    await page.get_by_label("Image name", exact=True).fill(name)
    await page.get_by_role("button", name="Watch", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="Now watching")).to_contain_text(name)
    [entry] = await watched(console, admin_token)
    assert entry["name"] == name
    assert entry["digest"] == pushed.digest
    assert entry["lastChecked"]
    row = page.get_by_role("row").filter(has_text=name)
    await expect(row.get_by_role("cell")).to_have_text(
        [name, DATE, pushed.digest, "none", "Remove"], use_inner_text=True
    )
    await expect(row.locator("time")).to_have_attribute("datetime", entry["lastChecked"])
    assert await axe_check(page) == []
    await screenshot(page, "watched")

    # the confirm step: Escape keeps the name
    await row.get_by_role("button", name=f"Remove {name}").click()
    dialog = page.get_by_role("dialog", name="Stop watching this image?")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    assert await axe_check(page) == []
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(row.get_by_role("button", name=f"Remove {name}")).to_be_focused()
    assert [e["name"] for e in await watched(console, admin_token)] == [name]

    await row.get_by_role("button", name=f"Remove {name}").click()
    await dialog.get_by_role("button", name="Remove", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="Stopped watching")).to_contain_text(
        name
    )
    await expect(page.get_by_text("No image is watched yet.")).to_be_visible()
    assert await watched(console, admin_token) == []


async def test_a_name_that_cannot_be_watched_says_why(page: Page, admin_token: str) -> None:
    await sign_in_at(page, admin_token, "/watched", HEADING)
    await page.get_by_label("Image name", exact=True).fill("Bad Name")
    await page.get_by_role("button", name="Watch", exact=True).click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("That name cannot be watched")
    await expect(alert).to_contain_text("failed to parse name")
    await expect(page.get_by_text("No image is watched yet.")).to_be_visible()


async def test_an_analyst_reads_the_list_but_cannot_change_it(
    page: Page, console: Served, admin_token: str, token_for: Any, registry: RunningRegistry
) -> None:
    name = push_debian(registry, unique_repo(), "2.0").reference(registry)
    status, body = await call_api(
        console, admin_token, "POST", "/v1/watchedimages", json={"name": name}
    )
    assert (status, body["errorType"]) == (200, "NO_ERROR"), body
    await sign_in_at(page, await token_for(ANALYST, name="analyst"), "/watched", HEADING)
    await expect(page.get_by_role("row").filter(has_text=name)).to_be_visible()
    await expect(page.get_by_label("Image name", exact=True)).to_have_count(0)
    await expect(page.get_by_role("button", name="Watch", exact=True)).to_have_count(0)
    await expect(page.get_by_role("button", name=f"Remove {name}")).to_have_count(0)
