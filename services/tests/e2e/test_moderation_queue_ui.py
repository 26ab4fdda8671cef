"""The last slice of moderation in the web UI (Debian Chromium) on the real stack (Redis, two
chat workers on one migrated database, nginx in front; docs/moderation.md): a guest reports
a message and a moderator removes it from the review queue; a newcomer's link is held, the
author sees it waiting, and once approved everyone reads it; the Room settings dialog
changes the topic, slow mode and who may write, and another browser follows live; pins;
a word the room refuses is refused in the server's words; roles change live, and an
administrator hands the room over.

The stack (with AUTOMOD on and an administrator), the API helper and the browser steps are
test_moderation_ui.py's, imported.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e import test_moderation_ui as moderation_ui
from tests.e2e.helpers import join, send, sent_message, wait_connected
from tests.e2e.test_moderation_ui import Site, confirm, fresh_room, log_in_and_join, open_menu
from tests.support.accounts import PASSWORD
from tests.support.client import ChatClient

# The instance's administrator (registered by the test that needs one).
ADMIN = f"admin{uuid.uuid4().hex[:6]}"

# test_moderation_ui.py's devices fixture (pytest finds fixtures by name in this module).
devices = moderation_ui.devices


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """test_moderation_ui.py's stack, with automatic moderation on (off in the tests' workers
    by default): links from newcomers held, the room's words refused; and an administrator."""
    yield from moderation_ui.running_site(
        tmp_path_factory, "moderation-queue-ui", AUTOMOD="true", ADMIN_USERNAMES=ADMIN
    )


def guest_name() -> str:
    return f"Guest{uuid.uuid4().hex[:5]}"


def open_panel(page: Page) -> None:
    page.locator("#moderation-button").click()
    expect(page.locator("#moderation-panel")).to_be_visible()


def open_settings(page: Page) -> None:
    page.locator("#room-settings-button").click()
    expect(page.locator("#room-settings-dialog")).to_be_visible()


def save_settings(page: Page) -> None:
    page.locator("#room-settings-save").click()
    expect(page.locator("#room-settings-status")).to_have_text("Saved.")
    page.locator("#room-settings-close").click()
    expect(page.locator("#room-settings-dialog")).to_be_hidden()


def test_a_guest_reports_a_message_and_the_moderator_removes_it_from_the_queue(
    open_page: Callable[..., Page], site: Site, devices: list[ChatClient]
) -> None:
    room = fresh_room()
    owner, _ = site.register("owner")
    spammer, spammer_token = site.register("spam")
    owner_page = open_page()
    log_in_and_join(owner_page, site, owner, room)
    guest = guest_name()
    guest_page = open_page()
    join(guest_page, site.url, guest, room)

    writer = site.device(spammer_token)
    devices.append(writer)
    assert writer.join(spammer, room)["ok"]
    sent = writer.call("send_message", {"room": room, "message": "buy cheap watches"})
    assert sent["ok"], sent
    message_id = sent["message"]["id"]

    # One's own message has no Report; another's has, for a guest too.
    send(guest_page, "hello all")
    menu = open_menu(guest_page, sent_message(guest_page, "hello all"))
    expect(menu.get_by_role("menuitem", name="Report", exact=True)).to_be_hidden()
    guest_page.keyboard.press("Escape")
    menu = open_menu(guest_page, sent_message(guest_page, "buy cheap watches"))
    menu.get_by_role("menuitem", name="Report", exact=True).click()
    expect(guest_page.locator("#moderation-reason-label")).to_contain_text("moderators only")
    confirm(guest_page, reason="spam")
    expect(guest_page.locator("#chat-notice")).to_contain_text("the moderators will look")

    # The owner's button counts it, live; the queue lists it with the report.
    expect(owner_page.locator("#moderation-badge")).to_have_text("1")
    open_panel(owner_page)
    item = owner_page.locator('#moderation-queue li[data-kind="report"]')
    expect(item).to_have_count(1)
    expect(item).to_have_attribute("data-message-id", message_id)
    expect(item.locator(".queue-text")).to_have_text("buy cheap watches")
    expect(item.locator(".queue-report")).to_have_text(f"{guest}: spam")
    item.get_by_role("button", name="Remove", exact=True).click()
    expect(item).to_have_count(0)
    expect(owner_page.locator("#moderation-queue-empty")).to_be_visible()
    expect(owner_page.locator("#moderation-badge")).to_be_hidden()
    removed = guest_page.locator(f'#messages li[data-id="{message_id}"] .message-deleted')
    expect(removed).to_have_text("Removed by a moderator")
    expect(
        owner_page.locator('#moderation-audit li[data-action="message_removed"]').first
    ).to_contain_text(owner)


