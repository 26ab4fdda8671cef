"""Notifications in the web UI (Debian Chromium) on a real chat worker with accounts: the
service worker at /sw.js showing a push (delivered through the DevTools protocol, as the
browser's push service would) and opening its room when clicked, in the open tab or, with no
tab open, through the room's link, which also carries a signed-out person through the login
page into the room or private conversation; this device's Web Push
subscription registered from the page's switch and removed at log-out; the unread count in
the tab title and on the favicon; a toast for a mention in another room; and the per-room
menu saving a level the API then shows.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import Frame, Page, expect

from talkrooms.storage import database
from tests.e2e.conftest import PageLog
from tests.e2e.helpers import wait_connected
from tests.support.accounts import PASSWORD, SECRET
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer, wait_until

WAIT_S = 10
# A push is shown by a service worker the browser may have to start first: on a loaded box
# (CI runs the whole suite on 2 cores) that took over 10 s once.
PUSH_WAIT_S = 20


class Site:
    """The worker's address and the accounts' API as another device uses it."""

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

    def api(self, method: str, path: str, token: str, body: Any = None) -> Any:
        response = requests.request(
            method,
            f"{self.url}/api/v1{path}",
            headers={"Authorization": f"Bearer {token}"},
            json=body,
            timeout=10,
        )
        assert response.ok, response.text
        return response.json()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[Site]:
    folder: Path = tmp_path_factory.mktemp("notifications-ui")
    database_url = f"sqlite:///{folder / 'accounts.db'}"
    database.upgrade(database_url)
    worker = ChatWorker(
        folder,
        redis_server.url,
        env={
            "DATABASE_URL": database_url,
            "JWT_SECRET": SECRET,
            "KEY_PREFIX": f"nu{uuid.uuid4().hex[:6]}",
            "AUTH_ADDRESS_RATE_LIMIT": "0",
        },
    )
    try:
        worker.start()
        yield Site(worker.url)
    finally:
        worker.stop()


@pytest.fixture
def guests() -> Iterator[list[ChatClient]]:
    opened: list[ChatClient] = []
    yield opened
    for client in opened:
        client.close()


def signed_in_page(
    open_page: Callable[..., Page],
    site: Site,
    username: str,
    rooms: list[str],
    focus: list[dict[str, Any]] | None = None,
) -> Page:
    """A signed-in page in `rooms`, the last one shown; `focus` collects the focus it sends."""
    page = open_page(permissions=["notifications"])
    if focus is not None:
        page.on("websocket", lambda ws: ws.on("framesent", lambda frame: note_focus(frame, focus)))
    page.goto(f"{site.url}/")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-submit").click()
    expect(page.locator("#account-name")).to_have_text(username)
    page.locator("#room").fill(rooms[0])
    page.locator("#join-button").click()
    page.wait_for_url(re.compile(r"/chat\?"))
    wait_connected(page)
    for room in rooms[1:]:
        page.locator("#join-room-input").fill(room)
        page.locator("#join-room-button").click()
        expect(page.locator(".room-name")).to_have_text(f"#{room}")
    wait_connected(page)
    return page


def note_focus(frame: str | bytes, focus: list[dict[str, Any]]) -> None:
    """A Socket.IO `focus` event the page sent (`42["focus", {...}]`, with an ack id)."""
    if isinstance(frame, str) and frame.startswith("42"):
        packet = json.loads(frame[2:].lstrip("0123456789"))
        if packet[0] == "focus":
            focus.append(packet[1])


def guest_in(site: Site, room: str, guests: list[ChatClient]) -> ChatClient:
    client = ChatClient(site.url, auth={"protocol": 2}).connect()
    guests.append(client)
    assert client.join(f"g{uuid.uuid4().hex[:6]}", room)["ok"]
    return client


def notifications_shown(page: Page, tag: str) -> list[dict[str, Any]]:
    return list(
        page.evaluate(
            """async (tag) => {
                const registration = await navigator.serviceWorker.ready;
                const shown = await registration.getNotifications({ tag });
                return shown.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data}));
            }""",
            tag,
        )
    )


def push_payload(room: str) -> dict[str, Any]:
    """What the server pushes for a mention in `room` (docs/notifications.md)."""
    return {
        "room": room,
        "title": f"#{room}",
        "body": f"Zoe mentioned you in #{room}",
        "count": 1,
        "message_id": "000000000001",
        "tag": f"room:{room}",
    }


def deliver_push(page: Page, site: Site, payload: dict[str, Any]) -> None:
    """The DevTools protocol delivers a push to the registration, as a push service would."""
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    wait_until(
        lambda: page.evaluate("1") and any(not r["isDeleted"] for r in registrations),
        WAIT_S,
        "the service worker's registration",
    )
    registration = next(r for r in registrations if not r["isDeleted"])
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": site.url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(payload),
        },
    )
    cdp.detach()


def note_address(frame: Frame, page: Page, visited: list[str]) -> None:
    """The addresses `page` shows, one per navigation of its main frame."""
    if frame == page.main_frame:
        visited.append(frame.url)


def room_link(room: str) -> str:
    """The link sw.js opens for a click on `room`'s notification when no tab is open."""
    return f"/?room={quote(room, safe='')}&open=1"


