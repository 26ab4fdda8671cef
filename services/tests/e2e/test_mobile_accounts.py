"""Accounts in the mobile app's web export (Chromium) against the real stack: Redis, two
workers on one migrated database, nginx. Signing up in the app and staying signed in after a
reload (the web export keeps the refresh token in localStorage: expo-secure-store has no web
side), logging out; a private conversation opened from a profile with another account (a
python-socketio client signed in with its token), written both ways, then made read-only by
a block; and a guest told that private messages need an account.

The stack and the export are built the way test_mobile_app.py builds them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from talkrooms.storage import database
from tests.e2e.test_mobile_app import PHONE, MobileStack, app_with_cluster
from tests.support.accounts import PASSWORD, SECRET
from tests.support.client import ChatClient
from tests.support.stack import Cluster


def refresh_key(server_url: str) -> str:
    """mobile/app/config/storage.ts refreshTokenKey: the web export's refresh token."""
    return "talkrooms.refresh." + re.sub(r"[^A-Za-z0-9._-]", "_", server_url)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MobileStack]:
    work_dir = tmp_path_factory.mktemp("mobile-accounts")
    database_url = f"sqlite:///{work_dir / 'accounts.db'}"
    database.upgrade(database_url)
    env = {
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "KEY_PREFIX": f"app{uuid.uuid4().hex[:6]}",
        "AUTH_ADDRESS_RATE_LIMIT": "0",
    }
    with app_with_cluster(
        work_dir, Cluster(work_dir, workers=2, env=env), "mobile accounts"
    ) as built:
        yield built


