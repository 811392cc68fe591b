"""The Access page in Chromium: an Admin generates a token (shown once, and it works against
the API), revokes it, and creates a role; an Analyst sees tokens and roles but no action."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from app.auth.permissions import ANALYST
from tests.console.steps import call_api, sign_in_at
from tests.support.browser import axe_check, screenshot
from tests.support.raw_http import Served

HEADING = "Access"
DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$")


async def test_an_admin_generates_a_token_shown_once_then_revokes_it(
    page: Page, console: Served, admin_token: str
) -> None:
    await sign_in_at(page, admin_token, "/access", HEADING)
    tokens = page.get_by_role("region", name="API tokens")
    own = tokens.get_by_role("row").filter(has_text="test-admin")
    await expect(own.get_by_role("cell").first).to_have_text("test-admin this session")
    form = page.get_by_role("form", name="Generate a token")
    await form.get_by_label("Token name").fill("ci-release")
    await form.get_by_label("Analyst", exact=True).check()
    await form.get_by_role("button", name="Generate token").click()

    shown = page.get_by_role("region", name='Token "ci-release" generated')
    await expect(shown).to_contain_text("it will not be shown again")
    await expect(shown.get_by_role("heading")).to_be_focused()
    secret = (await shown.locator("#new-token").inner_text()).strip()
    assert secret
    status, me = await call_api(console, secret, "GET", "/v1/auth/status")
    assert status == 200, me
    assert [role["name"] for role in me["userInfo"]["roles"]] == [ANALYST]
    row = tokens.get_by_role("row").filter(has_text="ci-release")
    await expect(row.get_by_role("cell")).to_have_text(
        ["ci-release", ANALYST, DATE, DATE, "Active", "Revoke"], use_inner_text=True
    )
    assert await axe_check(page) == []
    await shown.get_by_role("button", name="I have copied it").click()
    await expect(shown).to_have_count(0)
    await screenshot(page, "access")

    # shown once: a new visit lists the token but nowhere shows its secret
    await page.reload()
    await expect(row).to_be_visible()
    assert secret not in await page.content()

    await row.get_by_role("button", name="Revoke ci-release").click()
    dialog = page.get_by_role("dialog", name="Revoke this token?")
    await expect(dialog).to_contain_text("ci-release")
    await dialog.get_by_role("button", name="Revoke", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text='Revoked "ci-release"')).to_be_visible()
    await expect(row.get_by_role("cell").nth(4)).to_have_text("Revoked")
    await expect(row.get_by_role("button", name="Revoke ci-release")).to_have_count(0)
    status, _ = await call_api(console, secret, "GET", "/v1/auth/status")
    assert status == 401
    status, listed = await call_api(console, admin_token, "GET", "/v1/apitokens")
    assert [t["revoked"] for t in listed["tokens"] if t["name"] == "ci-release"] == [True]


async def test_generating_without_a_role_is_refused_on_the_page(
    page: Page, console: Served, admin_token: str
) -> None:
    await sign_in_at(page, admin_token, "/access", HEADING)
    form = page.get_by_role("form", name="Generate a token")
    await form.get_by_label("Token name").fill("no-roles")
    await form.get_by_role("button", name="Generate token").click()
    await expect(form.get_by_role("alert")).to_have_text("Choose at least one role.")
    status, listed = await call_api(console, admin_token, "GET", "/v1/apitokens")
    assert "no-roles" not in [t["name"] for t in listed["tokens"]]


async def test_an_admin_creates_a_role(page: Page, console: Served, admin_token: str) -> None:
    await sign_in_at(page, admin_token, "/access", HEADING)
    roles = page.get_by_role("region", name="Roles")
    await expect(roles.get_by_role("row").filter(has_text="Analyst")).to_be_visible()
    form = page.get_by_role("form", name="Create a role")
    await form.get_by_label("Role name").fill("Image reader")
    await form.get_by_label("Image", exact=True).select_option("READ_ACCESS")
    await form.get_by_label("WatchedImage", exact=True).select_option("READ_WRITE_ACCESS")
    await form.get_by_role("button", name="Create role").click()
    await expect(form.get_by_role("status")).to_have_text('Created the role "Image reader".')
    await expect(roles.get_by_role("row").filter(has_text="Image reader")).to_be_visible()
    status, body = await call_api(console, admin_token, "GET", "/v1/roles")
    [created] = [role for role in body["roles"] if role["name"] == "Image reader"]
    granted = {k: v for k, v in created["resourceToAccess"].items() if v != "NO_ACCESS"}
    assert granted == {"Image": "READ_ACCESS", "WatchedImage": "READ_WRITE_ACCESS"}


async def test_an_analyst_sees_tokens_and_roles_but_no_action(page: Page, token_for: Any) -> None:
    await sign_in_at(page, await token_for(ANALYST, name="analyst"), "/access", HEADING)
    tokens = page.get_by_role("region", name="API tokens")
    await expect(tokens.get_by_role("row").filter(has_text="analyst")).to_be_visible()
    await expect(page.get_by_role("region", name="Roles").get_by_role("row").nth(1)).to_be_visible()
    await expect(page.get_by_role("form", name="Generate a token")).to_have_count(0)
    await expect(page.get_by_role("button", name="Generate token")).to_have_count(0)
    await expect(page.get_by_role("button", name="Revoke", exact=False)).to_have_count(0)
    await expect(page.get_by_role("form", name="Create a role")).to_have_count(0)
    assert await axe_check(page) == []
