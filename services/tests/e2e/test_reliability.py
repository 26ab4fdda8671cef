"""Delivery in a real browser: worker restarts, lost broadcasts, refused messages.

docs/protocol.md promises a reader no duplicate and no hole: the page rejoins after a
reconnection, fills gaps with get_history since_id and re-sends what was not acknowledged
with the same client_id.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from talkrooms.chat.message_path import MessagePath
from talkrooms.settings import Settings
from talkrooms.storage.store import STORE_MESSAGE, Store
from tests.e2e.helpers import (
    STATE,
    join,
    message_texts,
    messages,
    send,
    sent_message,
    wait_connected,
)
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer


@pytest.fixture
def flaky_worker(work_dir: Path, redis_server: RedisServer) -> Iterator[ChatWorker]:
    """A worker of this test's own, on the shared Redis, that the test may kill."""
    worker = ChatWorker(work_dir, redis_server.url).start()
    yield worker
    worker.stop()


def store_without_broadcast(redis_server: RedisServer, room: str, username: str, text: str) -> None:
    """Store a message the way a worker does, but publish it where no worker listens."""
    client = redis_server.client()
    store = Store(Settings(redis_url=redis_server.url), client)
    tail = MessagePath._message_tail(username, text, room, None, time.time())
    keys, args = store.store_message_call(
        room, tail, None, "talkrooms-e2e-nowhere", "", "", None, "", author=""
    )
    STORE_MESSAGE(client, keys, args)


def displayed_ids(page: Page) -> list[int]:
    ids = page.locator("#messages li.message").evaluate_all("items => items.map(i => i.dataset.id)")
    return [int(i) for i in ids]


def test_after_a_worker_restart_nothing_is_missing_twice_or_lost(
    flaky_worker: ChatWorker,
    open_page: Callable[..., Page],
    work_dir: Path,
    redis_server: RedisServer,
    room_name: str,
    connect: Callable[..., ChatClient],
) -> None:
    page = open_page()
    join(page, flaky_worker.url, "alice", room_name)
    bob = connect()  # on the session's other worker, which keeps running
    assert bob.join("bob", room_name)["ok"]
    assert bob.send("before the cut")["ok"]
    expect(sent_message(page, "before the cut")).to_have_count(1)

    flaky_worker.kill9()
    expect(page.locator(STATE)).to_have_attribute("data-state", "reconnecting")
    away = [f"while you were away {n}" for n in range(5)]
    for text in away:
        assert bob.send(text)["ok"]
    send(page, "typed offline")
    expect(messages(page).filter(has_text="typed offline")).to_have_class(
        re.compile(r"\bis-pending\b")
    )

    restarted = ChatWorker(work_dir, redis_server.url, port=flaky_worker.port).start()
    try:
        wait_connected(page)
        expected = ["before the cut", *away, "typed offline"]
        expect(message_texts(page)).to_have_text(expected)
        expect(sent_message(page, "typed offline").locator(".status")).to_have_text("Sent")
        ids = displayed_ids(page)
        assert ids == list(range(ids[0], ids[0] + len(expected))), ids

        def is_offline_message(message: dict) -> bool:
            return message["message"] == "typed offline"

        bob.wait_for("new_message", is_offline_message, timeout=10)
        bob.assert_no("new_message", is_offline_message, after=bob.mark(), within=1.0)
        assert len(bob.received("new_message")) == len(expected)
    finally:
        page.context.close()  # no open WebSocket: the worker stops at once
        restarted.stop()


def test_a_message_whose_broadcast_was_lost_is_fetched_with_the_next_one(
    open_page: Callable[..., Page],
    chat_worker: ChatWorker,
    redis_server: RedisServer,
    room_name: str,
    connect: Callable[..., ChatClient],
) -> None:
    page = open_page()
    join(page, chat_worker.url, "alice", room_name)
    bob = connect()
    assert bob.join("bob", room_name)["ok"]
    assert bob.send("first")["ok"]
    expect(sent_message(page, "first")).to_have_count(1)

    store_without_broadcast(redis_server, room_name, "bob", "lost in transit")
    assert bob.send("third")["ok"]  # the page sees id n+2 after n and asks for the gap
    expect(message_texts(page)).to_have_text(["first", "lost in transit", "third"])
    ids = displayed_ids(page)
    assert ids == [ids[0], ids[0] + 1, ids[0] + 2]


@pytest.fixture
def strict_worker(work_dir: Path, redis_server: RedisServer) -> Iterator[ChatWorker]:
    """A worker allowing 2 messages per 2 s per connection (one token back every second)."""
    worker = ChatWorker(work_dir, redis_server.url, env={"MESSAGE_RATE_LIMIT": "2/2"}).start()
    yield worker
    worker.stop()


def test_a_rate_limited_message_shows_the_error_and_can_be_retried(
    strict_worker: ChatWorker, open_page: Callable[..., Page], room_name: str
) -> None:
    page = open_page()
    join(page, strict_worker.url, "alice", room_name)
    for text in ("one", "two", "three"):
        send(page, text)
    refused = messages(page).filter(has_text="three")
    expect(refused).to_have_class(re.compile(r"\bis-failed\b"))
    expect(refused.locator(".message-error")).to_have_text("Too many messages: at most 2 per 2 s")

    # Retry until the server has a token again (one per second); each try waits on the page.
    for _ in range(20):
        refused.get_by_role("button", name="Retry").click()
        try:
            page.wait_for_function(
                "() => [...document.querySelectorAll('#messages li.message[data-id]')]"
                ".some(li => li.querySelector('.message-text').textContent === 'three')",
                timeout=600,
            )
            break
        except PlaywrightError:
            expect(refused).to_have_class(re.compile(r"\bis-failed\b"))
    expect(message_texts(page)).to_have_text(["one", "two", "three"])
    expect(sent_message(page, "three").locator(".status")).to_have_text("Sent")
