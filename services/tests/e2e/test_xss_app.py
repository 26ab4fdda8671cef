"""The fifty XSS payloads in the mobile app's web export (Chromium): received from others,
typed in the app, read back from the history, and as the name of someone online - all
shown as text, none run.

The export is served by a plain static server without any Content-Security-Policy, so
nothing but the app's own rendering (React Native Text, never HTML) stands between a
payload and the page: `window.__xss` must stay undefined and no dialog may open. The
stack and the export are built the way test_mobile_app.py builds them (its helpers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_mobile_app import (
    PHONE,
    MobileStack,
    app_with_cluster,
    expect_app_messages,
)
from tests.e2e.test_xss import watched
from tests.reliability.figures import report
from tests.support.client import ChatClient
from tests.support.stack import Cluster
from tests.support.xss import PAYLOADS

ROOM = "xss-app"
TYPED = PAYLOADS[:5]  # typed in the app itself: its own pending -> sent rendering
UNSAFE = "script, iframe, object, embed, math, a[href^='javascript'], a[href^='data']"


@pytest.fixture(scope="module")
def app_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MobileStack]:
    work_dir = tmp_path_factory.mktemp("xss-app")
    with app_with_cluster(work_dir, Cluster(work_dir, workers=1), "xss app stack") as stack:
        yield stack


def open_app(open_page: Callable[..., Page], stack: MobileStack, username: str) -> Page:
    page = open_page(locale="en-US", viewport=PHONE, timezone_id="UTC")
    page.seen = watched(page)  # type: ignore[attr-defined]
    crashes: list[str] = []
    page.on("pageerror", lambda error: crashes.append(str(error)))
    page.crashes = crashes  # type: ignore[attr-defined]
    page.goto(f"{stack.app.url}/")
    expect(page.get_by_test_id("login-server-url")).to_have_value(stack.cluster.url)
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-room").fill(ROOM)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("chat-connection-state")).to_have_text("Connected")
    return page


def assert_nothing_ran(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.seen["dialogs"] == []  # type: ignore[attr-defined]
    assert page.crashes == []  # type: ignore[attr-defined]
    assert page.get_by_test_id("chat-message-list").locator(UNSAFE).count() == 0


def test_fifty_payloads_are_text_in_the_app(
    app_stack: MobileStack, open_page: Callable[..., Page]
) -> None:
    app = open_app(open_page, app_stack, "reader")
    sender = ChatClient(app_stack.cluster.url).connect()
    others: list[ChatClient] = []
    try:
        assert sender.join("mallory", ROOM)["ok"]
        for payload in PAYLOADS:
            assert sender.send(payload)["ok"]
        field = app.get_by_test_id("chat-input")
        for payload in TYPED:
            field.fill(payload)
            field.press("Enter")
        expected = [p.strip() for p in (*PAYLOADS, *TYPED)]
        expect_app_messages(app, expected)
        assert_nothing_ran(app)

        # Someone online under the one payload that passes the username rules.
        names = []
        for payload in PAYLOADS:
            other = ChatClient(app_stack.cluster.url).connect()
            others.append(other)
            if other.join(payload, ROOM)["ok"]:
                names.append(payload.strip())
        assert names
        app.get_by_test_id("chat-users-toggle").click()
        for name in names:
            expect(app.get_by_test_id(f"chat-user-{name}")).to_contain_text(name)
        assert_nothing_ran(app)

        # A latecomer reads it all from the history the server sends on join.
        late = open_app(open_page, app_stack, "latecomer")
        expect_app_messages(late, expected)
        assert_nothing_ran(late)
    finally:
        sender.close()
        for other in others:
            other.close()
    report(
        "xss-app",
        {
            "payloads_received": len(PAYLOADS),
            "payloads_typed": len(TYPED),
            "pages": 2,
            "script_executions": 0,
            "dialogs": 0,
        },
    )
