"""Protocol 2 in the mobile app's web export (Chromium) against the real stack: several
rooms with their unread counts, an edit, a reaction and a reply made in the app.

The stack and the export are built the way test_mobile_app.py builds them (its helpers:
Redis, two workers and nginx, the export served from an origin of its own). The other
person is a python-socketio client that opts into protocol 2 in the handshake, so what the
app does is checked on the wire as well as on the screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from tests.e2e.helpers import shoot
from tests.e2e.test_mobile_app import PHONE, MobileStack, app_with_cluster
from tests.support.client import ChatClient
from tests.support.processes import wait_until
from tests.support.stack import Cluster

PROTOCOL_2 = {"protocol": 2}
APP_USER = "Maya"
CLIENT_KEY_STORAGE = "talkrooms.clientKey"  # mobile/app/config/storage.ts


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MobileStack]:
    work_dir = tmp_path_factory.mktemp("mobile-room-events")
    with app_with_cluster(work_dir, Cluster(work_dir, workers=2), "mobile room events") as built:
        yield built


@pytest.fixture
def people(stack: MobileStack) -> Iterator[Callable[[], ChatClient]]:
    """people() -> a connected protocol 2 python-socketio client, closed after the test."""
    clients: list[ChatClient] = []

    def _person() -> ChatClient:
        client = ChatClient(stack.cluster.url, auth=PROTOCOL_2)
        clients.append(client)
        return client.connect()

    yield _person
    for client in clients:
        client.close()


class SocketCount:
    """Lets the app's WebSockets through Playwright and counts them (reconnections show)."""

    def __init__(self) -> None:
        self.opened = 0

    def route(self, ws: WebSocketRoute) -> None:
        self.opened += 1
        ws.connect_to_server()


def open_app(
    open_page: Callable[..., Page],
    stack: MobileStack,
    room: str,
    sockets: SocketCount | None = None,
) -> Page:
    """The app's Login screen, then the Chat screen of `room` as Maya, connected."""
    page = open_page(locale="en-US", viewport=PHONE, timezone_id="UTC")
    crashes: list[str] = []
    page.on("pageerror", lambda error: crashes.append(str(error)))
    page.crashes = crashes  # type: ignore[attr-defined]
    if sockets is not None:
        page.route_web_socket(re.compile(r"/socket\.io/"), sockets.route)
    page.goto(f"{stack.app.url}/")
    expect(page.get_by_test_id("login-server-url")).to_have_value(stack.cluster.url)
    page.get_by_test_id("login-username").fill(APP_USER)
    page.get_by_test_id("login-room").fill(room)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("chat-connection-state")).to_have_text("Connected")
    expect(page.get_by_test_id("chat-header-room")).to_have_text(f"#{room}")
    return page


def app_message(page: Page, text: str) -> Locator:
    """The stored message row of the app whose text contains `text`."""
    rows = page.get_by_test_id("chat-message-list").locator('[data-testid^="message-0"]')
    return rows.filter(has_text=text)


def id_of(row: Locator) -> str:
    expect(row).to_have_count(1)
    return (row.get_attribute("data-testid") or "").removeprefix("message-")


def long_press(page: Page, target: Locator, opens: Locator) -> None:
    """Hold the mouse on `target` until `opens` shows (React Native Web's long press)."""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    try:
        expect(opens).to_be_visible()
    finally:
        page.mouse.up()


def open_menu(page: Page, message_id: str) -> Locator:
    menu = page.get_by_test_id("message-menu")
    long_press(page, page.get_by_test_id(f"message-bubble-{message_id}"), menu)
    return menu


def room_event(client: ChatClient, kind: str, message_id: str, **fields: Any) -> dict[str, Any]:
    """The first room_event of `kind` on `message_id` whose fields match."""

    def matches(event: dict[str, Any]) -> bool:
        if event.get("type") != kind or event.get("message_id") != message_id:
            return False
        return all(event.get(key) == value for key, value in fields.items())

    return client.wait_for("room_event", matches, timeout=10)


