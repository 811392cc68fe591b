"""The Scan page in Chromium: an image pushed to a real local registry scanned from the form,
its result and its link; failures in words; a role without Image write kept out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from app.auth.permissions import ANALYST
from app.config import Settings
from tests.console.steps import call_api, sign_in_at
from tests.scanner.scan_support import load_feed, scan_settings, unique_repo
from tests.support.browser import BrowserWatch, axe_check, screenshot, sign_in
from tests.support.oci.samples import FEED_V1, push_debian
from tests.support.raw_http import Served
from tests.support.registry import LOOPBACK, RunningRegistry, free_port

WAIT_S = 10  # how long the scanner may take to reach the held registry (not a timed assertion)
SEVERITY_LABELS = {
    "CRITICAL_VULNERABILITY_SEVERITY": "Critical",
    "IMPORTANT_VULNERABILITY_SEVERITY": "Important",
    "MODERATE_VULNERABILITY_SEVERITY": "Moderate",
    "LOW_VULNERABILITY_SEVERITY": "Low",
    "UNKNOWN_VULNERABILITY_SEVERITY": "Unknown",
}


@pytest.fixture(scope="module")
def closed_registry() -> str:
    """host:port on loopback where nothing listens (allowed by the outbound policy)."""
    return f"{LOOPBACK}:{free_port()}"


@dataclass
class HeldRegistry:
    """A registry that answers nothing until `release` is set, then 503 with Retry-After."""

    host: str
    release: asyncio.Event = field(default_factory=asyncio.Event)
    asked: asyncio.Event = field(default_factory=asyncio.Event)


@pytest_asyncio.fixture(loop_scope="session")
async def held_registry() -> AsyncIterator[HeldRegistry]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        held.asked.set()
        await held.release.wait()
        writer.write(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, LOOPBACK, 0)
    held = HeldRegistry(f"{LOOPBACK}:{server.sockets[0].getsockname()[1]}")
    async with server:
        yield held
        held.release.set()


@pytest.fixture
def settings(
    registry: RunningRegistry, closed_registry: str, held_registry: HeldRegistry
) -> Settings:
    """Scanning may reach the test registries and the closed port, no other loopback port."""
    hosts = (registry.host, closed_registry, held_registry.host)
    return scan_settings(*hosts, allowlist=hosts[1:])


async def get_image(console: Served, token: str, image_id: str) -> dict[str, Any]:
    status, image = await call_api(console, token, "GET", f"/v1/images/{image_id}")
    assert status == 200, image
    return dict(image)


def severity_texts(image: dict[str, Any]) -> list[str]:
    """ "2 Critical", … for the image's distinct CVEs, worst first (as the page says them)."""
    order = list(SEVERITY_LABELS)
    worst: dict[str, str] = {}
    for component in image["scan"]["components"]:
        for vuln in component.get("vulns", []):
            seen = worst.get(vuln["cve"])
            if seen is None or order.index(vuln["severity"]) < order.index(seen):
                worst[vuln["cve"]] = vuln["severity"]
    counts = {name: list(worst.values()).count(name) for name in order}
    return [f"{n} {SEVERITY_LABELS[name]}" for name, n in counts.items() if n]


async def open_scan(page: Page, token: str) -> None:
    await sign_in_at(page, token, "/scan", "Scan an image")


async def scan(page: Page, name: str, *, force: bool = False) -> None:
    await page.get_by_label("Image name", exact=True).fill(name)
    if force:
        await page.get_by_label("Force a fresh scan").check()
    await page.get_by_role("button", name="Scan", exact=True).click()


