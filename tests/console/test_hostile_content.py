"""Hostile data in the console: an image whose labels, layers, components and CVEs carry markup
and script text, CVE links with javascript: and data: schemes, and a name with unusual but valid
characters. The images page and the image's page show all of it as text: nothing from the data
becomes an element, an event handler or a link that runs script, and `window.__pwned` (what each
payload would set) stays undefined. A query with markup gets its 400 message as text.

The pages run twice: under the console's CSP, and with the CSP bypassed, so that the console's
own rendering (text nodes, never parsed HTML) is what keeps the data inert, not only the CSP.
The browser watch fails a test on any page error or request to another host (a fetched `x`
of `<img src=x>` would be a 404 the console never asks for).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.support.browser import sign_in
from tests.support.images import component, image, vuln

PutImages = Callable[[Iterable[dict[str, Any]]], Awaitable[None]]
NewPage = Callable[..., Awaitable[Page]]

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
SVG = '"><svg onload="window.__pwned=1">'
# valid in a reference: a port; ".", "_", "__", "---" in the path; "." and "-" in the tag
NAME = "registry-1.example:5000/a.b_c__d-e/x---y/z9:V1.0_rc-1.x"
SCRIPT_LINKS = {
    "CVE-2024-9001": "javascript:window.__pwned=1",
    "CVE-2024-9002": "data:text/html,<script>window.__pwned=1</script>",
    "CVE-2024-9003": " JaVaScRiPt:window.__pwned=1",
}
WEB_LINK_CVE = "CVE-2024-9004"
ROWS = "table[aria-label=Images] tbody tr"

# Every <img>, <svg>, <script>… in the document that the console's own shell did not put
# there, and every attribute that is an inline event handler.
INJECTED_JS = """() => {
  const own = (e) =>
    (e.matches("header .brand > img") && e.getAttribute("src") === "/console/icon.svg") ||
    (e.matches("head > script[type=module]") && e.getAttribute("src") === "/console/js/main.js");
  const found = [...document.querySelectorAll("img, svg, script, iframe, object, embed, frame")]
    .filter((e) => !own(e)).map((e) => e.outerHTML);
  for (const e of document.querySelectorAll("*")) {
    for (const a of e.attributes) {
      if (/^on/i.test(a.name)) found.push(`${e.tagName} ${a.name}="${a.value}"`);
    }
  }
  return found;
}"""
# Every URL-carrying attribute whose scheme can run script (browsers ignore blanks and
# control characters before the scheme, and its case).
SCRIPT_URLS_JS = """() => {
  const found = [];
  const urlAttributes = ["href", "src", "action", "formaction", "xlink:href"];
  for (const e of document.querySelectorAll("*")) {
    for (const a of e.attributes) {
      if (!urlAttributes.includes(a.name.toLowerCase())) continue;
      const url = a.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
      if (!/^(javascript|data|vbscript):/.test(url)) continue;
      found.push(`${e.tagName} ${a.name}="${a.value}"`);
    }
  }
  return found;
}"""
# Which of these strings the text of <main> lacks
MISSING_TEXT_JS = """(texts) => {
  const shown = document.querySelector("main").textContent;
  return texts.filter((text) => !shown.includes(text));
}"""


def hostile(where: str, payload: str) -> str:
    return f"{where} {payload}"


LABELS = {
    hostile("key", IMG): hostile("value", SCRIPT),
    hostile("org.example/key", SVG): hostile("value", IMG),
    "plain": hostile("value", SVG),
}
LAYER_VALUES = [hostile("RUN", SCRIPT), hostile("COPY", IMG), hostile("LABEL", SVG)]
OS = hostile("debian:12", IMG)
USER = hostile("user", SVG)
AUTHOR = hostile("author", SCRIPT)
ENTRYPOINT = [hostile("entrypoint", IMG)]
COMPONENTS = [  # name, version, location, the component's fixedBy
    (
        hostile("name", IMG),
        hostile("version", SVG),
        hostile("/usr/lib", SCRIPT),
        hostile("fix", IMG),
    ),
    (hostile("name", SVG), hostile("version", SCRIPT), hostile("/opt", IMG), ""),
    (hostile("name", SCRIPT), hostile("version", IMG), hostile("/srv", SVG), ""),
]
# CVE, summary, fixedBy
CVES = [
    ("CVE-2024-9001", hostile("summary", SCRIPT), hostile("fixed", SVG)),
    ("CVE-2024-9002", hostile("summary", IMG), hostile("fixed", SCRIPT)),
    ("CVE-2024-9003", hostile("summary", SVG), hostile("fixed", IMG)),
    (WEB_LINK_CVE, hostile("summary with a web link", IMG), ""),
]


def hostile_image() -> dict[str, Any]:
    """NAME with every string above in its place; each component has every CVE."""

    def vulns() -> list[dict[str, Any]]:
        made = []
        for index, (cve, summary, fixed_by) in enumerate(CVES):
            v = vuln(cve, 9.8 - index, "CRITICAL", summary=summary, fixed_by=fixed_by or None)
            if cve in SCRIPT_LINKS:
                v["link"] = SCRIPT_LINKS[cve]
            made.append(v)
        return made

    components = []
    for index, (name, version, location, fixed_by) in enumerate(COMPONENTS):
        comp = component(name, version, *vulns())
        comp.update(location=location, layerIndex=index)
        if fixed_by:
            comp["fixedBy"] = fixed_by
        components.append(comp)
    img = image(NAME, *components, os=OS, labels=LABELS, command=[hostile("command", SVG)])
    v1 = img["metadata"]["v1"]
    v1.update(user=USER, author=AUTHOR, entrypoint=ENTRYPOINT)
    v1["layers"] = [{"instruction": "RUN", "value": value} for value in LAYER_VALUES]
    return img


def detail_texts() -> list[str]:
    """What the image's page shows, each string as it is in the data (the command and the
    entrypoint as JSON lists)."""
    texts = [NAME, OS, USER, AUTHOR, *LABELS, *LABELS.values(), *LAYER_VALUES]
    texts += [json.dumps(ENTRYPOINT), json.dumps([hostile("command", SVG)])]
    texts += [text for fields in COMPONENTS for text in fields if text]
    texts += [text for fields in CVES for text in fields if text]
    return texts


async def injected(page: Page) -> list[str]:
    return list(await page.evaluate(INJECTED_JS))


async def script_urls(page: Page) -> list[str]:
    return list(await page.evaluate(SCRIPT_URLS_JS))


async def missing_text(page: Page, texts: list[str]) -> list[str]:
    return list(await page.evaluate(MISSING_TEXT_JS, texts))


async def pwned(page: Page) -> str:
    return str(await page.evaluate("() => typeof window.__pwned"))


async def search(page: Page, query: str) -> None:
    bar = page.get_by_role("combobox", name="Search")
    await bar.fill(query)
    await bar.press("Enter")


async def expand_every_component(page: Page) -> None:
    closed = page.locator("button.disclosure[aria-expanded=false]")
    for left in range(len(COMPONENTS), 0, -1):
        await expect(closed).to_have_count(left)
        await closed.first.click()
    await expect(closed).to_have_count(0)


async def assert_inert(page: Page) -> None:
    assert await injected(page) == []
    assert await script_urls(page) == []
    assert await pwned(page) == "undefined"


@pytest.mark.parametrize("csp", ["enforced", "bypassed"])
async def test_hostile_data_is_shown_as_text_on_the_images_and_image_pages(
    new_page: NewPage, admin_token: str, put_images: PutImages, csp: str
) -> None:
    page = await new_page(bypass_csp=csp == "bypassed")
    neighbour = image("registry.example/team/plain:1", component("zlib", "1.3"))
    await put_images([hostile_image(), neighbour])
    await sign_in(page, admin_token)
    await expect(page.locator(ROWS)).to_have_count(2)

    await search(page, f"Image:{NAME}")
    await expect(page.locator(ROWS)).to_have_count(1)
    row = page.locator(ROWS).first
    await expect(row.locator("td").nth(0)).to_have_text(NAME)
    await expect(row.locator("td").nth(1)).to_have_text(OS)
    await assert_inert(page)

    await row.get_by_role("link", name=NAME, exact=True).click()
    await expect(page.get_by_role("heading", name=NAME, exact=True)).to_be_visible()
    await expect(page).to_have_title(f"{NAME} · Image Service")
    await expand_every_component(page)

    assert await missing_text(page, detail_texts()) == []
    cve_table = page.locator("#cve-table")
    for cve in SCRIPT_LINKS:
        rows = cve_table.locator(f"tbody tr[data-cve='{cve}']")
        await expect(rows).to_have_count(len(COMPONENTS))
        await expect(rows.locator(".cve-id > span.mono")).to_have_text([cve] * len(COMPONENTS))
        await expect(rows.locator("a")).to_have_count(0)
    # the one web link is a link, so the checks above look where links are
    web_links = page.locator(f"a[href='https://example.org/{WEB_LINK_CVE}']")
    await expect(web_links).to_have_count(2 * len(COMPONENTS))  # the CVE table and each component's
    await assert_inert(page)


async def test_a_query_with_markup_gets_its_error_as_text(
    page: Page, admin_token: str, put_images: PutImages
) -> None:
    await put_images([image("registry.example/team/plain:1", component("zlib", "1.3"))])
    await sign_in(page, admin_token)
    label = f"{IMG}{SCRIPT}{SVG}"

    await search(page, f"{label}:x")

    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text(f'unknown search field "{label}"')
    await expect(page.locator(ROWS)).to_have_count(0)
    await assert_inert(page)