def assert_clean(page: Page) -> None:
    assert page.crashes == []  # type: ignore[attr-defined]
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_two_rooms_count_their_unread_messages_and_switch_on_one_connection(
    stack: MobileStack,
    open_page: Callable[..., Page],
    people: Callable[[], ChatClient],
    room_name: str,
    screenshots: Path,
) -> None:
    lobby, side = room_name, f"{room_name}-side"
    bob = people()
    for room in (lobby, side):
        assert bob.join("bob", room)["ok"]
    assert bob.send("Welcome to the lobby", room=lobby)["ok"]
    assert bob.send("This is the side room", room=side)["ok"]

    sockets = SocketCount()
    app = open_app(open_page, stack, lobby, sockets)
    expect(app_message(app, "Welcome to the lobby")).to_have_count(1)

    # A second room, joined by id from the room list; then back to the first.
    app.get_by_test_id("chat-rooms-toggle").click()
    app.get_by_test_id("rooms-join-input").fill(side)
    app.get_by_test_id("rooms-join").click()
    expect(app.get_by_test_id("chat-header-room")).to_have_text(f"#{side}")
    expect(app_message(app, "This is the side room")).to_have_count(1)  # shown: read
    bob.wait_for("user_joined", lambda e: e.get("room") == side and e.get("username") == APP_USER)
    app.get_by_test_id("chat-rooms-toggle").click()
    app.get_by_test_id(f"room-{lobby}").click()
    expect(app.get_by_test_id("chat-header-room")).to_have_text(f"#{lobby}")

    # Messages in the room not shown count; one mentions Maya (present there).
    assert bob.send("Cake in the kitchen", room=side)["ok"]
    mention = bob.send(f"@{APP_USER} there is a slice for you", room=side)
    assert mention["ok"] and mention["message"]["mentions"] == [APP_USER], mention
    assert bob.send("Anyone here?", room=lobby)["ok"]
    expect(app_message(app, "Anyone here?")).to_have_count(1)  # the room shown: read
    total = app.get_by_test_id("chat-unread-total")
    expect(total).to_have_text("2")
    expect(app.get_by_test_id("chat-rooms-toggle")).to_have_attribute(
        "aria-label", f"#{lobby}. Rooms, 2 unread messages"
    )
    app.get_by_test_id("chat-rooms-toggle").click()
    expect(app.get_by_test_id(f"room-unread-{side}")).to_have_text("2")
    expect(app.get_by_test_id(f"room-mentions-{side}")).to_have_text("@1")
    expect(app.get_by_test_id(f"room-unread-{lobby}")).to_have_count(0)
    shoot(app, screenshots, "mobile-rooms")

    # Switching shows the room, its "New messages" line and the mention; it is read.
    app.get_by_test_id(f"room-{side}").click()
    expect(app.get_by_test_id("chat-header-room")).to_have_text(f"#{side}")
    cake = app_message(app, "Cake in the kitchen")
    expect(cake).to_have_count(1)
    expect(app.get_by_test_id("chat-new-messages")).to_have_count(1)
    slice_for_maya = app_message(app, "there is a slice for you")
    expect(slice_for_maya.get_by_test_id(f"mention-{APP_USER}")).to_have_text(f"@{APP_USER}")
    expect(total).to_have_count(0)
    assert sockets.opened == 1  # two rooms, three switches, one connection

    # The read marker is on the server: Maya on another device (her key) finds it read.
    key = app.evaluate(f"() => window.localStorage.getItem('{CLIENT_KEY_STORAGE}')")
    assert isinstance(key, str) and key
    seen: list[dict[str, Any]] = []

    def read_on_the_server() -> bool:
        # The app counts at once; its mark_read reaches the server a moment later.
        device = people()
        device.client_key = key
        assert device.join(APP_USER, side)["ok"]
        seen.append(device.wait_for("room_joined", lambda e: e.get("room") == side))
        device.close()
        return seen[-1]["read_id"] == mention["message"]["id"]

    wait_until(read_on_the_server, 10, "Maya's read marker on the server")
    assert (seen[-1]["unread"], seen[-1]["mentions"]) == (0, 0), seen[-1]
    assert_clean(app)


