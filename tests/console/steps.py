"""Steps the page tests share: signing in straight onto a page, the API as a client sees it."""

from __future__ import annotations

from typing import Any

import aiohttp
from playwright.async_api import Page, expect

from tests.support.raw_http import Served


async def sign_in_at(page: Page, token: str, route: str, heading: str) -> None:
    """Open `/#<route>`, sign in there with `token` and wait for the page's heading: the
    console renders that page first (the images page is never loaded)."""
    await page.goto(f"/#{route}")
    await page.get_by_label("API token", exact=True).fill(token)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


async def call_api(
    console: Served, token: str, method: str, path: str, **options: Any
) -> tuple[int, Any]:
    """One request to the app with `token`: its status and its JSON body (None when empty)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, f"{console.url}{path}", **options) as response,
    ):
        text = await response.text()
        return response.status, (await response.json() if text else None)