def test_a_push_shows_a_notification_and_clicking_it_opens_the_room(
    open_page: Callable[..., Page], site: Site, room_name: str
) -> None:
    username, _ = site.register("Pia")
    other = f"{room_name}b"
    page = signed_in_page(open_page, site, username, [room_name, other])
    state = page.evaluate(
        "navigator.serviceWorker.ready.then((r) => [r.scope, r.active.scriptURL])"
    )
    assert state == [f"{site.url}/", f"{site.url}/sw.js"]

    tag = f"room:{room_name}"
    payload = push_payload(room_name)
    deliver_push(page, site, payload)
    wait_until(lambda: bool(notifications_shown(page, tag)), PUSH_WAIT_S, "the notification")
    assert notifications_shown(page, tag) == [
        {
            "title": payload["title"],
            "body": payload["body"],
            "tag": tag,
            "data": {"room": room_name, "messageId": "000000000001"},
        }
    ]

    # A click: the worker's own notificationclick path, run in the worker on the notification
    # it showed (CDP has no command that clicks a notification).
    worker = next(w for w in page.context.service_workers if w.url.endswith("/sw.js"))
    worker.evaluate(
        """async (tag) => {
            const [notification] = await self.registration.getNotifications({ tag });
            self.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
        }""",
        tag,
    )
    expect(page.locator(".room-name")).to_have_text(f"#{room_name}")
    expect(page).to_have_url(re.compile(rf"room={room_name}$"))
    wait_until(lambda: not notifications_shown(page, tag), WAIT_S, "the notification closed")
    assert page.log.errors == []  # type: ignore[attr-defined]


def test_a_click_with_no_tab_open_opens_the_room_link_signed_in(
    open_page: Callable[..., Page], site: Site, room_name: str
) -> None:
    username, _ = site.register("Ola")
    other = f"{room_name}b"
    page = signed_in_page(open_page, site, username, [room_name, other])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    tag = f"room:{room_name}"
    deliver_push(page, site, push_payload(room_name))
    wait_until(lambda: bool(notifications_shown(page, tag)), PUSH_WAIT_S, "the notification")

    # Every page of the site closes; a blank page keeps the browser context (the person's
    # browser, its storage and the refresh cookie) open.
    context = page.context
    blank = context.new_page()
    page.close()
    worker = next(w for w in context.service_workers if w.url.endswith("/sw.js"))
    windows = "self.clients.matchAll({ type: 'window', includeUncontrolled: true })"
    assert worker.evaluate(f"{windows}.then((w) => w.length)") == 0

    # The worker's own click handler on the notification it showed. Chromium lets
    # clients.openWindow() open a window only during a click the browser dispatched (CDP has
    # no command that clicks a notification): the address the worker asks for is recorded,
    # and the test opens it in the same browser context, as the browser would.
    worker.evaluate(
        """async (tag) => {
            self.__opened = [];
            self.clients.openWindow = async (url) => {
                self.__opened.push(url);
                return null;
            };
            const [notification] = await self.registration.getNotifications({ tag });
            self.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
        }""",
        tag,
    )
    wait_until(
        lambda: worker.evaluate("self.__opened.length") > 0, WAIT_S, "the worker opening a window"
    )
    link = room_link(room_name)
    assert worker.evaluate("self.__opened") == [link]
    assert worker.evaluate("(tag) => self.registration.getNotifications({ tag })", tag) == []

    opened = context.new_page()
    visited: list[str] = []
    opened.on("framenavigated", lambda frame: note_address(frame, opened, visited))
    log = PageLog()
    opened.on("console", log.record_console)
    opened.on("pageerror", lambda error: log.errors.append(str(error)))
    opened.goto(f"{site.url}{link}")
    # Signed in on this browser: the login page goes on to the room at once.
    opened.wait_for_url(f"{site.url}/chat?username={username}&room={room_name}")
    wait_connected(opened)
    expect(opened.locator(".room-name")).to_have_text(f"#{room_name}")
    expect(opened.locator("#account-button-name")).to_have_text(username)
    assert visited[:2] == [
        f"{site.url}{link}",
        f"{site.url}/chat?username={username}&room={room_name}",
    ]
    # The login page was replaced: "back" does not return to it.
    assert opened.evaluate("history.length") == 2
    blank.close()
    assert log.errors == []


@pytest.mark.parametrize("kind", ["room", "conversation"])
def test_the_room_link_signed_out_goes_through_the_login_page_to_the_room(
    open_page: Callable[..., Page], site: Site, room_name: str, kind: str
) -> None:
    username, token = site.register("Ada")
    if kind == "room":
        room, heading = room_name, f"#{room_name}"
    else:
        friend, _ = site.register("Bea")
        room = site.api("POST", "/conversations", token, {"username": friend})["room"]
        assert room.startswith("dm:")
        heading = f"@{friend}"
    link = room_link(room)

    page = open_page()
    page.goto(f"{site.url}{link}")
    # Not signed in here: the login page, with the account card's form.
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#account-login-form")).to_be_visible()
    expect(page.locator("#account-signed-in")).to_be_hidden()
    # A public room is offered to a guest; a private conversation's id is not.
    expect(page.locator("#room")).to_have_value(room if kind == "room" else "")
    assert page.url == f"{site.url}{link}"

    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-submit").click()
    # Signed in: on to the linked room, not to the join form and its default room.
    page.wait_for_url(f"{site.url}/chat?username={username}&room={quote(room, safe='')}")
    wait_connected(page)
    expect(page.locator(".room-name")).to_have_text(heading)
    if kind == "conversation":
        expect(page.locator(f'#conversations li[data-with="{friend}"]')).to_have_count(1)
    assert page.log.errors == []  # type: ignore[attr-defined]


# Headless Chromium has no push service: pushManager.subscribe() fails there ("Registration
# failed - permission denied") even with the permission granted. The page gets what a real
# browser would hand it instead: a subscription with a fresh P-256 key and auth secret.
FAKE_PUSH_SERVICE = (Path(__file__).parent / "fake_push_service.js").read_text(encoding="utf-8")