def register(stack: MobileStack, stem: str) -> tuple[str, str]:
    """A new account made by another device: (username, access token)."""
    username = f"{stem}{uuid.uuid4().hex[:6]}"
    response = requests.post(
        f"{stack.cluster.url}/api/v1/auth/register",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return username, str(response.json()["access_token"])


def api(stack: MobileStack, method: str, path: str, token: str, **body: Any) -> requests.Response:
    return requests.request(
        method,
        f"{stack.cluster.url}/api/v1{path}",
        json=body or None,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


@pytest.fixture
def devices(stack: MobileStack) -> Iterator[Callable[[str | None], ChatClient]]:
    """devices(token) -> a connected protocol 2 client (signed in with `token`), closed after."""
    clients: list[ChatClient] = []

    def _device(token: str | None) -> ChatClient:
        auth: dict[str, Any] = {"protocol": 2}
        if token:
            auth["token"] = token
        client = ChatClient(stack.cluster.url, auth=auth)
        clients.append(client)
        return client.connect()

    yield _device
    for client in clients:
        client.close()


def open_login(open_page: Callable[..., Page], stack: MobileStack) -> Page:
    page = open_page(locale="en-US", viewport=PHONE, timezone_id="UTC")
    crashes: list[str] = []
    page.on("pageerror", lambda error: crashes.append(str(error)))
    page.crashes = crashes  # type: ignore[attr-defined]
    page.goto(f"{stack.app.url}/")
    expect(page.get_by_test_id("login-server-url")).to_have_value(stack.cluster.url)
    return page


def join_room(page: Page, room: str) -> None:
    page.get_by_test_id("login-room").fill(room)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("chat-connection-state")).to_have_text("Connected")
    expect(page.get_by_test_id("chat-header-room")).to_have_text(f"#{room}")


def stored_refresh_token(page: Page, stack: MobileStack) -> Any:
    return page.evaluate(
        "(key) => window.localStorage.getItem(key)", refresh_key(stack.cluster.url)
    )


def test_sign_up_in_the_app_stays_signed_in_after_a_reload_and_logs_out(
    stack: MobileStack,
    open_page: Callable[..., Page],
    devices: Callable[[str | None], ChatClient],
    room_name: str,
) -> None:
    username = f"maya{uuid.uuid4().hex[:6]}"
    app = open_login(open_page, stack)
    app.get_by_test_id("login-mode-register").click()
    app.get_by_test_id("account-username").fill(username)
    app.get_by_test_id("account-password").fill(PASSWORD)
    app.get_by_test_id("account-email").fill(f"{username}@example.org")
    app.get_by_test_id("account-submit").click()
    expect(app.get_by_test_id("login-account-name")).to_have_text(f"Signed in as {username}")
    expect(app.get_by_test_id("login-username")).to_have_count(0)
    first_token = stored_refresh_token(app, stack)
    assert isinstance(first_token, str) and first_token

    # A reload is a restart: the stored refresh token signs the app in again (and rotates).
    app.reload()
    expect(app.get_by_test_id("login-account-name")).to_have_text(f"Signed in as {username}")
    assert stored_refresh_token(app, stack) not in (None, first_token)

    # Signed in, the join asks only the room; the connection is the account's.
    other = devices(None)
    assert other.join("watcher", room_name)["ok"]
    join_room(app, room_name)
    other.wait_for(
        "user_joined", lambda e: e.get("room") == room_name and e.get("username") == username, 10
    )

    app.get_by_test_id("chat-leave").click()
    app.get_by_test_id("login-logout").click()
    expect(app.get_by_test_id("login-username")).to_be_visible()
    expect(app.get_by_test_id("login-mode-login")).to_be_visible()
    assert stored_refresh_token(app, stack) is None
    app.reload()
    expect(app.get_by_test_id("login-username")).to_be_visible()
    expect(app.get_by_test_id("login-account-name")).to_have_count(0)
    assert app.crashes == []  # type: ignore[attr-defined]


def test_a_private_conversation_opened_from_a_profile_and_closed_by_a_block(
    stack: MobileStack,
    open_page: Callable[..., Page],
    devices: Callable[[str | None], ChatClient],
    room_name: str,
    screenshots: Path,
) -> None:
    maya, _ = register(stack, "maya")
    bob, bob_token = register(stack, "bob")
    assert api(stack, "PATCH", "/profile", bob_token, display_name="Bob B", bio="Fixes things").ok

    bob_phone = devices(bob_token)
    assert bob_phone.join(bob, room_name)["ok"]

    app = open_login(open_page, stack)
    app.get_by_test_id("login-mode-login").click()
    app.get_by_test_id("account-username").fill(maya)
    app.get_by_test_id("account-password").fill(PASSWORD)
    app.get_by_test_id("account-submit").click()
    expect(app.get_by_test_id("login-account-name")).to_have_text(f"Signed in as {maya}")
    join_room(app, room_name)

    # Bob's profile from the list of who is online; "Message" opens the conversation.
    app.get_by_test_id("chat-users-toggle").click()
    app.get_by_test_id(f"chat-user-{bob}").click()
    expect(app.get_by_test_id("profile-display-name")).to_have_text("Bob B")
    expect(app.get_by_test_id("profile-bio")).to_have_text("Fixes things")
    expect(app.get_by_test_id("profile-block")).to_have_text("Block")
    app.get_by_test_id("profile-message").click()
    expect(app.get_by_test_id("chat-header-room")).to_have_text("Bob B")

    # Bob's phone hears of it (the `conversation` event), joins, and they write both ways.
    opened = bob_phone.wait_for("conversation", lambda c: c["with"]["username"] == maya, 10)
    dm = opened["room"]
    assert re.fullmatch(r"dm:[a-z0-9]{20}", dm)
    assert bob_phone.call("join_room", {"room": dm, "username": bob})["ok"]
    app.get_by_test_id("chat-input").fill("Hi Bob, a private word")
    app.get_by_test_id("chat-send").click()
    bob_phone.wait_for(
        "new_message",
        lambda m: m.get("room") == dm and m["message"] == "Hi Bob, a private word",
        10,
    )
    assert bob_phone.send("Hi Maya", room=dm)["ok"]
    rows = app.get_by_test_id("chat-message-list").locator('[data-testid^="message-0"]')
    expect(rows.filter(has_text="Hi Maya")).to_have_count(1)

    # The conversation is in the room list under Bob's name.
    app.get_by_test_id("chat-rooms-toggle").click()
    expect(app.get_by_test_id(f"conversation-{bob}")).to_contain_text("Bob B")
    app.get_by_test_id("chat-rooms-toggle").click()

    # Bob blocks Maya: her conversation becomes read-only at once.
    assert api(stack, "PUT", f"/blocks/{maya}", bob_token).ok
    expect(app.get_by_test_id("chat-read-only")).to_be_visible()
    expect(app.get_by_test_id("chat-send")).to_be_disabled()
    app.screenshot(path=str(screenshots / "mobile-private-conversation.png"))
    assert app.crashes == []  # type: ignore[attr-defined]


def test_a_guest_is_told_private_messages_need_an_account(
    stack: MobileStack, open_page: Callable[..., Page], room_name: str
) -> None:
    app = open_login(open_page, stack)
    app.get_by_test_id("login-username").fill("Guesto")
    join_room(app, room_name)
    app.get_by_test_id("chat-rooms-toggle").click()
    app.get_by_test_id("rooms-new-message").click()
    expect(app.get_by_test_id("new-message-error")).to_have_text(
        "Private messages need an account: sign up or log in."
    )
    assert app.crashes == []  # type: ignore[attr-defined]
