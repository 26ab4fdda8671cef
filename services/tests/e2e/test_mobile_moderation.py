"""Reports and the review queue in the mobile app's web export (Chromium) against the real
stack: Redis, two workers on one migrated database, nginx (docs/moderation.md). A guest in
the app reports someone's message (a reason, then a confirmation); the room's owner, signed
in in another app, sees the live count on the moderation button, finds the report in the
queue with its reason and removes the message, which everyone then reads as removed by a
moderator. A newcomer's link is held: the author's app marks it "Waiting for review" until the
owner approves it in the queue, then it is an ordinary message for everyone. The owner's
settings (a topic) show in the header of everyone's app.

The stack and the export are built the way test_mobile_app.py builds them; the accounts and
the app's login are test_mobile_accounts.py's.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from talkrooms.storage import database
from tests.e2e.test_mobile_accounts import api, join_room, open_login, register
from tests.e2e.test_mobile_app import MobileStack, app_with_cluster
from tests.e2e.test_mobile_room_events import open_menu
from tests.support.accounts import PASSWORD, SECRET
from tests.support.client import ChatClient
from tests.support.stack import Cluster


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MobileStack]:
    work_dir = tmp_path_factory.mktemp("mobile-moderation")
    database_url = f"sqlite:///{work_dir / 'moderation.db'}"
    database.upgrade(database_url)
    env = {
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "KEY_PREFIX": f"mmod{uuid.uuid4().hex[:6]}",
        "AUTH_ADDRESS_RATE_LIMIT": "0",
        # Off by default in the tests' workers: the held message needs it.
        "AUTOMOD": "true",
    }
    with app_with_cluster(
        work_dir, Cluster(work_dir, workers=2, env=env), "mobile moderation"
    ) as built:
        yield built


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


def owned_room(
    stack: MobileStack, devices: Callable[[str | None], ChatClient], room: str
) -> tuple[str, str, ChatClient]:
    """A new account whose join creates `room`, so owns it: (username, token, its device)."""
    owner, token = register(stack, "carol")
    device = devices(token)
    assert device.join(owner, room)["ok"]
    roles = api(stack, "GET", f"/rooms/{room}/roles", token).json()
    assert roles["owner"]["username"] == owner, roles
    return owner, token, device


def log_in(page: Page, username: str) -> None:
    page.get_by_test_id("login-mode-login").click()
    page.get_by_test_id("account-username").fill(username)
    page.get_by_test_id("account-password").fill(PASSWORD)
    page.get_by_test_id("account-submit").click()
    expect(page.get_by_test_id("login-account-name")).to_have_text(f"Signed in as {username}")


def review_item(page: Page) -> Locator:
    """The only item of the open review queue."""
    item = page.get_by_test_id(re.compile(r"^review-\d+$"))
    expect(item).to_have_count(1)
    return item


def test_a_guest_reports_a_message_and_the_owner_removes_it_from_the_queue(
    stack: MobileStack,
    open_page: Callable[..., Page],
    devices: Callable[[str | None], ChatClient],
    room_name: str,
    screenshots: Path,
) -> None:
    owner, _, owner_device = owned_room(stack, devices, room_name)
    seller = devices(None)
    assert seller.join("seller", room_name)["ok"]
    sent = seller.send("Great deals in my shop, ask me", room=room_name)
    assert sent["ok"], sent
    message_id = sent["message"]["id"]

    # A guest in the app reports it: a reason, details, then a confirmation.
    guest = open_login(open_page, stack)
    guest.get_by_test_id("login-username").fill("Maya")
    join_room(guest, room_name)
    menu = open_menu(guest, message_id)
    expect(menu.get_by_test_id("message-menu-remove")).to_have_count(0)
    menu.get_by_test_id("message-menu-report").click()
    guest.get_by_test_id("report-reason-spam").click()
    guest.get_by_test_id("report-details").fill("selling again")
    guest.get_by_test_id("report-next").click()
    expect(guest.get_by_test_id("message-menu")).to_contain_text(
        "Report seller’s message to the moderators?"
    )
    guest.get_by_test_id("report-confirm").click()
    expect(guest.get_by_test_id("report-done")).to_have_text(
        "Thank you: the moderators will look at it."
    )
    guest.get_by_test_id("message-menu-close").click()
    # The room's staff hear of it: one open item.
    owner_device.wait_for("review", lambda e: e.get("room") == room_name and e.get("open") == 1, 10)

    # The owner, signed in in the app: the count on the moderation button, then the queue.
    app = open_login(open_page, stack)
    log_in(app, owner)
    join_room(app, room_name)
    expect(app.get_by_test_id("chat-review-count")).to_have_text("1")
    app.get_by_test_id("chat-moderation").click()
    item = review_item(app)
    expect(item).to_contain_text("seller: Great deals in my shop, ask me")
    expect(item).to_contain_text("Reported once")
    expect(item).to_contain_text("spam: selling again")
    item_id = (item.get_attribute("data-testid") or "").removeprefix("review-")
    app.screenshot(path=str(screenshots / "mobile-review-queue.png"))
    app.get_by_test_id(f"review-remove-{item_id}").click()
    expect(app.get_by_test_id("review-empty")).to_be_visible()
    expect(app.get_by_test_id("chat-review-count")).to_have_count(0)

    # Everyone reads it as removed by a moderator.
    seller.wait_for(
        "room_event",
        lambda e: e.get("type") == "delete" and e.get("message_id") == message_id,
        10,
    )
    expect(guest.get_by_test_id(f"message-removed-{message_id}")).to_have_text(
        "Removed by a moderator"
    )
    app.get_by_test_id("moderation-close").click()
    expect(app.get_by_test_id(f"message-removed-{message_id}")).to_have_text(
        "Removed by a moderator"
    )
    assert guest.crashes == [] and app.crashes == []  # type: ignore[attr-defined]


def test_a_held_message_waits_for_review_until_the_owner_approves_it(
    stack: MobileStack,
    open_page: Callable[..., Page],
    devices: Callable[[str | None], ChatClient],
    room_name: str,
) -> None:
    owner, token, owner_device = owned_room(stack, devices, room_name)
    # Links from newcomers are held (the instance's default, said out loud for this room).
    changed = api(
        stack, "PATCH", f"/rooms/{room_name}/settings", token, automod={"rules": {"links": "hold"}}
    )
    assert changed.ok, changed.text

    guest = open_login(open_page, stack)
    guest.get_by_test_id("login-username").fill("Maya")
    join_room(guest, room_name)
    guest.get_by_test_id("chat-input").fill("my shop: https://example.org/deals")
    guest.get_by_test_id("chat-send").click()
    held = guest.get_by_test_id(re.compile(r"^message-held-"))
    expect(held).to_have_text("Waiting for review")
    expect(guest.get_by_test_id("chat-error")).to_have_count(0)
    owner_device.wait_for("review", lambda e: e.get("room") == room_name and e.get("open") == 1, 10)
    assert not [m for m in owner_device.received("new_message") if "example.org" in m["message"]]

    app = open_login(open_page, stack)
    log_in(app, owner)
    join_room(app, room_name)
    app.get_by_test_id("chat-moderation").click()
    item = review_item(app)
    expect(item).to_contain_text("Maya: my shop: https://example.org/deals")
    expect(item).to_contain_text("Held by the rule “Links”")
    item_id = (item.get_attribute("data-testid") or "").removeprefix("review-")
    app.get_by_test_id(f"review-approve-{item_id}").click()
    expect(app.get_by_test_id("review-empty")).to_be_visible()

    # Published as Maya's: everyone has it, and her copy is an ordinary message now.
    owner_device.wait_for("new_message", lambda m: "example.org" in m["message"], 10)
    expect(held).to_have_count(0)
    rows = guest.get_by_test_id("chat-message-list").locator('[data-testid^="message-0"]')
    expect(rows.filter(has_text="my shop: https://example.org/deals")).to_have_count(1)
    assert guest.crashes == [] and app.crashes == []  # type: ignore[attr-defined]


def test_the_owner_sets_a_topic_in_the_app_and_everyone_sees_it_in_the_header(
    stack: MobileStack,
    open_page: Callable[..., Page],
    devices: Callable[[str | None], ChatClient],
    room_name: str,
    screenshots: Path,
) -> None:
    owner, _, _ = owned_room(stack, devices, room_name)
    guest = open_login(open_page, stack)
    guest.get_by_test_id("login-username").fill("Maya")
    join_room(guest, room_name)
    expect(guest.get_by_test_id("chat-topic")).to_have_count(0)

    app = open_login(open_page, stack)
    log_in(app, owner)
    join_room(app, room_name)
    app.get_by_test_id("chat-moderation").click()
    app.get_by_test_id("moderation-settings").click()
    expect(app.get_by_test_id("settings-topic")).to_be_visible()
    app.get_by_test_id("settings-topic").fill("Deals are off-topic here")
    app.get_by_test_id("settings-slow-10").click()
    app.screenshot(path=str(screenshots / "mobile-room-settings.png"))
    app.get_by_test_id("settings-save").click()
    expect(app.get_by_test_id("settings-notice")).to_have_text("Settings saved.")
    app.get_by_test_id("settings-close").click()

    expect(app.get_by_test_id("chat-topic")).to_have_text("Deals are off-topic here")
    expect(guest.get_by_test_id("chat-topic")).to_have_text("Deals are off-topic here")
    guest.screenshot(path=str(screenshots / "mobile-room-topic.png"))
    assert guest.crashes == [] and app.crashes == []  # type: ignore[attr-defined]
