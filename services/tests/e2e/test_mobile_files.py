"""Files in the mobile app's web export (Chromium) against the real stack (issue 19): a
picture picked with expo-image-picker (its <input type=file> on the web) is uploaded as a
guest, shared with an empty caption, seen by a python-socketio client, shown as a thumbnail
that opens full screen; a file another person shares shows as a card with its size.

The stack and the export are built the way test_mobile_app.py builds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.helpers import shoot
from tests.e2e.test_mobile_app import MobileStack, app_with_cluster
from tests.e2e.test_mobile_room_events import (
    APP_USER,
    PROTOCOL_2,
    app_message,
    assert_clean,
    open_app,
)
from tests.support import images
from tests.support.client import ChatClient
from tests.support.stack import Cluster


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MobileStack]:
    work_dir = tmp_path_factory.mktemp("mobile-files")
    with app_with_cluster(work_dir, Cluster(work_dir, workers=2), "mobile files") as built:
        yield built


def shares(room: str) -> Any:
    return lambda e: e.get("room") == room and bool(e.get("files"))


def test_a_picture_picked_in_the_app_is_shared_and_opens_full_screen(
    stack: MobileStack,
    open_page: Any,
    room_name: str,
    tmp_path: Path,
    screenshots: Path,
) -> None:
    bob = ChatClient(stack.cluster.url, auth=PROTOCOL_2).connect()
    try:
        assert bob.join("bob", room_name)["ok"]
        app: Page = open_app(open_page, stack, room_name)
        picture = tmp_path / "harbour.png"
        picture.write_bytes(images.png(600, 300))

        app.get_by_test_id("chat-attach").click()
        with app.expect_file_chooser() as chooser:
            app.get_by_test_id("attach-library").click()
        chooser.value.set_files(str(picture))
        tile = app.get_by_test_id("attachment-0")
        expect(tile).to_have_attribute("aria-label", "harbour.png, ready to send", timeout=15_000)
        expect(app.get_by_test_id("chat-attachments")).to_be_visible()
        shoot(app, screenshots, "mobile-files-tray")

        app.get_by_test_id("chat-send").click()
        event = bob.wait_for("new_message", shares(room_name), timeout=10)
        assert event["username"] == APP_USER and event["message"] == ""
        [entry] = event["files"]
        shape = (entry["name"], entry["kind"], entry["width"], entry["height"])
        assert shape == ("harbour.png", "image", 600, 300)
        expect(app.get_by_test_id("chat-attachments")).to_have_count(0)

        # The stored message shows the thumbnail (the server's thumb), which opens full screen.
        thumb = app.get_by_test_id(f"file-image-{entry['id']}")
        expect(thumb).to_have_count(1)
        expect(app.locator(f'[data-testid="message-{event["id"]}"]')).to_have_count(1)
        files_url = f"{stack.cluster.url}/api/v1/files"
        loaded = app.locator(f'[data-testid="file-thumb-{entry["id"]}"] img')
        expect(loaded).to_have_attribute("src", f"{files_url}/{entry['id']}/thumb")
        shoot(app, screenshots, "mobile-files-thumbnail")
        thumb.click()
        viewer = app.get_by_test_id("image-viewer")
        expect(viewer).to_be_visible()
        # A picture under 1600 px has no display copy: the viewer shows the original.
        shown = "/display" if "display" in entry.get("variants", []) else ""
        expect(app.locator('[data-testid="image-viewer-image"] img')).to_have_attribute(
            "src", f"{files_url}/{entry['id']}{shown}"
        )
        app.get_by_test_id("image-viewer-close").click()
        expect(viewer).to_have_count(0)

        # bob shares a text file (a guest upload signed with his name and client_key).
        uploaded = requests.post(
            f"{stack.cluster.url}/api/v1/uploads",
            data={"room": room_name, "username": "bob", "client_key": bob.client_key},
            files={"file": ("notes.txt", b"line of notes\n" * 110)},
            timeout=30,
        )
        assert uploaded.status_code == 201, uploaded.text
        notes = uploaded.json()["id"]
        sent = bob.send("the notes", files=[notes], room=room_name, client_id=uuid.uuid4().hex)
        assert sent["ok"], sent
        card = app_message(app, "the notes").get_by_test_id(f"file-card-{notes}")
        expect(card).to_have_attribute("aria-label", "File notes.txt, 1.5 KB")
        shoot(app, screenshots, "mobile-files-card")
        assert_clean(app)
    finally:
        bob.close()
