"""Browser fixtures: one Debian Chromium per session, a fresh context per page.

The browser is driven by Playwright's Python package with `executable_path`; Playwright's
own browser downloads are never used. Pages talk to the real chat worker of the session
(tests/conftest.py: a real redis-server and a real gunicorn worker).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from tests.support.processes import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
# Generous: the suite must hold on a loaded 2-core machine.
WAIT_MS = 10_000

expect.set_options(timeout=WAIT_MS)


@dataclass
class PageLog:
    """What a page reported: uncaught errors and console errors (CSP violations among them)."""

    errors: list[str] = field(default_factory=list)

    def record_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """open_page(locale='en-US', viewport=DESKTOP, **context_options) -> a page of its own.

    Each page lives in its own browser context (its own storage: a separate person).
    `page.log.errors` lists the page's uncaught errors and console errors, for the tests
    that assert a clean run (a CSP violation shows up there).
    """
    contexts: list[BrowserContext] = []

    def _open(
        locale: str = "en-US", viewport: dict[str, int] | None = None, **options: Any
    ) -> Page:
        context = browser.new_context(locale=locale, viewport=viewport or DESKTOP, **options)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        log = PageLog()
        page.on("console", log.record_console)
        page.on("pageerror", lambda error: log.errors.append(str(error)))
        page.log = log  # type: ignore[attr-defined]
        return page

    yield _open
    for context in contexts:
        context.close()


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
