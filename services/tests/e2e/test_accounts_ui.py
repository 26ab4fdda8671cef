"""Accounts in the web UI (Debian Chromium) on the real stack: Redis, two chat workers on one
migrated database, nginx in front. Signing up and staying signed in across reloads through
the httpOnly refresh cookie, logging out, logging in, a refusal and a rate limit shown in
the server's words, a profile edit another person sees on a click, a private conversation
opened from the online list with a second account (a python-socketio client signed in with
its token), and a guest told that private messages need an account.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from talkrooms.accounts.tokens import issue_access_token
from talkrooms.storage import database
from tests.e2e.helpers import join, send, sent_message, wait_connected
from tests.support.accounts import PASSWORD, SECRET
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer, free_port, stop_all, wait_until
from tests.support.stack import NginxServer, worker_routes

# Per account name: the rate-limit test reaches it on purpose; other tests use fresh names.
ACCOUNT_LIMIT = 3


class Site:
    """The stack's address (nginx) and the accounts' API as another device uses it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def register(self, stem: str) -> tuple[str, str]:
        """A new account: (username, access token)."""
        username, body = self.register_full(stem)
        return username, str(body["access_token"])

    def register_full(self, stem: str) -> tuple[str, dict[str, Any]]:
        """A new account: (username, the server's whole answer)."""
        username = f"{stem}{uuid.uuid4().hex[:6]}"
        response = requests.post(
            f"{self.url}/api/v1/auth/register",
            json={"username": username, "password": PASSWORD},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return username, dict(response.json())

    def api(self, method: str, path: str, token: str, **body: Any) -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/api/v1{path}",
            json=body or None,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def device(self, token: str) -> ChatClient:
        """Another device of an account: a protocol 2 socket signed in with its token."""
        return ChatClient(self.url, auth={"protocol": 2, "token": token}).connect()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[Site]:
    folder: Path = tmp_path_factory.mktemp("accounts-ui")
    database_url = f"sqlite:///{folder / 'accounts.db'}"
    database.upgrade(database_url)
    ports = [free_port(), free_port()]
    routes = dict(worker_routes(ports))
    env = {
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "KEY_PREFIX": f"ui{uuid.uuid4().hex[:6]}",
        "AUTH_ADDRESS_RATE_LIMIT": "0",
        "AUTH_ACCOUNT_RATE_LIMIT": f"{ACCOUNT_LIMIT}/60",
    }
    workers = [
        ChatWorker(folder, redis_server.url, port=port, env={**env, "WORKER_ROUTE": routes[port]})
        for port in ports
    ]
    nginx = NginxServer(folder, ports)
    try:
        for worker in workers:
            worker.start()
        nginx.start()
        wait_until(
            lambda: requests.get(f"{nginx.url}/api/health", timeout=2).ok, 10, "nginx healthy"
        )
        yield Site(nginx.url)
    finally:
        nginx.stop()
        stop_all(workers)


@pytest.fixture
def devices() -> Iterator[list[ChatClient]]:
    opened: list[ChatClient] = []
    yield opened
    for client in opened:
        client.close()


def log_in(page: Page, site: Site, username: str, password: str = PASSWORD) -> None:
    """Log in on the login page's account card and wait until it says so."""
    page.goto(f"{site.url}/")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    expect(page.locator("#account-name")).to_have_text(username)


def join_signed_in(page: Page, room: str) -> None:
    """Signed in, the join form asks only for the room."""
    expect(page.locator("#username")).to_be_hidden()
    page.locator("#room").fill(room)
    page.locator("#join-button").click()
    page.wait_for_url(re.compile(r"/chat\?"))
    wait_connected(page)


def open_profile(page: Page, username: str) -> None:
    page.locator(f'#users [data-profile="{username}"]').click()
    expect(page.locator("#profile-card")).to_be_visible()


def conversation_item(page: Page, username: str) -> Locator:
    return page.locator(f'#conversations li[data-with="{username}"]')


def test_signing_up_keeps_the_person_signed_in_across_reloads_until_they_log_out(
    open_page: Callable[..., Page], site: Site, room_name: str
) -> None:
    page = open_page()
    username = f"Nora{uuid.uuid4().hex[:6]}"
    page.goto(f"{site.url}/")
    page.locator("#tab-register").click()
    page.locator("#register-username").fill(username)
    page.locator("#register-password").fill(PASSWORD)
    page.locator("#register-submit").click()
    expect(page.locator("#account-name")).to_have_text(username)
    expect(page.locator("#joining-as")).to_contain_text(username)
    # The refresh token is an httpOnly cookie: the page's scripts never see it.
    assert "tr_refresh" not in page.evaluate("document.cookie")

    page.reload()
    expect(page.locator("#account-name")).to_have_text(username)
    join_signed_in(page, room_name)
    expect(page.locator("#users .user-name")).to_have_text([username])
    expect(page.locator("#account-button-name")).to_have_text(username)
    send(page, "signed in and talking")
    expect(sent_message(page, "signed in and talking").locator(".author")).to_have_text(username)

    page.reload()
    wait_connected(page)
    expect(page.locator("#account-button")).to_be_visible()
    expect(sent_message(page, "signed in and talking")).to_have_count(1)

    page.locator("#account-button").click()
    page.locator("#profile-logout").click()
    page.wait_for_url(re.compile(r"/\?room="))
    expect(page.locator("#account-guest")).to_be_visible()
    page.reload()
    expect(page.locator("#tab-login")).to_be_visible()
    expect(page.locator("#account-signed-in")).to_be_hidden()
    expect(page.locator("#username")).to_be_visible()
    assert page.log.errors == []  # type: ignore[attr-defined]


def test_logging_in_shows_the_servers_refusal_then_signs_in(
    open_page: Callable[..., Page], site: Site, room_name: str
) -> None:
    username, _ = site.register("Omar")
    refusal = requests.post(
        f"{site.url}/api/v1/auth/login",
        json={"username": username, "password": "not the password"},
        timeout=10,
    ).json()["error"]
    page = open_page()
    page.goto(f"{site.url}/")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill("still not the password")
    page.locator("#login-submit").click()
    expect(page.locator("#account-login-error")).to_have_text(refusal)

    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-submit").click()
    expect(page.locator("#account-name")).to_have_text(username)
    join_signed_in(page, room_name)
    expect(page.locator("#users .user-name")).to_have_text([username])


def test_a_rate_limited_login_says_when_to_try_again(
    open_page: Callable[..., Page], site: Site
) -> None:
    username, _ = site.register("Pia")
    page = open_page()
    page.goto(f"{site.url}/")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill("wrong password, again")
    error = page.locator("#account-login-error")
    for _attempt in range(ACCOUNT_LIMIT + 1):
        page.locator("#login-submit").click()
        expect(page.locator("#login-submit")).to_be_enabled()
    expect(error).to_contain_text(re.compile(r"Try again in \d+ s\."))


def test_an_edited_profile_is_what_another_person_sees_on_a_click(
    open_page: Callable[..., Page], site: Site, room_name: str
) -> None:
    alice_name, _ = site.register("Alice")
    bob_name, _ = site.register("Bob")
    alice, bob = open_page(), open_page()
    log_in(alice, site, alice_name)
    join_signed_in(alice, room_name)

    alice.locator("#account-button").click()
    alice.locator("#profile-edit").click()
    expect(alice.locator("#profile-editor")).to_be_visible()
    expect(alice.locator("#profile-display-name")).to_have_value(alice_name)
    alice.locator("#profile-display-name").fill("Alice <b>")
    alice.locator("#profile-bio").fill("Tea & <i>cakes</i>")
    alice.locator('label[title="#A55EEA"]').click()
    alice.locator("#profile-save").click()
    # The server's refusal, in its words.
    expect(alice.locator("#profile-editor-error")).to_contain_text("Display name must be")
    alice.locator("#profile-display-name").fill("Alice Wonder")
    alice.locator("#profile-save").click()
    expect(alice.locator("#profile-editor")).to_be_hidden()
    expect(alice.locator("#account-button-name")).to_have_text("Alice Wonder")

    log_in(bob, site, bob_name)
    join_signed_in(bob, room_name)
    open_profile(bob, alice_name)
    card = bob.locator("#profile-card")
    expect(card.locator("#profile-card-name")).to_have_text("Alice Wonder")
    expect(card.locator("#profile-card-username")).to_have_text(f"@{alice_name}")
    expect(card.locator("#profile-card-bio")).to_have_text("Tea & <i>cakes</i>")
    expect(card.locator("i")).to_have_count(0)  # text, never markup
    expect(card.locator("#profile-message")).to_be_visible()
    expect(card.locator("#profile-block")).to_have_text("Block")
    expect(card.locator("#profile-edit")).to_be_hidden()  # not his profile


def test_a_private_conversation_opened_from_the_online_list_goes_both_ways(
    open_page: Callable[..., Page], site: Site, room_name: str, devices: list[ChatClient]
) -> None:
    alice_name, _ = site.register("Alice")
    bob_name, bob_token = site.register("Bob")
    bob = site.device(bob_token)
    devices.append(bob)
    assert bob.call("join_room", {"room": room_name, "username": "ignored"})["ok"]

    page = open_page()
    log_in(page, site, alice_name)
    join_signed_in(page, room_name)
    expect(page.locator("#users .user-name")).to_have_text(sorted([alice_name, bob_name]))
    open_profile(page, bob_name)
    page.locator("#profile-message").click()
    expect(page.locator("#profile-card")).to_be_hidden()
    expect(page.locator(".room-name")).to_have_text(f"@{bob_name}")
    expect(page.locator("#messages > li.notice-welcome")).to_have_text(
        f"Private conversation with {bob_name}"
    )
    expect(conversation_item(page, bob_name)).to_have_count(1)

    # Bob's device hears of the conversation (the `conversation` event) and joins its room.
    opened = bob.wait_for("conversation", timeout=10)
    dm_room = opened["room"]
    assert opened["with"]["username"] == alice_name and opened["can_write"] is True
    assert bob.call("join_room", {"room": dm_room, "username": "ignored"})["ok"]

    send(page, "hello Bob, just us")
    received = bob.wait_for(
        "new_message", lambda m: m["room"] == dm_room and m["message"] == "hello Bob, just us"
    )
    assert received["username"] == alice_name
    assert bob.call(
        "send_message", {"room": dm_room, "message": "hi Alice", "client_id": uuid.uuid4().hex}
    )["ok"]
    expect(sent_message(page, "hi Alice")).to_have_count(1)

    # Elsewhere, the conversation counts what Bob writes.
    page.locator(f'#rooms button[data-room="{room_name}"]').click()
    expect(page.locator(".room-name")).to_have_text(f"#{room_name}")
    assert bob.call(
        "send_message", {"room": dm_room, "message": "are you there?", "client_id": "c2"}
    )["ok"]
    expect(conversation_item(page, bob_name).locator(".unread-badge")).to_have_text("1")
    expect(sent_message(page, "are you there?")).to_have_count(0)
    conversation_item(page, bob_name).locator("button").click()
    expect(sent_message(page, "are you there?")).to_have_count(1)
    expect(conversation_item(page, bob_name).locator(".unread-badge")).to_have_count(0)

    # Bob blocks Alice: her page says she cannot write to him any more, until he unblocks her.
    notice = page.locator("#conversation-notice")
    assert site.api("PUT", f"/blocks/{alice_name}", bob_token).ok
    expect(notice).to_have_text(f"You cannot write to {bob_name} any more.")
    expect(page.locator("#message-input")).to_be_disabled()
    assert site.api("DELETE", f"/blocks/{alice_name}", bob_token).ok
    expect(notice).to_be_hidden()
    expect(page.locator("#message-input")).to_be_enabled()

    # Alice blocks Bob from his card (he is in the conversation's online list), then unblocks.
    open_profile(page, bob_name)
    page.locator("#profile-block").click()
    expect(page.locator("#profile-card-notice")).to_contain_text(f"You blocked {bob_name}")
    expect(page.locator("#profile-block")).to_have_text("Unblock")
    page.locator("#profile-close").click()
    expect(notice).to_contain_text(f"You blocked {bob_name}.")
    expect(conversation_item(page, bob_name)).to_have_class(re.compile(r"\bblocked\b"))
    open_profile(page, bob_name)
    page.locator("#profile-block").click()
    expect(page.locator("#profile-block")).to_have_text("Block")
    page.locator("#profile-close").click()
    expect(notice).to_be_hidden()

    # "New message" with a name no account has: the server's refusal shows.
    page.locator("#new-message-input").fill(f"nobody{uuid.uuid4().hex[:6]}")
    page.locator("#new-message-button").click()
    expect(page.locator("#new-message-error")).not_to_be_empty()

    # After a reload the conversation is listed again (GET /api/v1/conversations).
    page.reload()
    wait_connected(page)
    expect(conversation_item(page, bob_name)).to_have_count(1)


def test_a_guest_who_tries_to_message_someone_is_told_to_get_an_account(
    open_page: Callable[..., Page], site: Site, room_name: str, devices: list[ChatClient]
) -> None:
    carol_name, carol_token = site.register("Carol")
    carol = site.device(carol_token)
    devices.append(carol)
    assert carol.call("join_room", {"room": room_name, "username": "ignored"})["ok"]

    page = open_page()
    join(page, site.url, f"guest{uuid.uuid4().hex[:6]}", room_name)
    expect(page.locator("#private-messages-guest")).to_be_visible()
    expect(page.locator("#new-message-form")).to_be_hidden()
    open_profile(page, carol_name)
    expect(page.locator("#profile-block")).to_be_hidden()
    page.locator("#profile-message").click()
    expect(page.locator("#profile-card-notice")).to_have_text(
        "Private messages need an account: log in or sign up"
    )
    # A guest's own card: the name only, nothing to message or block.
    page.locator("#profile-close").click()
    me = page.locator("#users li.me [data-profile]")
    me.click()
    expect(page.locator("#profile-card-since")).to_have_text("Guest (no account)")
    expect(page.locator("#profile-message")).to_be_hidden()


# The client core as the page loads it, driven by hand: its handshake token is refused, it
# asks for another and connects again, and what it queued meanwhile goes out once.
RENEWAL = """
async ({ first, next, room, text }) => {
  const { ChatSession } = await import('/static/vendor/talkrooms-client/talkrooms-client.js');
  const { io } = await import('/static/vendor/socket.io-client/socket.io.esm.min.js');
  const seen = { refreshes: 0, errors: [], states: [], messages: [] };
  const session = new ChatSession({
    url: location.origin, username: 'ignored', room, protocol: 2, connect: io,
    socketOptions: { transports: ['websocket'] },
    auth: {
      token: async () => (seen.refreshes ? next : first),
      refresh: async () => { seen.refreshes += 1; return next; },
    },
  });
  session.on('error', (e) => seen.errors.push([e.code, e.message, e.fatal]));
  // Done when the queued message is stored, or (nothing queued) when the session stopped.
  const done = new Promise((resolve) => {
    session.on('connection', (state) => {
      seen.states.push(state);
      if (!text && state === 'stopped') resolve();
    });
    session.on('message', (m) => {
      seen.messages.push([m.username, m.message]);
      if (m.message === text) resolve();
    });
  });
  session.start();
  if (text) session.send(text);
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 10000))]);
  seen.username = session.username;
  seen.connection = session.connection;
  await session.leave();
  return seen;
}
"""


def test_an_expired_token_is_renewed_and_the_queued_message_goes_once(
    open_page: Callable[..., Page], site: Site, room_name: str, devices: list[ChatClient]
) -> None:
    username, body = site.register_full("Quinn")
    expired = issue_access_token(int(body["account"]["id"]), SECRET, 60, now=time.time() - 3600)
    watcher_name, watcher_token = site.register("Rita")
    watcher = site.device(watcher_token)
    devices.append(watcher)
    assert watcher.call("join_room", {"room": room_name, "username": "ignored"})["ok"]

    page = open_page()
    page.goto(f"{site.url}/")
    text = "queued while the token was renewed"
    seen = page.evaluate(
        RENEWAL,
        {"first": expired, "next": body["access_token"], "room": room_name, "text": text},
    )
    assert seen["refreshes"] == 1
    assert seen["username"] == username  # the account's name, whatever join_room said
    assert seen["errors"] == []
    assert [m for m in seen["messages"] if m[1] == text] == [[username, text]]
    stored = watcher.wait_for("new_message", lambda m: m["message"] == text)
    assert stored["username"] == username != watcher_name
    assert len([m for m in watcher.received("new_message") if m["message"] == text]) == 1


def test_a_token_that_cannot_be_renewed_ends_the_session_with_words_to_show(
    open_page: Callable[..., Page], site: Site, room_name: str
) -> None:
    page = open_page()
    page.goto(f"{site.url}/")
    seen = page.evaluate(
        RENEWAL, {"first": "not-a-token", "next": None, "room": room_name, "text": None}
    )
    assert seen["refreshes"] == 1
    assert seen["connection"] in ("stopped", "left")
    assert seen["errors"] == [["invalid_token", "Your session ended: log in again", True]]
