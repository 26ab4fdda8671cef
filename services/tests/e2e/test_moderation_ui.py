"""Moderation in the web UI (Debian Chromium) on the real stack: Redis, two chat workers on
one migrated database, nginx in front (docs/moderation.md). The owner removes a message
(everyone reads "removed by a moderator") and names a moderator from the online list; a
moderator mutes a guest (whose send shows the refusal) and bans an account (whose page says
so, out of the room); the Moderation panel lists the sanctions and lifts one; a plain member
sees none of these controls. Other people are browser contexts or python-socketio clients.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import join, send, sent_message, wait_connected
from tests.support.accounts import PASSWORD, SECRET
from tests.support.client import ChatClient
from tests.support.stack import Cluster


class Site:
    """The stack's address (nginx) and the API as another device uses it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def register(self, stem: str) -> tuple[str, str]:
        """A new account: (username, access token)."""
        username = f"{stem}{uuid.uuid4().hex[:6]}"
        response = requests.post(
            f"{self.url}/api/v1/auth/register",
            json={"username": username, "password": PASSWORD},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return username, str(response.json()["access_token"])

    def api(self, method: str, path: str, token: str, **body: Any) -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/api/v1{path}",
            json=body or None,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def device(self, token: str | None = None) -> ChatClient:
        """Another device: a protocol 2 socket, signed in when given a token."""
        auth: dict[str, Any] = {"protocol": 2}
        if token:
            auth["token"] = token
        return ChatClient(self.url, auth=auth).connect()


def running_site(
    tmp_path_factory: pytest.TempPathFactory, name: str, **extra_env: str
) -> Iterator[Site]:
    """The stack of one test module (test_moderation_queue_ui.py adds AUTOMOD=true)."""
    folder: Path = tmp_path_factory.mktemp(name)
    env = {
        "JWT_SECRET": SECRET,
        "KEY_PREFIX": f"mod{uuid.uuid4().hex[:6]}",
        "AUTH_ADDRESS_RATE_LIMIT": "0",
        **extra_env,
    }
    cluster = Cluster(folder, workers=2, env=env).start()
    try:
        yield Site(cluster.url)
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from running_site(tmp_path_factory, "moderation-ui")


@pytest.fixture
def devices() -> Iterator[list[ChatClient]]:
    opened: list[ChatClient] = []
    yield opened
    for client in opened:
        client.close()


def fresh_room() -> str:
    return f"mod-{uuid.uuid4().hex[:8]}"


def log_in_and_join(page: Page, site: Site, username: str, room: str) -> None:
    """Log in on the login page's account card, then join `room` signed in."""
    page.goto(f"{site.url}/")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-submit").click()
    expect(page.locator("#account-name")).to_have_text(username)
    expect(page.locator("#username")).to_be_hidden()
    page.locator("#room").fill(room)
    page.locator("#join-button").click()
    page.wait_for_url(re.compile(r"/chat\?"))
    wait_connected(page)


def person(page: Page, username: str) -> Locator:
    return page.locator(f'#users li[data-username="{username}"]')


def moderate(page: Page, username: str, action: str) -> None:
    """Unfold a person's tools in the online list and press one."""
    row = person(page, username)
    tools = row.locator("details.user-tools")
    if tools.get_attribute("open") is None:
        tools.locator("summary").click()
    row.get_by_role("button", name=action, exact=True).click()


def confirm(page: Page, reason: str = "", duration: str | None = None) -> None:
    """Fill the moderation dialog and confirm it; it closes on success."""
    dialog = page.locator("#moderation-dialog")
    expect(dialog).to_be_visible()
    if duration is not None:
        page.locator("#moderation-duration").select_option(label=duration)
    page.locator("#moderation-reason").fill(reason)
    page.locator("#moderation-confirm").click()
    expect(dialog).to_be_hidden()


def open_menu(page: Page, item: Locator) -> Locator:
    item.hover()
    item.locator(".message-menu-button").click()
    menu = page.locator("#message-menu")
    expect(menu).to_be_visible()
    return menu


def test_the_owner_removes_a_message_and_names_a_moderator_while_a_member_sees_no_controls(
    open_page: Callable[..., Page], site: Site, devices: list[ChatClient]
) -> None:
    room = fresh_room()
    owner, _ = site.register("owner")
    member, member_token = site.register("member")
    spammer, spammer_token = site.register("spam")

    owner_page = open_page()
    log_in_and_join(owner_page, site, owner, room)
    # The first account in an empty room owns it: the staff's button shows.
    expect(owner_page.locator("#moderation-button")).to_be_visible()

    member_page = open_page()
    log_in_and_join(member_page, site, member, room)
    expect(person(member_page, owner).locator(".role-badge")).to_have_text("owner")

    writer = site.device(spammer_token)
    devices.append(writer)
    assert writer.join(spammer, room)["ok"]
    reader = site.device(member_token)
    devices.append(reader)
    assert reader.join(member, room)["ok"]
    sent = writer.call("send_message", {"room": room, "message": "buy cheap stuff"})
    assert sent["ok"], sent
    message_id = sent["message"]["id"]

    # A plain member: no Remove in the menu, no tools in the online list, no panel.
    on_member = sent_message(member_page, "buy cheap stuff")
    menu = open_menu(member_page, on_member)
    expect(menu.get_by_role("menuitem", name="Remove", exact=True)).to_be_hidden()
    member_page.keyboard.press("Escape")
    expect(person(member_page, spammer)).to_be_visible()
    expect(member_page.locator("#users details.user-tools")).to_have_count(0)
    expect(member_page.locator("#moderation-button")).to_be_hidden()

    # The owner removes it, with a reason; everyone reads "removed by a moderator".
    menu = open_menu(owner_page, sent_message(owner_page, "buy cheap stuff"))
    menu.get_by_role("menuitem", name="Remove", exact=True).click()
    confirm(owner_page, reason="advertising")
    removed = member_page.locator(f'#messages > li.message[data-id="{message_id}"]')
    expect(removed.locator(".message-deleted")).to_have_text("Removed by a moderator")
    expect(
        owner_page.locator(f'#messages li[data-id="{message_id}"] .message-deleted')
    ).to_have_text("Removed by a moderator")
    event = reader.wait_for("room_event", lambda e: e.get("message_id") == message_id)
    assert event["type"] == "delete"
    assert event["message"].get("removed") is True

    # The owner names the member a moderator from the online list: the badge shows.
    moderate(owner_page, member, "Make moderator")
    expect(person(owner_page, member).locator(".role-badge")).to_have_text("moderator")
    roles = requests.get(f"{site.url}/api/v1/rooms/{room}/roles", timeout=10).json()
    assert [m["username"] for m in roles["moderators"]] == [member]
    # Their page learns it at the next join: the controls come with it.
    member_page.reload()
    wait_connected(member_page)
    expect(member_page.locator("#moderation-button")).to_be_visible()


def test_a_moderator_mutes_a_guest_bans_a_member_and_lifts_the_ban_from_the_panel(
    open_page: Callable[..., Page], site: Site, devices: list[ChatClient]
) -> None:
    room = fresh_room()
    owner, owner_token = site.register("boss")
    moderator, _ = site.register("mod")
    member, _ = site.register("user")
    founder = site.device(owner_token)
    devices.append(founder)
    assert founder.join(owner, room)["ok"]
    named = site.api("PUT", f"/rooms/{room}/moderators/{moderator}", owner_token)
    assert named.status_code == 200, named.text

    mod_page = open_page()
    log_in_and_join(mod_page, site, moderator, room)
    expect(mod_page.locator("#moderation-button")).to_be_visible()
    guest = f"Guest{uuid.uuid4().hex[:5]}"
    guest_page = open_page()
    join(guest_page, site.url, guest, room)
    member_page = open_page()
    log_in_and_join(member_page, site, member, room)
    expect(person(mod_page, guest)).to_be_visible()
    expect(person(mod_page, member)).to_be_visible()
    # A moderator cannot touch the owner: no tools next to them.
    expect(person(mod_page, owner).locator("details.user-tools")).to_have_count(0)

    # Mute the guest: everyone reads the notice; the guest's send is refused in the server's words.
    moderate(mod_page, guest, "Mute")
    confirm(mod_page, reason="calm down", duration="10 minutes")
    expect(member_page.locator("#messages li.notice-moderation").last).to_contain_text(
        f"{guest} was muted by {moderator}"
    )
    expect(member_page.locator("#messages li.notice-moderation").last).to_contain_text("calm down")
    expect(guest_page.locator("#chat-error-text")).to_contain_text("muted you")
    send(guest_page, "can I still talk?")
    refused = guest_page.locator("#messages li.message.is-failed")
    expect(refused.locator(".message-error")).to_have_text(
        "A moderator muted you in this room for now"
    )

    # Ban the member for good: their page says so and they are out of the room.
    moderate(mod_page, member, "Ban")
    confirm(mod_page, reason="spam", duration="Until lifted")
    expect(member_page.locator("#chat-error-text")).to_contain_text(
        f"{moderator} banned you from #{room}"
    )
    expect(member_page.locator("#chat-error-text")).to_contain_text("spam")
    expect(member_page.locator("#message-input")).to_be_disabled()
    expect(person(mod_page, member)).to_have_count(0)
    expect(mod_page.locator("#messages li.notice-moderation").last).to_contain_text(
        f"{member} was banned by {moderator}"
    )
    # A new visit is refused as banned.
    member_page.goto(f"{site.url}/chat?room={room}&username={member}")
    expect(member_page.locator("#chat-error-text")).to_contain_text("You are banned from this room")
    expect(member_page.locator("#chat-error-link")).to_have_text("Choose another room")

    # The panel lists both sanctions and lifts the ban.
    mod_page.locator("#moderation-button").click()
    panel = mod_page.locator("#moderation-panel")
    expect(panel).to_be_visible()
    sanctions = panel.locator("#moderation-sanctions li.sanction")
    expect(sanctions).to_have_count(2)
    ban = panel.locator(f'#moderation-sanctions li[data-username="{member}"]')
    expect(ban).to_contain_text("banned until lifted")
    expect(panel.locator(f'#moderation-sanctions li[data-username="{guest}"]')).to_contain_text(
        "(guest)"
    )
    expect(panel.locator('#moderation-audit li[data-action="ban"]').first).to_contain_text(
        f"{moderator} banned {member}"
    )
    ban.get_by_role("button", name="Unban").click()
    expect(sanctions).to_have_count(1)
    expect(panel.locator('#moderation-audit li[data-action="unban"]').first).to_contain_text(
        f"{moderator} unbanned {member}"
    )
    listed = site.api("GET", f"/rooms/{room}/sanctions", owner_token).json()["sanctions"]
    assert [s["username"] for s in listed] == [guest]
    # Lifted: the member may come back.
    member_page.goto(f"{site.url}/chat?room={room}&username={member}")
    wait_connected(member_page)
    expect(person(mod_page, member)).to_be_visible()
