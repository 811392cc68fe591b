"""The image detail page (`#/images/<id>`): metadata, components, the CVE table with its
filters in the hash, snoozed vulnerabilities, rescan for those allowed, a missing image."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from app.config import Settings
from tests.console.steps import call_api, sign_in_at
from tests.scanner.scan_support import load_feed, scan_settings, unique_repo
from tests.support.browser import BrowserWatch, axe_check, screenshot
from tests.support.images import component, digest, image, vuln
from tests.support.oci.samples import FEED_V1, push_debian
from tests.support.raw_http import Served
from tests.support.registry import RunningRegistry

PutImages = Callable[[Iterable[dict[str, Any]]], Awaitable[None]]
TokenFor = Callable[..., Awaitable[str]]
Row = tuple[str, str, str, str]  # CVE, severity key, component, snoozed "1"/"0"

NAME = "registry.example/team/shop:2.1"
SEVERITY_ORDER = ["critical", "important", "moderate", "low", "unknown"]
# What reaches past the right edge of the screen, but inside a scrolling table frame
STICKING_OUT_JS = """() => [...document.querySelectorAll('body *')]
  .filter((e) => !e.closest('.table-wrap') || e.matches('.table-wrap'))
  .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map((e) => `${e.tagName}.${e.className}`)"""
ROWS_JS = """() => [...document.querySelectorAll('#cve-table tbody tr')].map((tr) =>
  [tr.dataset.cve, tr.dataset.severity, tr.dataset.component, tr.dataset.snoozed])"""


def shop() -> dict[str, Any]:
    """Three components: a CVE shared by two of them, a fixable and an unfixed one, one
    deferred (snoozed) and one suppressed (snoozed) vulnerability, a clean component."""
    critical = vuln("CVE-2024-1001", 9.8, "CRITICAL", fixed_by="3.0.13-1")
    critical["cvssV3"] = {"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "score": 9.8}
    openssl = component(
        "openssl", "3.0.11-1", critical, vuln("CVE-2024-1002", 3.1, "LOW", fixed_by="")
    )
    zlib = component(
        "zlib",
        "1.2.13",
        vuln("CVE-2024-1001", 9.8, "CRITICAL"),
        vuln("CVE-2024-1003", 7.5, "IMPORTANT", fixed_by="1.3"),
        vuln("CVE-2024-1004", 5.3, "MODERATE", state="DEFERRED"),
        vuln("CVE-2024-1005", 4.0, "MODERATE", suppressed=True),
    )
    zlib["layerIndex"] = 1
    bash = component("bash", "5.2.15")
    img = image(NAME, openssl, zlib, bash, labels={"maintainer": "shop team", "tier": "web"})
    img["metadata"]["v1"]["layers"] = [
        {"instruction": "ADD", "value": "file:rootfs in /", "created": "2024-02-01T00:00:00Z"},
        {
            "instruction": "RUN",
            "value": "apt-get install -y zlib1g",
            "created": "2024-02-02T00:00:00Z",
        },
    ]
    img["metadata"]["v1"]["entrypoint"] = ["/entrypoint.sh"]
    return img


@pytest.fixture
def settings(registry: RunningRegistry) -> Settings:
    """Scanning may reach the test registry, and no other loopback port."""
    return scan_settings(registry.host)


async def api_image(console: Served, token: str, image_id: str, **query: str) -> Any:
    status, body = await call_api(console, token, "GET", f"/v1/images/{image_id}", params=query)
    assert status == 200, body
    return body


def expected_rows(img: dict[str, Any]) -> list[Row]:
    """The page's order: worst severity first, then the highest CVSS, CVE, component."""
    rows = []
    for comp in img["scan"]["components"]:
        for v in comp.get("vulns") or []:
            key = v["severity"].split("_")[0].lower()
            snoozed = v.get("suppressed") or v.get("state", "OBSERVED") != "OBSERVED"
            rows.append(
                (SEVERITY_ORDER.index(key), -v["cvss"], v["cve"], comp["name"], key, snoozed)
            )
    rows.sort(key=lambda r: r[:4])
    return [(cve, key, name, "1" if snoozed else "0") for _, _, cve, name, key, snoozed in rows]


async def shown_rows(page: Page, count: int) -> list[Row]:
    await expect(page.locator("#cve-table tbody tr")).to_have_count(count)
    return [tuple(row) for row in await page.evaluate(ROWS_JS)]


