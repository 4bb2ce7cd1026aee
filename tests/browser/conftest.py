"""Browser tests: Playwright driving Debian's Chromium against Django's live server.

Chromium comes from the distribution (`apt-get install chromium fonts-noto-cjk`), never from a
download. Without it the tests are skipped with instructions, unless TAIZHANG_REQUIRE_BROWSER=1
(CI), where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = os.environ.get("TAIZHANG_CHROMIUM", "/usr/bin/chromium")
# Not under test-results/: pytest-playwright empties that folder at the start of every run.
SCREENSHOTS = Path(os.environ.get("TAIZHANG_TEST_OUTPUT", "test-output")) / "screenshots"
HAVE_BROWSER = Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None
INSTALL_HINT = "Chromium 未安装：请执行 `apt-get install chromium fonts-noto-cjk` 后重跑浏览器测试"
PHONE = {"width": 390, "height": 844}

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the live server beside sync Playwright


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    mine = [i for i in items if here in Path(str(i.fspath)).parents]
    for item in mine:
        item.add_marker(pytest.mark.browser)
    if HAVE_BROWSER:
        return
    if os.environ.get("TAIZHANG_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"TAIZHANG_REQUIRE_BROWSER=1 but {CHROMIUM} is missing. {INSTALL_HINT}")
    for item in mine:
        item.add_marker(pytest.mark.skip(reason=INSTALL_HINT))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def login(live_server):
    """login(page, user) signs a persona in through the real form (personas' password is pw-<username>)."""

    def sign_in(page, user, password: str | None = None):
        try:
            page.goto(f"{live_server.url}/login/")
        except PlaywrightError as exc:  # a navigation still under way (a sign-out's redirect): let it end
            if "interrupted by another navigation" not in str(exc):
                raise
            page.wait_for_load_state()
            page.goto(f"{live_server.url}/login/")
        page.get_by_label("用户名").fill(user.username)
        page.get_by_label("密码").fill(password or f"pw-{user.username}")
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        return page

    return sign_in


@pytest.fixture
def new_page(browser):
    """new_page(phone=False) opens a page in its own browser context (its own cookies: one user each)."""
    contexts = []

    def open_page(phone: bool = False):
        kwargs = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
        if phone:
            kwargs.update(viewport=PHONE, is_mobile=True, has_touch=True)
        context = browser.new_context(**kwargs)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """screenshot(page, name) saves a full-page PNG under the test output for people to look at."""

    def shoot(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot
