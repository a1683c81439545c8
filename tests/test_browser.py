"""The first journey in a real browser: a county clerk logs in and lands on their own county.

Debian's chromium driven by Playwright (conftest.py); screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD, build_cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# CI machines are small and busy; a page that is merely slow must not fail a test.
expect.set_options(timeout=20_000)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(live_server: Any) -> str:
    build_cast()
    return live_server.url


def log_in(page: Page, site: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_clerk_logs_in_and_sees_only_their_county(page: Page, site: str, artifacts: str) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(f"{site}/")
    expect(page).to_have_url(f"{site}/accounts/login/?next=/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="登录科创平台")).to_be_visible()
    page.screenshot(path=os.path.join(artifacts, "01-login-1280.png"), full_page=True)

    log_in(page, site, "jingchuan_clerk", "wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")

    log_in(page, site, "jingchuan_clerk")
    expect(page.get_by_role("heading", name="泾川县")).to_be_visible()
    expect(page.locator("main")).to_contain_text("城关镇")
    expect(page.locator("body")).not_to_contain_text("崇信县")
    page.screenshot(path=os.path.join(artifacts, "02-home-clerk-1280.png"), full_page=True)

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.get_by_role("heading", name="泾川县")).to_be_visible()
    # Nothing may force sideways scrolling on a phone.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.screenshot(path=os.path.join(artifacts, "03-home-clerk-390.png"), full_page=True)


def test_login_form_works_from_the_keyboard(page: Page, site: str) -> None:
    page.goto(f"{site}/accounts/login/")
    # The username box has the focus; Tab reaches the password, Enter submits.
    expect(page.get_by_label("用户名")).to_be_focused()
    page.keyboard.type("pingliang_reviewer")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="平凉市")).to_be_visible()
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("审计日志")


def test_language_switch_to_english(page: Page, site: str, artifacts: str) -> None:
    log_in(page, site, "gansu_admin")
    expect(page.get_by_role("heading", name="甘肃省")).to_be_visible()
    page.get_by_label("界面语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Main navigation")).to_contain_text("Org units")
    page.screenshot(path=os.path.join(artifacts, "04-home-admin-en-1280.png"), full_page=True)