async def test_an_image_from_the_registry_is_scanned_and_linked(
    page: Page,
    console: Served,
    db: Any,
    admin_token: str,
    registry: RunningRegistry,
    tmp_path: Path,
) -> None:
    await load_feed(db, tmp_path / "feed", FEED_V1)
    pushed = push_debian(registry, unique_repo(), "1.0")
    name = pushed.reference(registry)
    await open_scan(page, admin_token)

    await scan(page, name, force=True)
    result = page.get_by_role("region", name=f"Scanned {name}")
    await expect(result).to_be_visible()
    await expect(page.get_by_role("heading", name=f"Scanned {name}")).to_be_focused()
    await expect(page.get_by_role("status").filter(has_text="Scanning")).to_have_count(0)

    image = await get_image(console, admin_token, pushed.digest)
    expected = severity_texts(image)
    assert expected, "the feed matched nothing: the test would not check the counts"
    await expect(result.locator(".sev-counts li")).to_have_text(expected)
    await expect(result.get_by_text(pushed.digest, exact=True)).to_be_visible()
    await expect(result.get_by_text(image["scan"]["operatingSystem"], exact=True)).to_be_visible()
    components = result.locator("dt", has_text="Components").locator(
        "xpath=following-sibling::dd[1]"
    )
    await expect(components).to_have_text(str(len(image["scan"]["components"])))
    assert await axe_check(page) == []
    await screenshot(page, "scan")

    link = result.get_by_role("link", name="Open the image")
    assert await link.get_attribute("href") == f"#/images/{quote(pushed.digest, safe='')}"
    await link.click()
    await expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


async def test_progress_while_the_registry_is_silent_then_busy_with_its_retry_time(
    page: Page, admin_token: str, held_registry: HeldRegistry, watch: BrowserWatch
) -> None:
    watch.expect_status(503)
    await open_scan(page, admin_token)
    await scan(page, f"{held_registry.host}/team/app:1.0")
    async with asyncio.timeout(WAIT_S):
        await held_registry.asked.wait()
    progress = page.get_by_role("status").filter(has_text="Scanning")
    await expect(progress).to_contain_text(f"{held_registry.host}/team/app:1.0")
    await expect(page.get_by_role("button", name="Scan", exact=True)).to_be_disabled()
    await expect(progress).to_contain_text("Elapsed: 1 s")  # the seconds count up
    assert await axe_check(page) == []

    held_registry.release.set()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("The registry is busy")
    await expect(alert).to_contain_text("Try again in 120 s.")
    await expect(progress).to_have_count(0)
    await expect(page.get_by_role("button", name="Scan", exact=True)).to_be_enabled()


async def test_a_closed_port_is_said_to_be_unreachable(
    page: Page, admin_token: str, closed_registry: str, watch: BrowserWatch
) -> None:
    watch.expect_status(503)
    await open_scan(page, admin_token)
    await scan(page, f"{closed_registry}/team/app:1.0")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("The registry could not be reached")
    await expect(alert).to_contain_text(f"registry {closed_registry} is unreachable")
    await expect(page.get_by_label("Image name", exact=True)).to_be_focused()
    await expect(page.get_by_role("region", name="Scanned")).to_have_count(0)
    assert await axe_check(page) == []


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        ("Not/A Name", "That is not a valid image name"),
        (f"{LOOPBACK}:1/team/app:1.0", "outbound policy does not allow"),
    ],
)
async def test_a_refused_name_is_said_in_words(
    page: Page, admin_token: str, name: str, sentence: str
) -> None:
    await open_scan(page, admin_token)
    await scan(page, name)
    await expect(page.get_by_role("alert")).to_contain_text(sentence)


async def test_an_unknown_tag_is_said_to_be_not_found(
    page: Page, admin_token: str, registry: RunningRegistry
) -> None:
    await open_scan(page, admin_token)
    await scan(page, f"{registry.host}/{unique_repo()}:missing")
    await expect(page.get_by_role("alert")).to_contain_text("The registry has no such image or tag")


async def test_an_analyst_has_no_scan_page(page: Page, token_for: Any) -> None:
    await sign_in(page, await token_for(ANALYST, name="analyst"))
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Images", exact=True)).to_be_visible()
    await expect(nav.get_by_role("link", name="Scan")).to_have_count(0)
    await page.goto("/#/scan")
    await expect(page.get_by_text("Your role does not allow this page.")).to_be_visible()
    await expect(page.get_by_label("Image name", exact=True)).to_have_count(0)
