"""Steps a person takes in the web UI, written once for every end-to-end test."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

STATE = "#connection-state"


def join(page: Page, base_url: str, username: str, room: str) -> None:
    """Log in through the form and wait until the room is joined."""
    page.goto(f"{base_url}/")
    page.get_by_label(re.compile("username|nom d'utilisateur", re.I)).fill(username)
    page.locator("#room").fill(room)
    page.locator("#join-button").click()
    page.wait_for_url(re.compile(r"/chat\?"))
    wait_connected(page)


def wait_connected(page: Page) -> None:
    expect(page.locator(STATE)).to_have_attribute("data-state", "connected")


def send(page: Page, text: str) -> None:
    """Type a message and press Enter."""
    field = page.locator("#message-input")
    field.fill(text)
    field.press("Enter")


def messages(page: Page) -> Locator:
    """Every chat message on the page (stored or pending), in display order."""
    return page.locator("#messages > li.message")


def message_texts(page: Page) -> Locator:
    return page.locator("#messages > li.message .message-text")


def sent_message(page: Page, text: str) -> Locator:
    """The stored (acknowledged or received) message whose text is exactly `text`."""
    return page.locator("#messages > li.message[data-id]").filter(
        has=page.locator(".message-text", has_text=re.compile(f"^{re.escape(text)}$"))
    )


def notices(page: Page) -> Locator:
    return page.locator("#messages > li.notice")


def online_users(page: Page) -> Locator:
    return page.locator("#users .user-name")


def shoot(page: Page, folder: Path, name: str) -> None:
    """A screenshot under artifacts/screenshots/, with animations settled."""
    page.screenshot(path=str(folder / f"{name}.png"), animations="disabled")