def hash_params(page: Page) -> dict[str, list[str]]:
    fragment = urlsplit(page.url).fragment
    return parse_qs(fragment.partition("?")[2])


async def open_image(
    page: Page, token: str, image_id: str, query: str = "", *, heading: str = NAME
) -> None:
    """Follow a link to the image while signed out: sign in, and land on it."""
    await sign_in_at(page, token, f"/images/{quote(image_id, safe='')}{query}", heading)


@pytest_asyncio.fixture(loop_scope="session")
async def shop_id(put_images: PutImages) -> str:
    img = shop()
    await put_images([img])
    return str(img["id"])


async def test_the_page_shows_the_images_metadata_and_cves_as_the_api_does(
    page: Page, console: Served, admin_token: str, shop_id: str
) -> None:
    from_hash = "#/images?q=Image%3Ashop"
    await open_image(page, admin_token, shop_id, f"?from={quote(from_hash, safe='')}")
    wire = await api_image(console, admin_token, shop_id)
    expected = expected_rows(wire)
    assert len(expected) == 4  # the two snoozed ones are left out by default
    assert await shown_rows(page, len(expected)) == expected
    critical = page.locator("#cve-table tbody tr", has_text="openssl")
    await expect(critical.first.locator(".sev")).to_have_text("Critical")  # in words too
    link = page.get_by_role("link", name="CVE-2024-1001").first
    await expect(link).to_have_attribute("href", "https://example.org/CVE-2024-1001")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    await expect(link).to_have_attribute("target", "_blank")
    table = page.locator("#cve-table")
    await expect(table).to_contain_text("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    overview = page.locator("dl.meta")
    await expect(overview).to_contain_text(shop_id)
    await expect(overview).to_contain_text("debian:12")
    await expect(overview).to_contain_text('["/entrypoint.sh"]')
    await expect(page.get_by_role("table", name="Image labels")).to_contain_text("shop team")
    layers = page.get_by_role(
        "table", name="Layers, oldest first, with the components each one added"
    )
    await expect(layers).to_contain_text("apt-get install -y zlib1g")
    await expect(page.get_by_role("button", name="Rescan", exact=True)).to_be_visible()
    await expect(page.locator("main .back a")).to_have_attribute("href", from_hash)

    # a component's vulnerabilities, opened from the keyboard
    toggle = page.get_by_role("button", name="zlib: 2 vulnerabilities")
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await toggle.focus()
    await page.keyboard.press("Enter")
    toggle = page.get_by_role("button", name="zlib: 2 vulnerabilities")
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(toggle).to_be_focused()
    nested = page.get_by_role("table", name="Vulnerabilities of zlib 1.2.13")
    await expect(nested.locator("tbody tr")).to_have_count(2)
    assert await axe_check(page) == []
    await screenshot(page, "image-detail")


async def test_the_severity_and_fixable_filters_change_rows_and_hash(
    page: Page, console: Served, admin_token: str, shop_id: str
) -> None:
    await open_image(page, admin_token, shop_id)
    expected = expected_rows(await api_image(console, admin_token, shop_id))
    await shown_rows(page, len(expected))

    await page.get_by_role("checkbox", name="Critical").uncheck()
    without_critical = [row for row in expected if row[1] != "critical"]
    assert await shown_rows(page, len(without_critical)) == without_critical
    assert hash_params(page)["severity"] == ["important,moderate,low,unknown"]
    await expect(page.get_by_role("checkbox", name="Critical")).to_be_focused()

    await page.get_by_role("checkbox", name="Fixable only").check()
    fixable = [("CVE-2024-1003", "important", "zlib", "0")]
    assert await shown_rows(page, 1) == fixable
    assert hash_params(page)["fixable"] == ["1"]

    # the address reproduces the view in a fresh tab
    address = page.url
    again = await page.context.new_page()  # its own sessionStorage: signed out
    await sign_in_at(again, admin_token, address.partition("#")[2], NAME)
    assert await shown_rows(again, 1) == fixable
    await expect(again.get_by_role("checkbox", name="Critical")).not_to_be_checked()
    await expect(again.get_by_role("checkbox", name="Fixable only")).to_be_checked()

    await page.get_by_role("checkbox", name="Fixable only").uncheck()
    await page.get_by_role("checkbox", name="Critical").check()
    assert await shown_rows(page, len(expected)) == expected
    assert "severity" not in hash_params(page)


async def test_snoozed_vulnerabilities_are_shown_on_request_and_marked(
    page: Page, console: Served, admin_token: str, shop_id: str
) -> None:
    await open_image(page, admin_token, shop_id)
    await shown_rows(page, 4)
    await page.get_by_role("checkbox", name="Show snoozed vulnerabilities").check()
    wire = await api_image(console, admin_token, shop_id, includeSnoozed="true")
    expected = expected_rows(wire)
    assert len(expected) == 6
    assert await shown_rows(page, 6) == expected
    assert hash_params(page)["snoozed"] == ["1"]
    deferred = page.locator("#cve-table tr[data-cve='CVE-2024-1004']")
    await expect(deferred).to_contain_text("Snoozed (deferred)")
    await expect(page.locator("#cve-table tr[data-cve='CVE-2024-1005']")).to_contain_text("Snoozed")


async def test_on_a_phone_the_tables_scroll_inside_their_frames(
    new_page: Callable[..., Awaitable[Page]], admin_token: str, shop_id: str
) -> None:
    page = await new_page(viewport={"width": 390, "height": 844})
    await open_image(page, admin_token, shop_id)
    await shown_rows(page, 4)
    sticking_out = await page.evaluate(STICKING_OUT_JS)
    assert sticking_out == []
    wide = page.locator("#cve-table")  # wider than the screen, scrolled in its frame
    assert await wide.evaluate("(t) => t.scrollWidth > t.parentElement.clientWidth")
    await screenshot(page, "image-detail-phone")


async def test_an_analyst_sees_no_rescan_button(
    page: Page, token_for: TokenFor, shop_id: str
) -> None:
    analyst = await token_for("Analyst", name="analyst")
    await open_image(page, analyst, shop_id)
    await shown_rows(page, 4)
    await expect(page.get_by_role("button", name="Rescan")).to_have_count(0)


async def test_a_failed_rescan_is_said_in_words(
    page: Page, admin_token: str, put_images: PutImages
) -> None:
    """The outbound policy refuses a registry on loopback before connecting: a 400."""
    img = image("127.0.0.1:9/team/local:1", seed="local")
    await put_images([img])
    await open_image(page, admin_token, str(img["id"]), heading="127.0.0.1:9/team/local:1")
    await page.get_by_role("button", name="Rescan", exact=True).click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("The rescan failed.")
    await expect(page.get_by_role("button", name="Rescan", exact=True)).to_be_enabled()


async def test_an_unknown_id_says_the_image_is_not_in_the_inventory(
    page: Page, admin_token: str, watch: BrowserWatch
) -> None:
    missing = digest("never stored")
    await open_image(page, admin_token, missing, heading="Image not found")
    await expect(page.get_by_role("alert")).to_contain_text("not in the inventory")
    await expect(page.get_by_role("alert")).to_contain_text(missing)
    assert any(f"/v1/images/{quote(missing, safe='')}" in url for url in watch.requests)


async def test_a_rescan_shows_the_fresh_scan_from_the_registry(
    page: Page,
    console: Served,
    db: Any,
    admin_token: str,
    registry: RunningRegistry,
    put_images: PutImages,
    tmp_path: Path,
) -> None:
    """The image was stored with an old scan that the registry's content contradicts."""
    await load_feed(db, tmp_path / "feed", FEED_V1)
    pushed = push_debian(registry, unique_repo(), "1.0")
    name = pushed.reference(registry)
    stale = image(name, component("stale", "1.0", vuln("CVE-2099-0001", 5.0, "MODERATE")))
    stale["id"] = pushed.digest
    await put_images([stale])
    await open_image(page, admin_token, pushed.digest, heading=name)
    assert await shown_rows(page, 1) == [("CVE-2099-0001", "moderate", "stale", "0")]

    await page.get_by_role("button", name="Rescan", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="Rescanned.")).to_be_visible()
    fresh = await api_image(console, admin_token, pushed.digest)
    expected = expected_rows(fresh)
    assert expected, "the feed matched nothing: the test would not check the rows"
    assert await shown_rows(page, len(expected)) == expected
    await expect(page.locator("dl.meta")).to_contain_text(fresh["scan"]["operatingSystem"])
    await expect(page.get_by_role("button", name="Rescan", exact=True)).to_be_focused()