def test_a_held_link_waits_for_review_and_once_approved_everyone_reads_it(
    open_page: Callable[..., Page], site: Site
) -> None:
    room = fresh_room()
    owner, _ = site.register("owner")
    member, _ = site.register("member")
    owner_page = open_page()
    log_in_and_join(owner_page, site, owner, room)
    member_page = open_page()
    log_in_and_join(member_page, site, member, room)
    newcomer = guest_name()
    guest_page = open_page()
    join(guest_page, site.url, newcomer, room)

    # A link from someone who just came in: held (the instance's default for links).
    text = "look at https://example.com/deal"
    send(guest_page, text)
    held = guest_page.locator("#messages > li.message.is-held")
    expect(held.locator(".status")).to_have_text("Waiting for a moderator's review")
    expect(held.locator(".message-text")).to_have_text(text)
    expect(guest_page.locator("#chat-error")).to_be_hidden()

    expect(owner_page.locator("#moderation-badge")).to_have_text("1")
    open_panel(owner_page)
    item = owner_page.locator('#moderation-queue li[data-kind="held"]')
    expect(item.locator(".queue-why")).to_have_text("Held by the rule: Links from newcomers")
    expect(item.locator(".queue-author")).to_have_text(newcomer)
    expect(sent_message(member_page, text)).to_have_count(0)
    item.get_by_role("button", name="Approve", exact=True).click()
    expect(item).to_have_count(0)

    # Published as the newcomer's: everyone reads it, and the author's held copy gives way.
    expect(sent_message(member_page, text)).to_have_count(1)
    expect(sent_message(owner_page, text)).to_have_count(1)
    expect(sent_message(guest_page, text)).to_have_count(1)
    expect(guest_page.locator("#messages > li.message.is-held")).to_have_count(0)
    expect(owner_page.locator("#moderation-badge")).to_be_hidden()


def test_the_settings_dialog_changes_the_topic_slow_mode_and_who_may_write_for_everyone(
    open_page: Callable[..., Page], site: Site
) -> None:
    room = fresh_room()
    owner, _ = site.register("owner")
    owner_page = open_page()
    log_in_and_join(owner_page, site, owner, room)
    guest_page = open_page()
    join(guest_page, site.url, guest_name(), room)
    expect(guest_page.locator("#room-settings-button")).to_be_hidden()
    expect(guest_page.locator("#room-topic")).to_be_hidden()

    open_settings(owner_page)
    owner_page.locator("#settings-topic").fill("<b>Weekly</b> sync")
    owner_page.locator("#settings-slow-mode").select_option(label="30 s")
    save_settings(owner_page)

    # Shown as text, never as markup.
    expect(owner_page.locator("#room-topic")).to_have_text("<b>Weekly</b> sync")
    expect(guest_page.locator("#room-topic")).to_have_text("<b>Weekly</b> sync")
    expect(guest_page.locator("#room-topic b")).to_have_count(0)
    expect(guest_page.locator("#room-notice")).to_have_text("Slow mode: one message every 30 s.")
    # The staff are never held by slow mode: no notice for them.
    expect(owner_page.locator("#room-notice")).to_be_hidden()
    send(guest_page, "first")
    expect(sent_message(guest_page, "first")).to_have_count(1)
    send(guest_page, "second")
    waiting = guest_page.locator("#messages > li.message.is-failed")
    expect(waiting.locator(".message-error")).to_contain_text("low mode")
    expect(waiting.get_by_role("button", name="Retry")).to_be_visible()

    # Accounts only: the guest's composer closes and says why.
    open_settings(owner_page)
    expect(owner_page.locator("#settings-topic")).to_have_value("<b>Weekly</b> sync")
    owner_page.locator("#settings-post").select_option("registered")
    owner_page.locator("#settings-slow-mode").select_option(label="Off")
    save_settings(owner_page)
    expect(guest_page.locator("#room-notice")).to_contain_text("Only people with an account")
    expect(guest_page.locator("#message-input")).to_be_disabled()
    expect(owner_page.locator("#message-input")).to_be_enabled()


def test_an_invite_only_room_gives_a_link_that_lets_a_guest_in(
    open_page: Callable[..., Page], site: Site
) -> None:
    room = fresh_room()
    owner, _ = site.register("owner")
    owner_page = open_page()
    log_in_and_join(owner_page, site, owner, room)
    open_settings(owner_page)
    owner_page.locator("#settings-invite-only").check()
    owner_page.locator("#room-settings-save").click()
    expect(owner_page.locator("#room-settings-status")).to_have_text("Saved.")
    link_field = owner_page.locator("#settings-invite-link")
    expect(link_field).to_have_value(re.compile(rf"/\?room={room}&invite=\S+$"))
    first_link = link_field.input_value()
    owner_page.locator("#settings-invite-renew").click()
    expect(link_field).not_to_have_value(first_link)
    link = link_field.input_value()

    # Without the code a guest is refused; with the link, the same person comes in.
    stranger = open_page()
    stranger.goto(f"{site.url}/chat?room={room}&username={guest_name()}")
    expect(stranger.locator("#chat-error-text")).to_contain_text("invite")
    invited = open_page()
    invited.goto(link)
    expect(invited.locator("#room")).to_have_value(room)
    invited.locator("#username").fill(guest_name())
    invited.locator("#join-button").click()
    invited.wait_for_url(re.compile(r"/chat\?"))
    wait_connected(invited)


