"""File and image sharing in the web UI (issue 19), Debian Chromium on the real stack: Redis,
two chat workers on one migrated SQLite database and one upload folder, nginx in front (an
upload stored through one worker is read through the other).

A picture attached and sent shows as a thumbnail to a second person and opens in the
lightbox; files dropped on the chat and a pasted screenshot become attachments; an upload
shows its progress and can be cancelled; a document shows as a card whose link downloads
it; a refused type shows the server's words; in a private conversation the member's page
shows the image from a blob: URL fetched with its token; the French page speaks of files in
French.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Locator, Page, Route, expect

from talkrooms.storage import database
from tests.e2e.helpers import join, sent_message
from tests.e2e.test_accounts_ui import Site, conversation_item, join_signed_in, log_in
from tests.support import images
from tests.support.accounts import SECRET
from tests.support.client import ChatClient
from tests.support.stack import Cluster


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder: Path = tmp_path_factory.mktemp("files-ui")
    database_url = f"sqlite:///{folder / 'files.db'}"
    database.upgrade(database_url)
    env = {
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "KEY_PREFIX": f"fu{uuid.uuid4().hex[:6]}",
        "AUTH_ADDRESS_RATE_LIMIT": "0",
    }
    cluster = Cluster(folder, workers=2, env=env).start()
    try:
        yield Site(cluster.url)
    finally:
        cluster.stop()


@pytest.fixture
def devices() -> Iterator[list[ChatClient]]:
    opened: list[ChatClient] = []
    yield opened
    for client in opened:
        client.close()


def attachments(page: Page) -> Locator:
    return page.locator("#attachments > li.attachment")


def file_message(page: Page, file_id: str) -> Locator:
    """The stored message that shares file `file_id`."""
    return page.locator("#messages > li.message[data-id]").filter(
        has=page.locator(f'[data-file-id="{file_id}"]')
    )


def thumbnail(page: Page, file_id: str) -> Locator:
    """The thumbnail image of file `file_id` in a stored message."""
    return page.locator(
        f'#messages > li.message[data-id] button.file-thumb[data-file-id="{file_id}"] img'
    )


def pick(page: Page, path: Path) -> None:
    """Attach a file with the attach button's file chooser."""
    with page.expect_file_chooser() as chooser:
        page.locator("#attach-button").click()
    chooser.value.set_files(str(path))


def send_button(page: Page) -> Locator:
    return page.locator("#send-button")


def shared(room: str) -> Callable[[Any], bool]:
    return lambda m: m.get("room") == room and bool(m.get("files"))


def file_payload(name: str, mime: str, data: bytes) -> dict[str, str]:
    """A file for the page to build in JavaScript (a DataTransfer item)."""
    return {"name": name, "type": mime, "b64": base64.b64encode(data).decode()}


MAKE_TRANSFER = """(files) => {
  const transfer = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], f.name, { type: f.type }));
  }
  return transfer;
}"""

PASTE_INTO_FIELD = """(transfer) => document.getElementById('message-input').dispatchEvent(
  new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }))"""


def test_a_picture_sent_shows_as_a_thumbnail_to_another_person_and_opens_in_the_lightbox(
    open_page: Callable[..., Page],
    site: Site,
    room_name: str,
    tmp_path: Path,
    devices: list[ChatClient],
) -> None:
    watcher = ChatClient(site.url, auth={"protocol": 2}).connect()
    devices.append(watcher)
    assert watcher.join("watcher", room_name)["ok"]
    alice, bob = open_page(), open_page()
    join(alice, site.url, "alice", room_name)
    join(bob, site.url, "bob", room_name)

    picture = tmp_path / "harbour.png"
    picture.write_bytes(images.png(800, 400))
    pick(alice, picture)
    tile = attachments(alice)
    expect(tile).to_have_count(1)
    expect(tile).to_have_attribute("data-state", "ready")
    expect(tile.locator(".attachment-name")).to_have_text("harbour.png")
    expect(tile.locator(".attachment-size")).not_to_be_empty()
    # The thumbnail of the composer comes from the local file.
    expect(tile.locator("img.attachment-preview")).to_have_attribute("src", re.compile(r"^blob:"))

    alice.locator("#message-input").fill("the harbour")
    send_button(alice).click()
    event = watcher.wait_for("new_message", shared(room_name), timeout=10)
    [entry] = event["files"]
    assert (event["message"], event["username"]) == ("the harbour", "alice")
    assert (entry["name"], entry["kind"], entry["width"], entry["height"]) == (
        "harbour.png",
        "image",
        800,
        400,
    )
    expect(attachments(alice)).to_have_count(0)
    expect(alice.locator("#attachments")).to_be_hidden()

    # Bob sees the thumbnail (the server's `thumb`, sized before it loads: no jump).
    thumb = bob.locator(f'#messages button.file-thumb[data-file-id="{entry["id"]}"]')
    expect(thumb).to_have_count(1)
    image = thumb.locator("img")
    expect(image).to_have_attribute("src", f"/api/v1/files/{entry['id']}/thumb")
    expect(image).to_have_attribute("width", "320")
    expect(image).to_have_attribute("height", "160")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("(img) => img.naturalWidth") > 0
    expect(sent_message(bob, "the harbour")).to_have_count(1)

    thumb.click()
    lightbox = bob.locator("#lightbox")
    expect(lightbox).to_be_visible()
    expect(bob.locator("#lightbox-image")).to_have_attribute(
        "src", f"/api/v1/files/{entry['id']}/display"
    )
    expect(bob.locator("#lightbox-name")).to_have_text("harbour.png")
    expect(bob.locator("#lightbox-download")).to_have_attribute(
        "href", f"/api/v1/files/{entry['id']}"
    )
    bob.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    thumb.click()
    expect(lightbox).to_be_visible()
    bob.locator("#lightbox-image").click()
    expect(lightbox).to_be_hidden()
    assert alice.log.errors == [] and bob.log.errors == []  # type: ignore[attr-defined]


