"""Protocol 2 in the web UI (Debian Chromium): edit, delete, react, reply, mentions, and the
room list with unread counts, each seen by a second person live.

The pages speak protocol 2 to the session's real worker; other people are real browser
contexts or python-socketio clients that opt into protocol 2 in the handshake.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import join, messages, send, sent_message
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker

PROTOCOL_2 = {"protocol": 2}
XSS_IMG = "<img src=x onerror=window.__xss=1>"


def message(page: Page, text: str) -> Locator:
    """The stored message whose text contains `text`."""
    return page.locator("#messages > li.message[data-id]").filter(
        has=page.locator(".message-text", has_text=text)
    )


def by_id(page: Page, message_id: str) -> Locator:
    return page.locator(f'#messages > li.message[data-id="{message_id}"]')


def open_menu(page: Page, item: Locator) -> Locator:
    """Open the small menu of a message; returns the menu."""
    item.hover()
    item.locator(".message-menu-button").click()
    menu = page.locator("#message-menu")
    expect(menu).to_be_visible()
    return menu


def menu_item(page: Page, name: str) -> Locator:
    return page.locator("#message-menu").get_by_role("menuitem", name=name, exact=True)


def chip(item: Locator, emoji: str) -> Locator:
    return item.locator(".reaction", has=item.page.locator(".reaction-emoji", has_text=emoji))


def room_link(page: Page, room: str) -> Locator:
    return page.locator(f'#rooms li[data-room-item="{room}"]')


def test_editing_and_deleting_own_messages_shows_on_both_sides(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str
) -> None:
    alice, bob = open_page(), open_page()
    join(alice, chat_worker.url, "alice", room_name)
    join(bob, chat_worker.url, "bob", room_name)
    send(alice, "I wil be late")
    expect(sent_message(bob, "I wil be late")).to_have_count(1)

    open_menu(bob, message(bob, "I wil be late"))
    expect(menu_item(bob, "Edit")).to_be_hidden()  # not his message
    expect(menu_item(bob, "Delete")).to_be_hidden()
    bob.keyboard.press("Escape")

    open_menu(alice, message(alice, "I wil be late"))
    menu_item(alice, "Edit").click()
    editor = alice.locator("#messages .edit-input")
    expect(editor).to_have_value("I wil be late")
    editor.fill("I will be late")
    editor.press("Enter")
    for page in (alice, bob):
        edited = sent_message(page, "I will be late")
        expect(edited).to_have_count(1)
        expect(edited.locator(".edited")).to_have_text("edited")
    expect(alice.locator("#messages .edit-input")).to_have_count(0)

    open_menu(alice, message(alice, "I will be late"))
    menu_item(alice, "Delete").click()
    menu_item(alice, "Delete for everyone?").click()
    for page in (alice, bob):
        gone = page.locator("#messages > li.message.is-deleted")
        expect(gone.locator(".message-deleted")).to_have_text("Message deleted")
        expect(gone.locator(".edited")).to_have_count(0)
        expect(gone.locator(".message-menu-button")).to_have_count(0)
    assert alice.log.errors == [] and bob.log.errors == []  # type: ignore[attr-defined]


def test_reactions_toggle_with_counts_names_on_hover_and_mine_highlighted(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str
) -> None:
    alice, bob = open_page(), open_page()
    join(alice, chat_worker.url, "alice", room_name)
    join(bob, chat_worker.url, "bob", room_name)
    send(bob, "pizza tonight?")
    expect(sent_message(alice, "pizza tonight?")).to_have_count(1)

    open_menu(alice, message(alice, "pizza tonight?"))
    alice.locator("#message-menu").get_by_role("menuitem", name="👍").click()
    mine = chip(message(alice, "pizza tonight?"), "👍")
    expect(mine.locator(".reaction-count")).to_have_text("1")
    expect(mine).to_have_class(re.compile(r"\bmine\b"))
    theirs = chip(message(bob, "pizza tonight?"), "👍")
    expect(theirs.locator(".reaction-count")).to_have_text("1")
    expect(theirs).to_have_attribute("title", "alice")
    expect(theirs).not_to_have_class(re.compile(r"\bmine\b"))

    theirs.click()  # bob adds his
    expect(theirs.locator(".reaction-count")).to_have_text("2")
    expect(theirs).to_have_class(re.compile(r"\bmine\b"))
    expect(mine.locator(".reaction-count")).to_have_text("2")
    expect(mine).to_have_attribute("title", "alice, bob")

    mine.click()  # alice takes hers back
    expect(mine.locator(".reaction-count")).to_have_text("1")
    expect(mine).not_to_have_class(re.compile(r"\bmine\b"))
    expect(theirs).to_have_attribute("title", "bob")
    expect(theirs.locator(".reaction-count")).to_have_text("1")


def test_a_reply_quotes_its_original_and_a_click_scrolls_back_to_it(
    open_page: Callable[..., Page],
    chat_worker: ChatWorker,
    room_name: str,
    connect: Callable[..., ChatClient],
) -> None:
    bob = connect(auth=PROTOCOL_2)
    assert bob.join("bob", room_name)["ok"]
    original = bob.send("Who brings the projector?", room=room_name)["message"]
    for number in range(60):  # the original ends up far above what shows
        assert bob.send(f"filler {number}", room=room_name)["ok"]
    answered = bob.send("Me!", room=room_name, reply_to=original["id"])
    assert answered["ok"], answered

    page = open_page()
    join(page, chat_worker.url, "alice", room_name)
    reply = message(page, "Me!")
    quote = reply.locator(".quote")
    expect(quote.locator(".quote-author")).to_have_text("bob")
    expect(quote.locator(".quote-text")).to_have_text("Who brings the projector?")
    target = by_id(page, original["id"])
    expect(target).not_to_be_in_viewport()

    quote.click()
    expect(target).to_be_in_viewport()
    expect(target).to_have_class(re.compile(r"\bflash\b"))

    # Answering from the menu: the quote bar, then the quote in the timeline.
    open_menu(page, sent_message(page, "filler 3"))
    menu_item(page, "Reply").click()
    expect(page.locator("#reply-bar")).to_be_visible()
    expect(page.locator("#reply-bar-author")).to_have_text("Replying to bob")
    expect(page.locator("#reply-bar-text")).to_have_text("filler 3")
    send(page, "I can bring chairs")
    expect(page.locator("#reply-bar")).to_be_hidden()
    answer = sent_message(page, "I can bring chairs")
    expect(answer.locator(".quote-text")).to_have_text("filler 3")

    def is_answer(data: dict) -> bool:
        return data.get("message") == "I can bring chairs"

    stored = bob.wait_for("new_message", is_answer, timeout=10)
    filler = next(m for m in bob.received("new_message") if m["message"] == "filler 3")
    assert stored["reply_to"] == filler["id"]

    # The original is deleted: the quote says so.
    assert bob.call("delete_message", {"room": room_name, "id": filler["id"]})["ok"]
    expect(answer.locator(".quote-text")).to_have_text("Original message deleted")
    assert page.log.errors == []  # type: ignore[attr-defined]


def test_a_reply_to_a_message_no_longer_kept_says_so(
    open_page: Callable[..., Page],
    chat_worker: ChatWorker,
    room_name: str,
    connect: Callable[..., ChatClient],
) -> None:
    bob = connect(auth=PROTOCOL_2)
    assert bob.join("bob", room_name)["ok"]
    original = bob.send("soon trimmed", room=room_name)["message"]
    assert bob.send("an answer", room=room_name, reply_to=original["id"])["ok"]
    for number in range(99):  # the room keeps HISTORY_LIMIT (100) messages: the original goes
        assert bob.send(f"filler {number}", room=room_name)["ok"]

    page = open_page()
    join(page, chat_worker.url, "alice", room_name)
    quote = message(page, "an answer").locator(".quote")
    expect(quote.locator(".quote-text")).to_have_text("Original message deleted")
    quote.click()  # older history is asked for, and has nothing before
    expect(page.locator("#chat-error-text")).to_have_text(
        "The original message is no longer available."
    )
    expect(messages(page)).to_have_count(100)


def test_mentions_of_me_are_highlighted_and_others_stay_plain(
    open_page: Callable[..., Page],
    chat_worker: ChatWorker,
    room_name: str,
    connect: Callable[..., ChatClient],
) -> None:
    page = open_page()
    join(page, chat_worker.url, "Alice", room_name)
    bob = connect(auth=PROTOCOL_2)
    assert bob.join("bob", room_name)["ok"]
    carol = connect(auth=PROTOCOL_2)
    assert carol.join("carol", room_name)["ok"]
    assert bob.send("hey @alice, @carol and @nobody: lunch?", room=room_name)["ok"]
    assert bob.send("@carol only", room=room_name)["ok"]

    for_me = message(page, "lunch?")
    expect(for_me).to_have_class(re.compile(r"\bmentions-me\b"))
    mentions = for_me.locator(".mention")
    expect(mentions).to_have_text(["@alice", "@carol"])
    expect(for_me.locator(".mention-me")).to_have_text("@alice")
    expect(for_me.locator(".message-text")).to_have_text("hey @alice, @carol and @nobody: lunch?")
    other = message(page, "only")
    expect(other.locator(".mention")).to_have_text(["@carol"])
    expect(other).not_to_have_class(re.compile(r"\bmentions-me\b"))


def test_the_room_list_counts_unread_and_mentions_and_switches_without_reconnecting(
    open_page: Callable[..., Page],
    chat_worker: ChatWorker,
    room_name: str,
    connect: Callable[..., ChatClient],
) -> None:
    first, second = room_name, f"{room_name}-b"
    page = open_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    join(page, chat_worker.url, "alice", first)
    page.locator("#join-room-input").fill(second)
    page.locator("#join-room-button").click()
    expect(page.locator(".room-name")).to_have_text(f"#{second}")
    expect(page.locator("#rooms .room-link-name")).to_have_text([f"#{first}", f"#{second}"])
    expect(page.locator(".notice-welcome")).to_have_text(f"Welcome to #{second}, alice!")

    bob = connect(auth=PROTOCOL_2)
    assert bob.join("bob", first)["ok"]
    assert bob.send("are you there?", room=first)["ok"]
    assert bob.send("@alice ping", room=first)["ok"]
    waiting = room_link(page, first)
    expect(waiting.locator(".unread-badge")).to_have_text("2")
    expect(waiting.locator(".mention-badge")).to_have_text("@1")
    expect(page).to_have_title(f"(2) #{second} · TalkRooms")
    expect(message(page, "are you there?")).to_have_count(0)  # not in the room shown

    waiting.locator(".room-link").click()
    expect(page.locator(".room-name")).to_have_text(f"#{first}")
    expect(page).to_have_title(f"#{first} · TalkRooms")
    expect(waiting.locator(".unread-badge")).to_have_count(0)
    expect(message(page, "ping").locator(".mention-me")).to_have_text("@alice")
    assert page.url.endswith(f"room={first}")
    send(page, "here!")
    bob.wait_for("new_message", lambda m: m.get("message") == "here!", timeout=10)

    # Leaving one room keeps the connection and the other room.
    room_link(page, second).locator(".room-leave").click()
    expect(page.locator("#rooms .room-link-name")).to_have_text([f"#{first}"])
    assert len(sockets) == 1, sockets

    page.reload()  # the rooms kept on this device come back, the one shown first
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
    expect(page.locator("#rooms .room-link-name")).to_have_text([f"#{first}"])


def test_reading_in_one_tab_clears_the_count_in_another(
    open_page: Callable[..., Page],
    chat_worker: ChatWorker,
    room_name: str,
    connect: Callable[..., ChatClient],
) -> None:
    first, second = room_name, f"{room_name}-b"
    reading = open_page()
    # The same browser (same client_key: the same person) in a second tab.
    other = reading.context.new_page()
    for page in (reading, other):
        page.goto(f"{chat_worker.url}/chat?username=alice&room={first}")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
        page.locator("#join-room-input").fill(second)
        page.locator("#join-room-button").click()
        expect(page.locator(".room-name")).to_have_text(f"#{second}")

    bob = connect(auth=PROTOCOL_2)
    assert bob.join("bob", first)["ok"]
    assert bob.send("one for alice", room=first)["ok"]
    for page in (reading, other):
        expect(room_link(page, first).locator(".unread-badge")).to_have_text("1")
        expect(page).to_have_title(f"(1) #{second} · TalkRooms")

    room_link(reading, first).locator(".room-link").click()  # read in this tab...
    expect(sent_message(reading, "one for alice")).to_be_in_viewport()
    expect(room_link(other, first).locator(".unread-badge")).to_have_count(0)  # ...gone there
    expect(other).to_have_title(f"#{second} · TalkRooms")


def test_a_new_messages_divider_marks_what_came_while_away(
    open_page: Callable[..., Page],
    chat_worker: ChatWorker,
    room_name: str,
    connect: Callable[..., ChatClient],
) -> None:
    page = open_page()
    frames: list[str] = []
    with page.expect_websocket() as opened:
        join(page, chat_worker.url, "alice", room_name)
    socket = opened.value
    socket.on("framereceived", lambda frame: frames.append(str(frame)))
    bob = connect(auth=PROTOCOL_2)
    assert bob.join("bob", room_name)["ok"]
    seen = bob.send("seen live", room=room_name)["message"]
    expect(sent_message(page, "seen live")).to_have_count(1)
    expect(page.locator(".unread-divider")).to_have_count(0)
    # The page showed it at the bottom of the list: its read marker reaches the server.
    marker = f'"read_id":"{seen["id"]}"'
    if not any(marker in frame for frame in frames):
        socket.wait_for_event("framereceived", lambda frame: marker in str(frame))

    context = page.context
    page.close()  # alice is away; the same device (client_key) comes back later
    for text in ("while away 1", "while away 2"):
        assert bob.send(text, room=room_name)["ok"]
    back = context.new_page()
    back.goto(f"{chat_worker.url}/chat?username=alice&room={room_name}")
    divider = back.locator("#messages > li.unread-divider")
    expect(divider).to_have_text("New messages")
    after = back.locator("#messages > li.unread-divider + li.message .message-text")
    expect(after).to_have_text("while away 1")
    expect(back.locator("#messages > li.message .message-text").first).to_have_text("seen live")


def test_quotes_and_reaction_names_stay_text(
    open_page: Callable[..., Page],
    chat_worker: ChatWorker,
    room_name: str,
    connect: Callable[..., ChatClient],
) -> None:
    page = open_page()
    join(page, chat_worker.url, "alice", room_name)
    mallory = connect(auth=PROTOCOL_2)
    assert mallory.join("mallory", room_name)["ok"]
    hostile = mallory.send(XSS_IMG, room=room_name)["message"]
    assert mallory.send("see above", room=room_name, reply_to=hostile["id"])["ok"]
    assert mallory.call("react", {"room": room_name, "id": hostile["id"], "emoji": "🎉"})["ok"]
    quote = message(page, "see above").locator(".quote-text")
    expect(quote).to_have_text(XSS_IMG)
    expect(chip(by_id(page, hostile["id"]), "🎉")).to_have_attribute("title", "mallory")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#messages img:not(.notice-icon)").count() == 0
