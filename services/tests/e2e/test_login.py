"""The login page in a real browser: live validation, server validation, rooms, language."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from talkrooms.protocol import ROOM_ERROR, USERNAME_ERROR
from tests.e2e.conftest import PHONE
from tests.e2e.helpers import shoot, wait_connected
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker


def test_bad_input_shows_the_error_while_typing_and_blocks_the_form(
    open_page: Callable[..., Page], chat_worker: ChatWorker
) -> None:
    page = open_page()
    page.goto(f"{chat_worker.url}/")

    username = page.locator("#username")
    username.fill("<script>")
    expect(page.locator("#username-error")).to_have_text(USERNAME_ERROR)
    expect(username).to_have_attribute("aria-invalid", "true")
    username.fill("Zoë")
    expect(page.locator("#username-error")).to_have_text("")

    room = page.locator("#room")
    room.fill("not a room!")
    expect(page.locator("#room-error")).to_have_text(ROOM_ERROR)
    page.locator("#join-button").click()
    expect(page).to_have_url(f"{chat_worker.url}/")
    expect(room).to_be_focused()

    room.fill("General")  # rooms are lower-cased, as on the server
    expect(page.locator("#room-error")).to_have_text("")
    page.locator("#join-button").click()
    page.wait_for_url(re.compile(r"/chat\?username=Zo%C3%AB&room=general$"))
    wait_connected(page)


def test_the_server_refuses_bad_input_with_the_same_errors(
    open_page: Callable[..., Page], chat_worker: ChatWorker
) -> None:
    page = open_page(java_script_enabled=False)  # only the server's validation is left
    page.goto(f"{chat_worker.url}/")
    page.locator("#username").fill("   ")
    page.locator("#room").fill("Tech Room")
    with page.expect_response(f"{chat_worker.url}/join") as answer:
        page.locator("#join-button").click()
    assert answer.value.status == 400
    expect(page.locator("#username-error")).to_have_text(USERNAME_ERROR)
    expect(page.locator("#room-error")).to_have_text(ROOM_ERROR)
    expect(page.locator("#room")).to_have_value("Tech Room")
    expect(page.locator("#form-summary")).to_be_visible()

    page.goto(f"{chat_worker.url}/chat?username=alice&room=no%20spaces")
    expect(page.locator("#room-error")).to_have_text(ROOM_ERROR)
    expect(page.locator("#username")).to_have_value("alice")


def test_suggested_and_active_rooms_fill_the_room_field(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str, connect
) -> None:
    someone: ChatClient = connect()
    assert someone.join("dora", room_name)["ok"]

    page = open_page(viewport=PHONE)
    page.goto(f"{chat_worker.url}/")
    page.get_by_role("button", name="#tech").click()
    expect(page.locator("#room")).to_have_value("tech")

    active = page.locator(f'#active-rooms button[data-room="{room_name}"]')
    expect(active).to_contain_text("1 online")
    active.click()
    expect(page.locator("#room")).to_have_value(room_name)


def test_french_browsers_get_the_french_interface(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str, screenshots: Path
) -> None:
    page = open_page(locale="fr-FR", viewport=PHONE)
    page.goto(f"{chat_worker.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#join-button")).to_have_text("Rejoindre la Room")
    shoot(page, screenshots, "login-phone-fr")

    page.locator("#username").fill("Élodie")
    page.locator("#room").fill(room_name)
    page.locator("#join-button").click()
    wait_connected(page)
    expect(page.locator("#connection-state")).to_have_text("Connecté")
    expect(page.locator("#messages .notice-welcome")).to_have_text(
        f"Bienvenue dans #{room_name}, Élodie !"
    )
    page.locator("#message-input").press_sequentially("Bonjour")
    expect(page.locator("#self-typing")).to_have_text("Vous tapez…")