def test_the_switch_registers_this_browser_and_log_out_removes_it(
    open_page: Callable[..., Page], site: Site, room_name: str
) -> None:
    username, token = site.register("Quin")
    page = open_page(permissions=["notifications"])
    page.add_init_script(FAKE_PUSH_SERVICE)
    page.goto(f"{site.url}/")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-submit").click()
    expect(page.locator("#account-name")).to_have_text(username)
    page.locator("#room").fill(room_name)
    page.locator("#join-button").click()
    page.wait_for_url(re.compile(r"/chat\?"))
    wait_connected(page)

    page.locator("#notify-button").click()
    switch = page.locator("#notify-switch")
    expect(switch).not_to_be_checked()
    switch.check()
    expect(page.locator("#notify-device-status")).to_have_text(
        "Notifications are on for this device."
    )
    # Subscribed with the server's VAPID key (65 bytes, uncompressed P-256).
    assert page.evaluate("window.__pushLog") == [{"subscribe": True, "keyLength": 65}]
    devices = site.api("GET", "/push/devices", token)["devices"]
    assert [d["kind"] for d in devices] == ["webpush"]
    assert page.evaluate("localStorage.getItem('talkrooms.push_device')") == str(devices[0]["id"])

    page.reload()
    wait_connected(page)
    page.locator("#notify-button").click()
    expect(page.locator("#notify-switch")).to_be_checked()
    page.locator("#notify-close").click()

    page.locator("#account-button").click()
    page.locator("#profile-logout").click()
    page.wait_for_url(re.compile(r"/\?room="))
    assert site.api("GET", "/push/devices", token)["devices"] == []
    assert page.evaluate("localStorage.getItem('talkrooms.push_device')") is None
    assert page.log.errors == []  # type: ignore[attr-defined]


def test_unread_counts_a_mention_toast_and_the_room_menu(
    open_page: Callable[..., Page], site: Site, room_name: str, guests: list[ChatClient]
) -> None:
    username, token = site.register("Rae")
    other = f"{room_name}b"
    focus: list[dict[str, Any]] = []
    page = signed_in_page(open_page, site, username, [room_name, other], focus)
    # The server is told which room is looked at, so it does not notify that one.
    wait_until(
        lambda: page.evaluate("1") and focus[-1:] == [{"room": other, "focused": True}],
        WAIT_S,
        "the focus on the room shown",
    )
    assert {"room": room_name, "focused": True} in focus
    assert {"room": room_name, "focused": False} in focus
    guest = guest_in(site, room_name, guests)
    icon = page.locator('link[rel="icon"]')

    assert guest.send("anyone here?", room=room_name)["ok"]
    expect(page).to_have_title(f"(1) #{other} · TalkRooms")
    expect(icon).to_have_attribute("data-count", "1")
    expect(icon).to_have_attribute("href", re.compile(r"^blob:"))
    expect(page.locator("#toasts .toast")).to_have_count(0)

    assert guest.send(f"@{username} <b>look</b> at this", room=room_name)["ok"]
    expect(page).to_have_title(f"(2) #{other} · TalkRooms")
    expect(icon).to_have_attribute("data-count", "2")
    toast = page.locator("#toasts .toast")
    expect(toast).to_have_text(
        f"{guest_name(guest)} mentioned you in #{room_name}: @{username} <b>look</b> at this"
    )
    # The message's words are text, never markup.
    expect(toast.locator("b")).to_have_count(0)
    toast.click()
    expect(page.locator(".room-name")).to_have_text(f"#{room_name}")
    expect(page).to_have_title(f"#{room_name} · TalkRooms")
    expect(icon).to_have_attribute("data-count", "0")
    expect(icon).to_have_attribute("href", "/static/img/logo.svg")
    wait_until(
        lambda: (
            page.evaluate("1")
            and focus[-2:]
            == [
                {"room": other, "focused": False},
                {"room": room_name, "focused": True},
            ]
        ),
        WAIT_S,
        "the focus moved with the room shown",
    )

    page.locator("#notify-button").click()
    expect(page.locator("#notify-room-heading")).to_have_text(f"In #{room_name}")
    expect(page.locator("#notify-level")).to_have_value("mentions")
    page.locator("#notify-level").select_option("all")
    expect(page.locator("#notify-status")).to_have_text("Saved.")
    page.locator("#notify-mute").select_option("480")
    expect(page.locator("#notify-muted-until")).to_be_visible()
    rooms = site.api("GET", "/notifications", token)["rooms"]
    mine = next(r for r in rooms if r["room"] == room_name)
    assert mine["level"] == "all" and mine["muted_until"]
    assert page.log.errors == []  # type: ignore[attr-defined]


def guest_name(client: ChatClient) -> str:
    joined = client.received("room_joined")
    return str(joined[0]["username"])