def test_an_edit_and_a_reaction_made_in_the_app_reach_another_client(
    stack: MobileStack,
    open_page: Callable[..., Page],
    people: Callable[[], ChatClient],
    room_name: str,
    screenshots: Path,
) -> None:
    bob = people()
    assert bob.join("bob", room_name)["ok"]
    app = open_app(open_page, stack, room_name)

    # Maya writes, then edits her message; the text stays text.
    field = app.get_by_test_id("chat-input")
    field.fill("I wil be late")
    field.press("Enter")
    stored = bob.wait_for("new_message", lambda m: m.get("message") == "I wil be late", timeout=10)
    mine = stored["id"]
    expect(app.get_by_test_id(f"message-{mine}")).to_contain_text("✓")
    menu = open_menu(app, mine)
    expect(menu.get_by_test_id("message-menu-edit")).to_be_visible()
    menu.get_by_test_id("message-menu-edit").click()
    expect(app.get_by_test_id("chat-edit-bar")).to_contain_text("Editing your message")
    expect(field).to_have_value("I wil be late")
    edited_text = "I will be late <b>sorry</b>"
    field.fill(edited_text)
    field.press("Enter")
    edit = room_event(bob, "edit", mine)
    assert edit["message"]["message"] == edited_text and edit["message"]["edited_at"]
    row = app.get_by_test_id(f"message-{mine}")
    expect(row).to_contain_text(edited_text)
    expect(app.get_by_test_id(f"message-edited-{mine}")).to_contain_text("edited")
    expect(app.get_by_test_id("chat-edit-bar")).to_have_count(0)
    expect(row.locator("b")).to_have_count(0)

    # Bob answers; Maya reacts from the menu (no edit or delete on his message).
    theirs = bob.send("No problem", room=room_name)["message"]["id"]
    expect(app.get_by_test_id(f"message-{theirs}")).to_be_visible()
    menu = open_menu(app, theirs)
    expect(menu.get_by_test_id("message-menu-edit")).to_have_count(0)
    expect(menu.get_by_test_id("message-menu-delete")).to_have_count(0)
    shoot(app, screenshots, "mobile-message-menu")
    menu.get_by_test_id("message-menu-react-👍").click()
    reaction = room_event(bob, "reaction", theirs, emoji="👍", username=APP_USER)
    assert (reaction["added"], reaction["count"]) == (True, 1), reaction
    thumbs = app.get_by_test_id(f"reaction-{theirs}-👍")
    expect(thumbs).to_have_text("👍 1")
    expect(thumbs).to_have_attribute("aria-selected", "true")

    # Bob's own reaction shows in the app; a long press on a chip says who reacted.
    assert bob.call("react", {"room": room_name, "id": theirs, "emoji": "👍"})["ok"]
    expect(thumbs).to_have_text("👍 2")
    shoot(app, screenshots, "mobile-reactions")
    long_press(app, thumbs, app.get_by_test_id("reaction-users"))
    expect(app.get_by_test_id(f"reaction-user-{APP_USER}")).to_be_visible()
    expect(app.get_by_test_id("reaction-user-bob")).to_be_visible()
    app.get_by_test_id("reaction-users-close").click()
    expect(app.get_by_test_id("reaction-users")).to_have_count(0)

    # A tap on her chip takes Maya's reaction back, for everyone.
    thumbs.click()
    removed = room_event(bob, "reaction", theirs, emoji="👍", username=APP_USER, added=False)
    assert removed["count"] == 1
    expect(thumbs).to_have_text("👍 1")
    expect(thumbs).to_have_attribute("aria-selected", "false")

    # Bob's history agrees with what the app shows.
    page = bob.call("get_history", {"room": room_name})
    by_id = {m["id"]: m for m in page["messages"]}
    assert by_id[mine]["message"] == edited_text
    assert [(r["emoji"], r["users"]) for r in by_id[theirs]["reactions"]] == [("👍", ["bob"])]
    assert_clean(app)


def test_a_reply_from_the_app_quotes_its_original_on_both_sides(
    stack: MobileStack,
    open_page: Callable[..., Page],
    people: Callable[[], ChatClient],
    room_name: str,
) -> None:
    bob = people()
    assert bob.join("bob", room_name)["ok"]
    app = open_app(open_page, stack, room_name)
    question = bob.send("Who brings the cake?", room=room_name)["message"]

    menu = open_menu(app, question["id"])
    menu.get_by_test_id("message-menu-reply").click()
    bar = app.get_by_test_id("chat-reply-bar")
    expect(bar).to_contain_text("Replying to bob")
    expect(bar).to_contain_text("Who brings the cake?")
    field = app.get_by_test_id("chat-input")
    field.fill("I do!")
    field.press("Enter")
    expect(bar).to_have_count(0)

    answer = bob.wait_for("new_message", lambda m: m.get("message") == "I do!", timeout=10)
    assert answer["reply_to"] == question["id"], answer
    quote = app.get_by_test_id(f"reply-quote-{answer['id']}")
    expect(quote).to_contain_text("bob")
    expect(quote).to_contain_text("Who brings the cake?")

    # Bob answers Maya's reply; its quote in the app shows her words and leads back to them.
    thanks = bob.send("Great, thanks", room=room_name, reply_to=answer["id"])["message"]
    back = app.get_by_test_id(f"reply-quote-{thanks['id']}")
    expect(back).to_contain_text(APP_USER)
    expect(back).to_contain_text("I do!")
    back.click()
    expect(app.get_by_test_id(f"message-{answer['id']}")).to_be_in_viewport()

    # The original deleted by its author: the quote says so.
    assert bob.call("delete_message", {"room": room_name, "id": question["id"]})["ok"]
    expect(quote).to_contain_text("deleted")
    expect(app.get_by_test_id(f"message-deleted-{question['id']}")).to_have_text("message deleted")
    history = bob.call("get_history", {"room": room_name})
    assert next(m for m in history["messages"] if m["id"] == answer["id"])["reply_preview"] == {
        "id": question["id"],
        "username": "bob",
        "excerpt": "",
        "deleted": True,
    }
    assert_clean(app)
