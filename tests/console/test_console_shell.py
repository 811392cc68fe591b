"""The console's shell: its files as the app serves them, and signing in from Chromium."""

from __future__ import annotations

import json

import aiohttp
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, expect

from tests.support.browser import BrowserWatch, axe_check, screenshot, sign_in
from tests.support.raw_http import Served, exchange

IMAGES_HEADING = {"name": "Images", "exact": True}


async def get(console: Served, path: str) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(console.url + path, allow_redirects=False) as response,
    ):
        return response.status, dict(response.headers), await response.read()


async def test_the_page_is_html_that_may_load_from_its_own_origin_only(console: Served) -> None:
    status, headers, body = await get(console, "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "connect-src 'self';" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert b'<script type="module" src="/console/js/main.js">' in body


async def test_the_modules_are_served_as_javascript(console: Served) -> None:
    status, headers, body = await get(console, "/console/js/main.js")
    assert status == 200
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "Content-Security-Policy" in headers
    assert b"import" in body


async def test_an_unknown_file_is_a_404_in_the_api_error_shape(console: Served) -> None:
    status, headers, body = await get(console, "/console/nope.js")
    assert status == 404
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(body)
    assert error["code"] == 5
    assert error["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/console/../app/main.py",
        "/console/%2e%2e/app/main.py",
        "/console/js/../../serving.py",
        "/console/..%2fserving.py",
        "/console//etc/passwd",
    ],
)
async def test_no_path_reaches_the_disk(console: Served, path: str) -> None:
    """Sent as raw bytes: an HTTP client would remove the `..` before sending."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answer = await exchange(console.port, request.encode())
    assert answer.status == 404, path
    assert b"import" not in answer.body
    assert answer.json()["code"] == 5


async def test_the_search_labels_offer_enum_values(console: Served) -> None:
    status, headers, body = await get(console, "/console/search-labels.json")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    labels = {label["label"]: label for label in json.loads(body)["labels"]}
    assert set(labels["Severity"]["values"]) >= {
        "LOW_VULNERABILITY_SEVERITY",
        "MODERATE_VULNERABILITY_SEVERITY",
        "IMPORTANT_VULNERABILITY_SEVERITY",
        "CRITICAL_VULNERABILITY_SEVERITY",
    }
    assert labels["Fixable"]["values"] == ["true", "false"]
    assert labels["Image"]["values"] == []


async def test_opening_the_console_shows_the_sign_in_form(page: Page) -> None:
    await page.goto("/")
    await expect(page.get_by_label("API token", exact=True)).to_be_focused()
    await expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert await axe_check(page) == []
    await screenshot(page, "sign-in")


async def test_a_wrong_token_is_refused_and_stays_on_sign_in(
    page: Page, watch: BrowserWatch
) -> None:
    await page.goto("/")
    await page.get_by_label("API token", exact=True).fill("not-a-token")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.get_by_label("API token", exact=True)).to_be_visible()
    await expect(page.get_by_role("heading", **IMAGES_HEADING)).to_have_count(0)
    assert await page.evaluate("() => sessionStorage.length") == 0
    assert any("/v1/" in url for url in watch.requests)  # the token was put to the service


async def test_the_admin_token_reaches_the_images_page(
    page: Page, admin_token: str, watch: BrowserWatch, console: Served
) -> None:
    await sign_in(page, admin_token)
    await expect(page.get_by_role("button", name="Sign in", exact=True)).to_have_count(0)
    assert await page.evaluate("() => sessionStorage.length") == 1
    assert watch.requests
    assert all(watch.is_own(url) for url in watch.requests)
    assert any(url.startswith(console.url + "/v1/images") for url in watch.requests)


async def test_the_accessibility_check_finds_what_it_should(page: Page) -> None:
    """The check itself: a button with no name is a critical violation to axe."""
    await page.goto("/")
    await page.evaluate("() => document.body.append(document.createElement('button'))")
    assert [v["id"] for v in await axe_check(page)] == ["button-name"]


async def test_a_request_to_another_host_is_stopped_and_reported(
    page: Page, watch: BrowserWatch
) -> None:
    """The guard itself (the page's CSP would stop a fetch first): going to another host
    gets nothing, and the test learns of it."""
    with pytest.raises(PlaywrightError, match="ERR_BLOCKED_BY_CLIENT"):
        await page.goto("http://example.org/x")
    assert watch.foreign == ["http://example.org/x"]
    assert watch.problems() == ["request to another host: http://example.org/x"]
    watch.foreign.clear()  # seen: the teardown would fail the test for it


async def test_an_uncaught_error_in_the_page_is_reported(page: Page, watch: BrowserWatch) -> None:
    await page.goto("/")
    async with page.context.expect_event("weberror"):
        await page.evaluate("() => { setTimeout(() => { throw new Error('boom'); }); }")
    assert len(watch.errors) == 1
    assert "boom" in watch.errors[0]
    watch.errors.clear()  # seen: the teardown would fail the test for it
