"""Signing in to the console with a JWT of a configured OIDC issuer pasted as the token: the
console sends it as a bearer token like any client, the app verifies it against the issuer's
JWKS (an issuer on its own loopback port, asked by the app, never by the browser) and the
issuer's rules give its roles."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Page, Response, expect

from app.auth.oidc import OidcIssuer, RoleRule
from app.auth.permissions import ANALYST
from app.config import Settings
from tests.console.steps import call_api
from tests.support.browser import sign_in
from tests.support.images import component, image
from tests.support.oidc_idp import Idp, idps_app, key
from tests.support.raw_http import LOOPBACK, Served

SUBJECT = "ana.lyst@corp.example"
READERS = "image-readers"  # the group the issuer's rule maps to the Analyst role
NAMES = "table[aria-label=Images] tbody tr td:first-child a"
REFUSED = "That token was refused: it is wrong, expired or revoked."


@pytest_asyncio.fixture(loop_scope="session")
async def idp() -> AsyncIterator[Idp]:
    """An issuer at http://127.0.0.1:<its own port>/corp, publishing one RSA key."""
    by_name: dict[str, Idp] = {}
    runner = web.AppRunner(idps_app(by_name))
    await runner.setup()
    try:
        await web.TCPSite(runner, LOOPBACK, 0).start()
        port = runner.addresses[0][1]
        by_name["corp"] = Idp(f"http://{LOOPBACK}:{port}", "/corp", key("corp-1"))
        yield by_name["corp"]
    finally:
        await runner.cleanup()


@pytest.fixture
def settings(settings: Settings, idp: Idp) -> Settings:
    """The app trusts the issuer; its tokens naming the readers' group are Analysts."""
    rules = (RoleRule("groups", READERS, ANALYST),)
    issuer = OidcIssuer(idp.issuer, "image-service", rules=rules)
    return dataclasses.replace(settings, oidc_issuers=(issuer,))


def claims(idp: Idp, **extra: Any) -> dict[str, Any]:
    return idp.claims(sub=SUBJECT, groups=["staff", READERS]) | extra


async def test_a_pasted_jwt_signs_in_as_its_subject_with_the_mapped_role(
    page: Page, idp: Idp, console: Served, put_images: Any
) -> None:
    await put_images(
        [
            image("registry.example.com/shop/web:1.0", component("openssl", "3.0.11")),
            image("registry.example.com/shop/api:2.1", component("zlib", "1.2.13")),
        ]
    )
    token = idp.keys[0].sign(claims(idp))
    status, me = await call_api(console, token, "GET", "/v1/auth/status")
    assert status == 200, me
    assert (me["userInfo"]["friendlyName"], me["userInfo"]["username"]) == (SUBJECT, SUBJECT)

    await sign_in(page, token)
    await expect(page.locator(NAMES)).to_have_count(2)  # the page's own requests carry the JWT
    await expect(page.locator("#session").get_by_title("Signed in as")).to_have_text(SUBJECT)
    navigation = page.get_by_role("navigation", name="Main")
    await expect(navigation.get_by_role("link")).to_have_text(
        ["Images", "Watched images", "Access"]
    )
    await expect(navigation.get_by_role("link", name="Scan")).to_have_count(0)
    await expect(page.get_by_role("button", name="Delete matching…")).to_have_count(0)
    assert await page.evaluate("() => sessionStorage.getItem('image-service.token')") == token
    # the issuer was asked by the app only: the `watch` fixture fails the test for any request
    # of the browser's to another origin than the app's, and the CSP's refusal of one


BAD_JWTS: dict[str, tuple[Callable[[Idp], str], str]] = {
    "expired": (
        lambda idp: idp.keys[0].sign(
            claims(idp, iat=int(time.time()) - 900, exp=int(time.time()) - 300)
        ),
        "the token has expired",
    ),
    "signed by a key the issuer does not publish": (
        lambda idp: key("stranger").sign(claims(idp)),
        "has kid 'stranger'",
    ),
    "signed by another key under the issuer's kid": (
        lambda idp: key("stranger").sign(claims(idp), kid=idp.keys[0].kid),
        "the signature does not verify",
    ),
}


@pytest.mark.parametrize("case", BAD_JWTS)
async def test_a_jwt_that_does_not_verify_is_refused_on_the_sign_in_form(
    page: Page, idp: Idp, case: str
) -> None:
    make_token, reason = BAD_JWTS[case]
    await page.goto("/")
    field = page.get_by_label("API token", exact=True)
    await field.fill(make_token(idp))

    def is_status(response: Response) -> bool:
        return response.url.endswith("/v1/auth/status")

    async with page.expect_response(is_status) as answer:
        await page.get_by_role("button", name="Sign in", exact=True).click()
    response = await answer.value
    assert response.status == 401
    assert reason in (await response.json())["message"]  # refused by the JWT check, for this

    await expect(page.get_by_role("alert")).to_have_text(REFUSED)
    await expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    await expect(field).to_be_focused()
    await expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    assert await page.evaluate("() => sessionStorage.length") == 0
