"""Images for the images-page tests, and the API's own answers to compare the page with."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from playwright.async_api import Page

from tests.console.steps import call_api
from tests.support.images import component, image, vuln
from tests.support.raw_http import Served

ROWS = "table[aria-label=Images] tbody tr"
NAMES = f"{ROWS} td:first-child a"
CRITICAL_DEBIAN = "Severity:CRITICAL_VULNERABILITY_SEVERITY+Image OS:debian"


def catalog(count: int = 60) -> list[dict[str, Any]]:
    """Images of three teams, half Debian, a critical CVE in every fourth, a fixable important
    one in every third, CVSS rising with the number."""
    images = []
    for i in range(count):
        vulns = [vuln(f"CVE-2024-{1000 + i}", 2.0 + (i % 50) / 10, "LOW")]
        if i % 4 == 0:
            vulns.append(vuln(f"CVE-2023-{2000 + i}", 9.0 + (i % 10) / 10, "CRITICAL"))
        if i % 3 == 0:
            vulns.append(vuln("CVE-2022-0001", 7.5, "IMPORTANT", fixed_by="1.2.4"))
        images.append(
            image(
                f"registry.example.com/team{i % 3}/app{i:02d}:1.{i}",
                component("openssl", f"1.{i}", *vulns),
                os="debian:12" if i % 2 == 0 else "alpine:3.20",
                created=f"2024-0{1 + i % 9}-1{i % 10}T08:00:00Z",
                last_updated=f"2024-06-01T00:{i:02d}:00Z",
            )
        )
    return images


async def api_names(console: Served, token: str, **params: str) -> list[str]:
    status, body = await call_api(console, token, "GET", "/v1/images?" + urlencode(params))
    assert status == 200, body
    return [row["name"] for row in body.get("images", [])]


async def api_count(console: Served, token: str, query: str = "") -> int:
    path = "/v1/imagescount?" + urlencode({"query": query})
    status, body = await call_api(console, token, "GET", path)
    assert status == 200, body
    return int(body["count"])


async def search(page: Page, query: str) -> None:
    bar = page.get_by_role("combobox", name="Search")
    await bar.fill(query)
    await bar.press("Enter")