def test_files_dropped_on_the_chat_and_a_pasted_screenshot_become_attachments(
    open_page: Callable[..., Page],
    site: Site,
    room_name: str,
    devices: list[ChatClient],
) -> None:
    watcher = ChatClient(site.url, auth={"protocol": 2}).connect()
    devices.append(watcher)
    assert watcher.join("watcher", room_name)["ok"]
    page = open_page()
    join(page, site.url, "dora", room_name)

    dropped = [
        file_payload("notes.txt", "text/plain", b"first line\nsecond line\n"),
        file_payload("dot.png", "image/png", images.png(40, 30)),
    ]
    transfer = page.evaluate_handle(MAKE_TRANSFER, dropped)
    page.dispatch_event("#messages", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#drop-zone")).to_be_visible()
    page.dispatch_event("#messages", "drop", {"dataTransfer": transfer})
    expect(page.locator("#drop-zone")).to_be_hidden()
    expect(attachments(page)).to_have_count(2)
    expect(attachments(page).locator(".attachment-name")).to_have_text(["notes.txt", "dot.png"])

    # A screenshot pasted into the message field.
    screenshot = page.evaluate_handle(
        MAKE_TRANSFER, [file_payload("image.png", "image/png", images.png(120, 90))]
    )
    page.locator("#message-input").focus()
    page.evaluate(PASTE_INTO_FIELD, screenshot)
    expect(attachments(page)).to_have_count(3)
    expect(attachments(page).nth(2).locator(".attachment-name")).to_have_text("image.png")
    expect(page.locator("#message-input")).to_have_value("")
    for index in range(3):
        expect(attachments(page).nth(index)).to_have_attribute("data-state", "ready")

    # Removing one before sending; the message goes with an empty text.
    attachments(page).nth(0).locator(".attachment-remove").click()
    expect(attachments(page)).to_have_count(2)
    page.locator("#message-input").press("Enter")
    event = watcher.wait_for("new_message", shared(room_name), timeout=10)
    assert event["message"] == ""
    assert [f["name"] for f in event["files"]] == ["dot.png", "image.png"]
    for entry in event["files"]:
        expect(thumbnail(page, entry["id"])).to_have_attribute(
            "src", f"/api/v1/files/{entry['id']}/thumb"
        )
    assert page.log.errors == []  # type: ignore[attr-defined]


def test_an_upload_shows_its_progress_and_can_be_cancelled(
    open_page: Callable[..., Page], site: Site, room_name: str, tmp_path: Path
) -> None:
    page = open_page()
    join(page, site.url, "erin", room_name)
    held: list[Route] = []
    # The upload is held at the network layer: it stays in flight until cancelled.
    page.route("**/api/v1/uploads", lambda route: held.append(route))

    document = tmp_path / "report.pdf"
    document.write_bytes(b"%PDF-1.4\n" + b"0" * 300_000 + b"\n%%EOF\n")
    pick(page, document)
    tile = attachments(page)
    expect(tile).to_have_attribute("data-state", "uploading")
    expect(tile.locator("progress.attachment-progress")).to_be_visible()
    expect(tile.locator("progress")).to_have_attribute("aria-label", "Uploading report.pdf")
    # Sending waits for the upload.
    page.locator("#message-input").fill("here it is")
    send_button(page).click()
    expect(page.locator("#message-error")).to_have_text("Wait until the files are uploaded.")
    expect(page.locator("#messages > li.message")).to_have_count(0)

    tile.locator(".attachment-cancel").click()
    expect(attachments(page)).to_have_count(0)
    assert len(held) == 1
    # The request was cancelled by the page: nothing more to answer.
    page.unroute("**/api/v1/uploads")
    send_button(page).click()
    expect(sent_message(page, "here it is")).to_have_count(1)
    expect(sent_message(page, "here it is").locator(".message-files")).to_have_count(0)


def test_a_document_shows_as_a_card_that_downloads_and_a_refused_type_shows_the_servers_words(
    open_page: Callable[..., Page],
    site: Site,
    room_name: str,
    tmp_path: Path,
) -> None:
    alice, bob = open_page(), open_page(accept_downloads=True)
    join(alice, site.url, "alice", room_name)
    join(bob, site.url, "bob", room_name)

    document = tmp_path / "minutes.pdf"
    content = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    document.write_bytes(content)
    pick(alice, document)
    expect(attachments(alice)).to_have_attribute("data-state", "ready")
    alice.locator("#message-input").fill("minutes of the meeting")
    alice.locator("#message-input").press("Enter")

    card = sent_message(bob, "minutes of the meeting").locator(".file-card")
    expect(card).to_have_count(1)
    expect(card.locator(".file-card-name")).to_have_text("minutes.pdf")
    expect(card.locator(".file-card-type")).to_have_text("PDF")
    expect(card.locator(".file-card-size")).to_have_text(f"{len(content)} B · application/pdf")
    with bob.expect_download() as download:
        card.locator(".file-card-download").click()
    assert download.value.suggested_filename == "minutes.pdf"
    assert Path(download.value.path()).read_bytes() == content

    # A type the server refuses: its own words under the file, nothing sent.
    tool = tmp_path / "tool.bin"
    tool.write_bytes(bytes(range(256)) * 8)
    pick(alice, tool)
    refused = attachments(alice)
    expect(refused).to_have_attribute("data-state", "error")
    expect(refused.locator(".attachment-error")).to_have_text(
        re.compile(r"^Files of this type cannot be shared")
    )
    refused.locator(".attachment-remove").click()
    expect(attachments(alice)).to_have_count(0)


def test_a_members_page_shows_a_private_conversations_images_from_blob_urls(
    open_page: Callable[..., Page],
    site: Site,
    room_name: str,
    tmp_path: Path,
    devices: list[ChatClient],
) -> None:
    alice_name, _ = site.register("Alice")
    bob_name, bob_token = site.register("Bob")
    page = open_page()
    log_in(page, site, alice_name)
    join_signed_in(page, room_name)

    opened = site.api("POST", "/conversations", bob_token, username=alice_name)
    assert opened.ok, opened.text
    dm_room = opened.json()["room"]
    expect(conversation_item(page, bob_name)).to_have_count(1)
    conversation_item(page, bob_name).locator("button").click()
    expect(page.locator(".room-name")).to_have_text(f"@{bob_name}")

    bob = site.device(bob_token)
    devices.append(bob)
    assert bob.call("join_room", {"room": dm_room, "username": "ignored"})["ok"]
    upload = requests.post(
        f"{site.url}/api/v1/uploads",
        data={"room": dm_room},
        files={"file": ("secret.png", images.png(300, 600), "image/png")},
        headers={"Authorization": f"Bearer {bob_token}"},
        timeout=30,
    )
    assert upload.status_code == 201, upload.text
    entry = upload.json()
    # Without the token the file is nobody's to read.
    anonymous = requests.get(f"{site.url}/api/v1/files/{entry['id']}/thumb", timeout=10)
    assert anonymous.status_code == 404
    assert bob.call(
        "send_message",
        {"room": dm_room, "message": "", "files": [entry["id"]], "client_id": uuid.uuid4().hex},
    )["ok"]

    image = thumbnail(page, entry["id"])
    expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    expect(image).to_have_attribute("height", "320")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("(img) => img.naturalWidth") > 0
    image.click()
    expect(page.locator("#lightbox")).to_be_visible()
    expect(page.locator("#lightbox-image")).to_have_attribute("src", re.compile(r"^blob:"))
    page.keyboard.press("Escape")
    expect(page.locator("#lightbox")).to_be_hidden()

    # Alice's own upload in the conversation goes with her token; Bob receives it.
    reply = tmp_path / "answer.png"
    reply.write_bytes(images.png(64, 64))
    pick(page, reply)
    expect(attachments(page)).to_have_attribute("data-state", "ready")
    page.locator("#message-input").press("Enter")
    event = bob.wait_for(
        "new_message", lambda m: shared(dm_room)(m) and m["username"] == alice_name, timeout=10
    )
    assert event["files"][0]["name"] == "answer.png"
    own = thumbnail(page, event["files"][0]["id"])
    expect(own).to_have_attribute("src", re.compile(r"^blob:"))
    assert page.log.errors == []  # type: ignore[attr-defined]


def test_the_french_page_speaks_of_files_in_french(
    open_page: Callable[..., Page], site: Site, room_name: str, tmp_path: Path
) -> None:
    page = open_page(locale="fr-FR")
    join(page, site.url, "Élodie", room_name)
    expect(page.locator("#attach-button")).to_have_attribute("aria-label", "Joindre des fichiers")
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"x" * 1535 + b"\n")
    pick(page, notes)
    tile = attachments(page)
    expect(tile).to_have_attribute("data-state", "ready")
    expect(tile.locator(".attachment-size")).to_have_text("1,5 Ko")
    expect(tile.locator(".attachment-remove")).to_have_attribute("aria-label", "Retirer notes.txt")
    page.locator("#message-input").press("Enter")
    card = page.locator("#messages > li.message[data-id] .file-card")
    expect(card.locator(".file-card-download")).to_have_text("Télécharger")
    expect(card.locator(".file-card-size")).to_have_text("1,5 Ko · text/plain")
