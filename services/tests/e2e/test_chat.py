"""Chatting in a real browser: presence, messages, typing, leaving, safety, history."""

from __future__ import annotations

import re
from collections.abc import Callable

import requests
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE
from tests.e2e.helpers import (
    join,
    message_texts,
    messages,
    notices,
    online_users,
    send,
    sent_message,
)
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker

XSS_IMG = "<img src=x onerror=window.__xss=1>"
XSS_SCRIPT = "<script>window.__xss=2</script>"
XSS_LINK = "javascript:window.__xss=3"


def test_two_people_chat_and_a_third_room_sees_nothing(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str
) -> None:
    alice, bob = open_page(), open_page(viewport=PHONE)
    other_room = open_page()
    join(alice, chat_worker.url, "alice", room_name)
    join(other_room, chat_worker.url, "carol", f"{room_name}-other")
    expect(alice.locator(".notice-welcome")).to_have_text(f"Welcome to #{room_name}, alice!")

    join(bob, chat_worker.url, "bob", room_name)
    expect(notices(alice).filter(has_text="bob joined the room")).to_have_count(1)
    expect(online_users(alice)).to_have_text(["alice", "bob"])
    expect(alice.locator("#user-count")).to_have_text("2 online")
    expect(bob.locator("#user-count")).to_have_text("2 online")

    send(alice, "Hi Bob!")
    expect(sent_message(bob, "Hi Bob!")).to_have_count(1)
    own = sent_message(alice, "Hi Bob!")
    expect(own).to_have_class(re.compile(r"\bown\b"))
    expect(own.locator(".status")).to_have_text("Sent")
    expect(sent_message(bob, "Hi Bob!")).not_to_have_class(re.compile(r"\bown\b"))

    bob.locator("#message-input").press_sequentially("Hello Al")
    expect(alice.locator("#typing")).to_have_text("bob is typing…")
    bob.locator("#message-input").press("Enter")
    expect(alice.locator("#typing")).to_have_text("")  # sending stops typing
    expect(message_texts(alice)).to_have_text(["Hi Bob!", "Hello Al"])
    expect(message_texts(bob)).to_have_text(["Hi Bob!", "Hello Al"])
    expect(alice.locator("#messages time").first).to_have_attribute("datetime", re.compile("Z$"))

    bob.locator("#leave-button").click()
    bob.wait_for_url(f"{chat_worker.url}/?room={room_name}")
    expect(notices(alice).filter(has_text="bob left the room")).to_have_count(1)
    expect(online_users(alice)).to_have_text(["alice"])
    expect(alice.locator("#user-count")).to_have_text("1 online")

    expect(other_room.locator("#user-count")).to_have_text("1 online")
    expect(messages(other_room)).to_have_count(0)
    expect(notices(other_room)).to_have_count(2)  # its own welcome + "no messages yet"
    assert alice.log.errors == [] and other_room.log.errors == []  # type: ignore[attr-defined]


def test_user_text_is_shown_as_text_and_runs_no_script(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str
) -> None:
    sender, reader = open_page(), open_page()
    join(sender, chat_worker.url, "mallory", room_name)
    join(reader, chat_worker.url, "reader", room_name)

    for payload in (XSS_IMG, XSS_SCRIPT, XSS_LINK, "see https://example.org/a?b=1 now"):
        send(sender, payload)
    expect(message_texts(reader)).to_have_text(
        [XSS_IMG, XSS_SCRIPT, XSS_LINK, "see https://example.org/a?b=1 now"]
    )
    for page in (sender, reader):
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.locator("#messages img:not(.notice-icon)").count() == 0
        assert page.locator("#messages script").count() == 0
        links = page.locator("#messages a")
        expect(links).to_have_count(1)
        expect(links).to_have_attribute("href", "https://example.org/a?b=1")
        expect(links).to_have_attribute("rel", re.compile(r"noopener noreferrer"))
        page.locator("#messages .message-text", has_text=XSS_LINK).click()
        assert page.evaluate("typeof window.__xss") == "undefined"


def test_reload_keeps_the_history(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str
) -> None:
    page = open_page()
    join(page, chat_worker.url, "alice", room_name)
    for text in ("one", "two", "three"):
        send(page, text)
    expect(page.locator("#messages li.message[data-id]")).to_have_count(3)

    page.reload()
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
    expect(message_texts(page)).to_have_text(["one", "two", "three"])
    expect(page.locator("#messages .notice-empty")).to_have_count(0)


def test_new_messages_pill_appears_when_scrolled_up(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str, connect
) -> None:
    bob: ChatClient = connect()
    assert bob.join("bob", room_name)["ok"]
    for number in range(40):
        assert bob.send(f"filler {number}")["ok"]
    page = open_page(viewport=PHONE)
    join(page, chat_worker.url, "alice", room_name)
    expect(messages(page)).to_have_count(40)
    pill = page.locator("#new-messages")
    expect(pill).to_be_hidden()

    page.locator("#messages").evaluate("list => { list.scrollTop = 0; }")
    assert bob.send("while you read")["ok"]
    expect(sent_message(page, "while you read")).to_have_count(1)
    expect(pill).to_be_visible()
    pill.click()
    expect(pill).to_be_hidden()
    at_bottom = "l => l.scrollHeight - l.scrollTop - l.clientHeight < 50"
    assert page.locator("#messages").evaluate(at_bottom)


def test_pages_forbid_inline_script(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str
) -> None:
    for path in ("/", f"/chat?username=alice&room={room_name}"):
        response = requests.get(f"{chat_worker.url}{path}", timeout=10)
        policy = response.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert directives["frame-ancestors"] == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        scripts = re.findall(r"<script\b[^>]*>", response.text)
        assert scripts and all(" src=" in tag for tag in scripts), scripts

    page = open_page()
    join(page, chat_worker.url, "alice", room_name)
    send(page, "no violations")
    expect(sent_message(page, "no violations")).to_have_count(1)
    assert page.log.errors == []  # type: ignore[attr-defined]


def test_a_name_live_in_the_room_is_refused_with_a_way_back(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str
) -> None:
    first, second = open_page(), open_page()  # two browsers: two different client keys
    join(first, chat_worker.url, "alice", room_name)
    second.goto(f"{chat_worker.url}/chat?username=ALICE&room={room_name}")
    expect(second.locator("#chat-error")).to_contain_text("already taken")
    expect(second.locator("#connection-state")).to_have_attribute("data-state", "error")
    expect(second.locator("#message-input")).to_be_disabled()
    second.get_by_role("link", name="Choose another name").click()
    expect(second.locator("#room")).to_have_value(room_name)
