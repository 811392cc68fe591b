"""Debian's Chromium driven by Playwright for Python, for the console tests.

No browser is downloaded: Playwright launches /usr/bin/chromium (`make test` installs the
package). A `BrowserWatch` records what every page of a test did on the network and in its
console; a test fails when a page reached any host but the app's own, threw, logged an error,
or got a 5xx it did not expect.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
    WebError,
    WebSocket,
    async_playwright,
    expect,
)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_VERSION = "4.14.1"  # the Makefile's AXE_VERSION
AXE_DEFAULT = ROOT / ".venv" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    # no name resolves: the browser itself cannot reach a host by name (the app is an address)
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
# A test's page: a laptop screen, English, UTC, no motion, no service worker.
CONTEXT_DEFAULTS: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "en-US",
    "timezone_id": "UTC",
    "reduced_motion": "reduce",
    "service_workers": "block",
}
WAIT_MS = 10_000  # how long a step or an expect() waits for the page, not a timed assertion
# What Chromium logs for every fetch() answered with an error status. For the API the page
# reads the answer and says what it means (tests check that), so it is not a fault.
_FAILED_LOAD = "Failed to load resource: the server responded with a status of "
_PAGE_URLS = ("data:", "blob:", "about:")

expect.set_options(timeout=WAIT_MS)


def chromium_problem() -> str | None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"{CHROMIUM} is missing: the console tests run Debian's Chromium; `make test` installs "
        "it (apt-get install chromium)"
    )


@contextlib.asynccontextmanager
async def launched_chromium() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian's package, with a fresh temporary profile."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class BrowserWatch:
    """Everything the pages of one test asked for or complained about. `origin` is the app's
    (`http://127.0.0.1:<port>`); requests anywhere else are aborted and recorded."""

    origin: str
    requests: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def expect_status(self, *statuses: int) -> None:
        """Let the app answer these 5xx statuses in this test (the page shows them)."""
        self.expected_statuses.update(statuses)

    def is_own(self, url: str) -> bool:
        if url.startswith(_PAGE_URLS):
            return True
        parts = urlsplit(url)
        return parts.scheme == "http" and f"http://{parts.netloc}" == self.origin

    async def attach(self, context: BrowserContext) -> None:
        context.set_default_timeout(WAIT_MS)
        context.on("request", self._on_request)
        context.on("response", self._on_response)
        context.on("console", self._on_console)
        context.on("weberror", self._on_web_error)
        context.on("page", self._on_page)
        await context.route(lambda url: not self.is_own(url), self._abort)

    def problems(self) -> list[str]:
        return [f"request to another host: {url}" for url in self.foreign] + self.errors

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)
        if not self.is_own(request.url):
            self._foreign(request.url)

    def _on_response(self, response: Response) -> None:
        status = response.status
        if status >= 500 and status not in self.expected_statuses:
            self.errors.append(
                f"the app answered {status} to {response.request.method} {response.url}"
            )

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if message.text.startswith(_FAILED_LOAD) and urlsplit(url).path.startswith("/v1/"):
            return
        self.errors.append(f"console error: {message.text} ({url})")

    def _on_web_error(self, error: WebError) -> None:
        self.errors.append(f"uncaught in the page: {error.error}")

    def _on_page(self, page: Page) -> None:
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, socket: WebSocket) -> None:
        self._foreign(socket.url)  # the console opens none, to any host

    def _foreign(self, url: str) -> None:
        if url not in self.foreign:
            self.foreign.append(url)

    async def _abort(self, route: Route) -> None:
        self._foreign(route.request.url)
        await route.abort("blockedbyclient")


async def sign_in(page: Page, token: str) -> None:
    """Sign in with `token` on the sign-in form and wait for the images page."""
    if page.url == "about:blank":
        await page.goto("/")
    await page.get_by_label("API token", exact=True).fill(token)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("heading", name="Images", exact=True)).to_be_visible()


@cache
def axe_source() -> str:
    path = Path(os.environ.get("AXE_CORE_JS") or AXE_DEFAULT)
    if not path.is_file():
        raise FileNotFoundError(
            f"axe-core {AXE_VERSION} is not at {path}: `make test` fetches it from the npm "
            "registry; run `make axe-core` (or set AXE_CORE_JS to an axe.min.js)"
        )
    return path.read_text(encoding="utf-8")


_RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


async def axe_check(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """axe-core's violations on the page as it is now, of those impacts. The script is
    evaluated through the DevTools protocol, which the page's CSP (scripts from 'self' only)
    does not govern, so the CSP stays on for the page itself."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(axe_source())
    violations = await page.evaluate(_RUN_AXE)
    return [v for v in violations if v["impact"] in impacts]


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save the page (the whole of it, or what the screen shows) as
    docs/screenshots/<name>.png (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
    return path
