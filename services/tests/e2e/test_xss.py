"""Fifty XSS payloads in the web UI (Debian Chromium): typed as messages, seen live and in
the history, offered as usernames and room ids through the login pages - every one shown
as text, none run: `window.__xss` stays undefined, no dialog opens, no CSP violation is
even attempted, and the text on screen is exactly what was sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from talkrooms.protocol import ProtocolError, validate_username
from tests.e2e.helpers import join, send
from tests.reliability.figures import report
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker
from tests.support.xss import PAYLOADS

# Recorded from the first script of every document, before any of ours runs.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""
MESSAGE_TEXTS = (
    "Array.from(document.querySelectorAll('#messages > li.message[data-id] .message-text'),"
    " (e) => e.textContent)"
)
# Anything in the list that could run or load something (notice icons aside).
ACTIVE = ", ".join(
    f"#messages {tag}"
    for tag in (
        *("script", "iframe", "object", "embed", "svg", "math", "img:not(.notice-icon)"),
        *("style", "link", "form", "input", "base", "meta", "video", "audio", "details"),
    )
)


def watched(page: Page) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {"dialogs": []}
    page.add_init_script(WATCH)

    def on_dialog(dialog: Any) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


def assert_clean(page: Page, seen: dict[str, list[str]], expected_status: int = 0) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert seen["dialogs"] == []
    assert page.evaluate("window.__violations") == []
    # Chromium logs every document answered with an error status; nothing else may appear.
    status = f"the server responded with a status of {expected_status}"
    errors = [e for e in page.log.errors if not (expected_status and status in e)]  # type: ignore[attr-defined]
    assert errors == []


def expected_texts() -> list[str]:
    return [p.strip() for p in PAYLOADS]


def check_list(page: Page) -> None:
    expect(page.locator("#messages > li.message[data-id]")).to_have_count(len(PAYLOADS))
    assert page.evaluate(MESSAGE_TEXTS) == expected_texts()
    assert page.locator(ACTIVE).count() == 0
    hrefs = page.locator("#messages a").evaluate_all("(links) => links.map((a) => a.href)")
    assert hrefs and all(re.match(r"^https?://", href) for href in hrefs), hrefs
    for link in page.locator("#messages a").all():
        link.hover()  # onmouseover-style payloads, had any reached an attribute


def test_fifty_payloads_as_messages_are_text_live_and_in_the_history(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str
) -> None:
    sender, reader = open_page(), open_page()
    seen = {id(page): watched(page) for page in (sender, reader)}
    join(sender, chat_worker.url, "mallory", room_name)
    join(reader, chat_worker.url, "reader", room_name)
    for payload in PAYLOADS:
        send(sender, payload)
    for page in (sender, reader):
        check_list(page)
        expect(page.locator("#messages li.message .status", has_text="Sending")).to_have_count(0)
        assert_clean(page, seen[id(page)])

    latecomer = open_page()
    late_seen = watched(latecomer)
    join(latecomer, chat_worker.url, "latecomer", room_name)  # the room's history on join
    check_list(latecomer)
    assert_clean(latecomer, late_seen)
    report(
        "xss-web-messages",
        {"payloads": len(PAYLOADS), "pages": 3, "script_executions": 0, "dialogs": 0},
    )


def test_fifty_payloads_as_names_and_rooms_on_the_login_pages(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str
) -> None:
    """/chat with a refused name shows the login form with the value and the error;
    /?room= pre-fills the form: both render the payload back, as a field value."""
    page = open_page()
    seen = watched(page)
    accepted = []
    for payload in PAYLOADS:
        page.goto(f"{chat_worker.url}/?" + _query(username=payload, room=payload))
        expect(page.locator("#username")).to_have_value(payload)
        expect(page.locator("#room")).to_have_value(payload)
        page.goto(f"{chat_worker.url}/chat?" + _query(username=payload, room=room_name))
        try:
            validate_username(payload)
        except ProtocolError:
            expect(page.locator("#username")).to_have_value(payload)
            expect(page.locator("#username-error")).not_to_be_empty()
        else:
            accepted.append(payload)
            expect(page.locator("#connection-state")).to_have_attribute("data-state", "connected")
            expect(page.locator("#users .user-name")).to_contain_text([payload.strip()])
        assert page.evaluate("typeof window.__xss") == "undefined", payload
    assert_clean(page, seen, expected_status=400)
    report("xss-web-login", {"payloads": len(PAYLOADS), "accepted_as_names": len(accepted)})


def test_accepted_names_show_as_text_to_the_others(
    open_page: Callable[..., Page], chat_worker: ChatWorker, room_name: str, connect
) -> None:
    page = open_page()
    seen = watched(page)
    join(page, chat_worker.url, "watcher", room_name)
    names = []
    for payload in PAYLOADS:
        client: ChatClient = connect()
        if client.join(payload, room_name)["ok"]:
            names.append(payload.strip())
            assert client.send(f"hello from {payload}")["ok"]
        else:
            client.close()
    assert names, "no payload passes the username rules: nothing to show"
    for name in names:
        expect(page.locator("#users .user-name", has_text=name)).to_have_count(1)
        expect(page.locator("#messages li.notice", has_text=f"{name} joined")).to_have_count(1)
        expect(page.locator("#messages .author", has_text=name)).to_have_count(1)
    assert_clean(page, seen)


def _query(**values: str) -> str:
    return urlencode(values)