def test_staff_pin_and_unpin_and_roles_change_live(
    open_page: Callable[..., Page], site: Site, devices: list[ChatClient]
) -> None:
    room = fresh_room()
    owner, owner_token = site.register("owner")
    member, _ = site.register("member")
    owner_page = open_page()
    log_in_and_join(owner_page, site, owner, room)
    member_page = open_page()
    log_in_and_join(member_page, site, member, room)
    writer = site.device(owner_token)
    devices.append(writer)
    assert writer.join(owner, room)["ok"]
    sent = writer.call("send_message", {"room": room, "message": "read the rules"})
    assert sent["ok"], sent

    # A plain member has no Pin.
    menu = open_menu(member_page, sent_message(member_page, "read the rules"))
    expect(menu.get_by_role("menuitem", name="Pin", exact=True)).to_be_hidden()
    member_page.keyboard.press("Escape")

    menu = open_menu(owner_page, sent_message(owner_page, "read the rules"))
    menu.get_by_role("menuitem", name="Pin", exact=True).click()
    expect(member_page.locator("#pins-toggle")).to_have_text("Pinned: 1")
    member_page.locator("#pins-toggle").click()
    expect(member_page.locator("#pins-list .pin-text")).to_have_text("read the rules")
    expect(member_page.locator("#pins-list .pin-unpin")).to_have_count(0)

    # Named moderator: the member's page gets the staff's tools without a reload.
    named = site.api("PUT", f"/rooms/{room}/moderators/{member}", owner_token)
    assert named.status_code == 200, named.text
    expect(member_page.locator("#moderation-button")).to_be_visible()
    expect(member_page.locator(f'#users li[data-username="{member}"] .role-badge')).to_have_text(
        "moderator"
    )
    menu = open_menu(member_page, sent_message(member_page, "read the rules"))
    menu.get_by_role("menuitem", name="Unpin", exact=True).click()
    expect(owner_page.locator("#pins")).to_be_hidden()
    expect(member_page.locator("#pins")).to_be_hidden()


def test_a_word_the_room_refuses_is_refused_in_the_server_words(
    open_page: Callable[..., Page], site: Site
) -> None:
    room = fresh_room()
    owner, _ = site.register("owner")
    owner_page = open_page()
    log_in_and_join(owner_page, site, owner, room)
    open_settings(owner_page)
    owner_page.locator("#settings-words").fill("bananas\nkiwis")
    owner_page.locator("#settings-automod-words").select_option("refuse")
    save_settings(owner_page)
    open_settings(owner_page)
    expect(owner_page.locator("#settings-words")).to_have_value("bananas\nkiwis")
    owner_page.locator("#room-settings-close").click()

    guest_page = open_page()
    join(guest_page, site.url, guest_name(), room)
    send(guest_page, "I love bananas")
    refused = guest_page.locator("#messages > li.message.is-failed")
    expect(refused.locator(".message-error")).to_contain_text("does not accept")
    expect(guest_page.locator("#chat-error-text")).to_contain_text("does not accept")
    expect(refused.get_by_role("button", name="Retry")).to_have_count(0)
    expect(sent_message(owner_page, "I love bananas")).to_have_count(0)


def test_an_administrator_gives_the_room_to_another_account_and_every_page_follows(
    open_page: Callable[..., Page], site: Site, devices: list[ChatClient]
) -> None:
    room = fresh_room()
    made = requests.post(
        f"{site.url}/api/v1/auth/register",
        json={"username": ADMIN, "password": PASSWORD},
        timeout=10,
    )
    assert made.status_code in (201, 409), made.text
    owner, owner_token = site.register("owner")
    heir, _ = site.register("heir")
    founder = site.device(owner_token)
    devices.append(founder)
    assert founder.join(owner, room)["ok"]
    heir_page = open_page()
    log_in_and_join(heir_page, site, heir, room)
    expect(heir_page.locator("#moderation-button")).to_be_hidden()

    admin_page = open_page()
    log_in_and_join(admin_page, site, ADMIN, room)
    open_panel(admin_page)
    admin_page.locator("#moderation-handover-name").fill(heir)
    admin_page.locator("#moderation-handover-button").click()
    expect(admin_page.locator("#moderation-dialog-title")).to_have_text(f"Give #{room} to {heir}?")
    confirm(admin_page, reason="the old owner left")
    expect(
        admin_page.locator('#moderation-audit li[data-action="owner_changed"]').first
    ).to_contain_text(f"{ADMIN} handed the room to {heir}")

    # The roles event: the new owner's page gets the badge and the staff's tools at once.
    expect(heir_page.locator(f'#users li[data-username="{heir}"] .role-badge')).to_have_text(
        "owner"
    )
    expect(heir_page.locator("#moderation-button")).to_be_visible()
    expect(heir_page.locator("#room-settings-button")).to_be_visible()
    # An administrator is never listed in the roles: the panel stays theirs.
    expect(admin_page.locator("#moderation-handover")).to_be_visible()
