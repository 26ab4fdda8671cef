"""Screenshots of the login and chat pages (desktop and phone, light and dark).

A stack of its own (fresh redis-server and worker) so the pictures show a tidy room list
and a real conversation. Saved under artifacts/screenshots/ (gitignored); the ones in
docs/screenshots/ are copies of these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.helpers import join, message_texts, online_users, shoot
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer

CONVERSATION = [
    ("Élodie", "Bonjour à tous ! Qui vient au meetup jeudi ?"),
    ("Marcus", "Count me in. Slides are here: https://example.org/talkrooms-meetup"),
    ("Élodie", "Parfait, je réserve une table pour 6."),
]


@pytest.fixture
def fresh_worker(tmp_path: Path) -> Iterator[ChatWorker]:
    redis_server = RedisServer(tmp_path).start()
    worker = ChatWorker(tmp_path, redis_server.url)
    try:
        yield worker.start()
    finally:
        worker.stop()
        redis_server.stop()


def test_screenshots_of_login_and_chat(
    fresh_worker: ChatWorker, open_page: Callable[..., Page], screenshots: Path
) -> None:
    # fresh_worker comes first so that it stops after the pages closed (no idle keep-alive).
    people = {name: ChatClient(fresh_worker.url).connect() for name in ("Élodie", "Marcus")}
    try:
        for name, client in people.items():
            assert client.join(name, "general")["ok"]
        for name, text in CONVERSATION:
            assert people[name].send(text)["ok"]

        login = open_page()
        login.goto(f"{fresh_worker.url}/")
        expect(login.locator("#active-rooms")).to_contain_text("#general")
        shoot(login, screenshots, "login-desktop")
        login.set_viewport_size(PHONE)
        shoot(login, screenshots, "login-phone")

        for viewer, viewport, scheme, name in (
            ("Sam", DESKTOP, "light", "chat-desktop"),
            ("Priya", PHONE, "light", "chat-phone"),
            ("Noor", PHONE, "dark", "chat-phone-dark"),
        ):
            page = open_page(viewport=viewport, color_scheme=scheme)
            join(page, fresh_worker.url, viewer, "general")
            expect(online_users(page)).to_have_count(3)
            page.locator("#message-input").press_sequentially("On my way!")
            expect(page.locator("#self-typing")).not_to_be_empty()
            expect(message_texts(page)).to_have_count(len(CONVERSATION))
            shoot(page, screenshots, name)
            page.context.close()
    finally:
        for client in people.values():
            client.close()
