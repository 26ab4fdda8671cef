"""The mobile app (its web export) and the web UI chatting in one room of the real stack.

Redis, two chat workers and nginx (tests.support.stack.Cluster), the app's web export
built from mobile/ once per test session (copied with this stack's address), and a
static file server for it on a port of its own: the app is a client from another origin,
like the app on a phone. So the workers get ALLOWED_ORIGINS with the app's origin - and
nginx's own, because a list of origins replaces Engine.IO's same-origin check and the web
UI would otherwise be refused.

One Chromium: the app in a phone-size context, the web UI in another. They see each other
join, chat, type and leave; the worker holding the app's socket is restarted while the app
cannot reconnect (its WebSockets are routed through Playwright and held), the web UI keeps
talking and the app sends, and both end with the same messages, once each, in order.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, WebSocketRoute, expect

from talkrooms.protocol import username_identity
from talkrooms.storage.store import Keys
from tests.e2e.helpers import join, message_texts, notices, online_users, send, shoot
from tests.support.processes import REPO_ROOT, ManagedProcess, free_port, wait_until
from tests.support.stack import Cluster

MOBILE = REPO_ROOT / "mobile"
EXPO = MOBILE / "node_modules" / ".bin" / "expo"
PHONE = {"width": 390, "height": 844}
APP_USER = "Maya"
WEB_USER = "Élodie"
ROOM = "mobile-e2e"
EXPORT_TIMEOUT_S = 240


class StaticServer(ManagedProcess):
    """Python's http.server over the app's web export (index.html + bundles)."""

    def __init__(self, work_dir: Path, root: Path) -> None:
        self.port = free_port()
        super().__init__(f"static-{self.port}", work_dir)
        self.root = root

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StaticServer:
        argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(self.port)]
        self.spawn([*argv, "--directory", str(self.root)])
        wait_until(lambda: requests.get(self.url, timeout=1).ok, 10, f"static server {self.port}")
        return self


# The export is built once per test session with this address as the app's default, and
# each stack gets a copy with its own address written in its place (the address is a
# string literal in the bundle: Expo inlines EXPO_PUBLIC_* values).
PLACEHOLDER_URL = "http://talkrooms-e2e-server.invalid:9"


def start_export(out: Path, server_url: str, work_dir: Path) -> subprocess.Popen[bytes]:
    """`expo export --platform web` with `server_url` baked in as the default.

    Metro's transform cache does not key on EXPO_PUBLIC_* values (a warm cache keeps the
    address of an earlier build), so the export gets a cache of its own: cold, but right.
    """
    if not EXPO.exists():
        pytest.fail("mobile/node_modules is missing: run `make mobile-deps` (npm ci in mobile/)")
    tmp = work_dir / "expo-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CI": "1",
        "EXPO_OFFLINE": "1",
        "EXPO_NO_TELEMETRY": "1",
        "EXPO_PUBLIC_SERVER_URL": server_url,
        "TMPDIR": str(tmp),
    }
    argv = [str(EXPO), "export", "--platform", "web", "--output-dir", str(out)]
    log = (work_dir / "expo-export.log").open("wb")
    try:
        return subprocess.Popen(
            argv, cwd=MOBILE, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        log.close()


def finish_export(process: subprocess.Popen[bytes], out: Path, work_dir: Path) -> None:
    try:
        code = process.wait(timeout=EXPORT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait(timeout=10)
        raise
    log = (work_dir / "expo-export.log").read_text(errors="replace")
    assert code == 0 and (out / "index.html").exists(), f"expo export failed:\n{log[-3000:]}"


def copy_export(shared: Path, out: Path, server_url: str) -> None:
    """The session's export, copied with `server_url` in place of the placeholder."""
    shutil.copytree(shared, out)
    replaced = 0
    for path in out.rglob("*"):
        if path.suffix not in {".js", ".html"}:
            continue
        text = path.read_text(errors="surrogateescape")
        if PLACEHOLDER_URL in text:
            path.write_text(text.replace(PLACEHOLDER_URL, server_url), errors="surrogateescape")
            replaced += 1
    assert replaced, "the placeholder address is not in the export: how is it built now?"


@dataclass
class MobileStack:
    cluster: Cluster
    app: StaticServer


@contextmanager
def app_with_cluster(work_dir: Path, cluster: Cluster, label: str) -> Iterator[MobileStack]:
    """The app's web export for `cluster`, served from its own origin, which the workers
    allow. The first stack of the session builds the export while its cluster starts (in
    the session's temporary folder, next to `work_dir`); later ones copy it. Stops both
    after."""
    out = work_dir / "web-export"
    shared = work_dir.parent / "mobile-web-export"
    app = StaticServer(work_dir, out)
    origins = f"{app.url},{cluster.url}"
    cluster.env["ALLOWED_ORIGINS"] = origins  # for workers started by restart_worker
    for worker in cluster.workers:
        worker.extra_env["ALLOWED_ORIGINS"] = origins
    started = time.monotonic()
    built = work_dir.parent / "mobile-web-export.built"
    export = None
    if not built.exists():
        shutil.rmtree(shared, ignore_errors=True)  # what a failed earlier build left
        export = start_export(shared, PLACEHOLDER_URL, work_dir)
    try:
        cluster.start()
        if export is not None:
            finish_export(export, shared, work_dir)
            built.touch()
        copy_export(shared, out, cluster.url)
        app.start()
        sys.stderr.write(f"\n{label} + web export ready in {time.monotonic() - started:.1f}s\n")
        yield MobileStack(cluster=cluster, app=app)
    finally:
        if export is not None and export.poll() is None:
            os.killpg(export.pid, 9)
            export.wait(timeout=10)
        app.stop()
        cluster.stop()


@pytest.fixture(scope="module")
def mobile_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MobileStack]:
    work_dir = tmp_path_factory.mktemp("mobile-stack")
    # A short graceful timeout: a stopping worker closes its WebSockets after 1 s.
    cluster = Cluster(work_dir, workers=2, env={"GRACEFUL_TIMEOUT_SECONDS": "1"})
    with app_with_cluster(work_dir, cluster, "mobile stack") as stack:
        yield stack


class HeldSockets:
    """Routes the app's WebSockets through Playwright; while held, new ones are refused.

    What a phone sees when its network is gone: the open socket stays until the server
    closes it, and every reconnection attempt fails until the hold ends.
    """

    def __init__(self) -> None:
        self.held = False
        self.opened = 0
        self.refused = 0

    def route(self, ws: WebSocketRoute) -> None:
        if self.held:
            self.refused += 1
            ws.close()
            return
        self.opened += 1
        ws.connect_to_server()


def expect_app_messages(page: Page, expected: list[str]) -> list[str]:
    """Wait until the app shows exactly these texts as stored messages; returns their ids."""
    rows = page.get_by_test_id("chat-message-list").locator('[data-testid^="message-0"]')
    expect(rows).to_have_count(len(expected))
    for row, text in zip(rows.all(), expected, strict=True):
        expect(row).to_contain_text(text)
    expect(page.locator('[data-testid^="message-pending-"]')).to_have_count(0)
    return [(row.get_attribute("data-testid") or "").removeprefix("message-") for row in rows.all()]


def pump_until(page: Page, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Wait for a condition that Playwright's own events change (route handlers run only
    while the sync API is inside a call, so this waits through the page, not time.sleep)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        page.wait_for_timeout(50)


def worker_index_of(cluster: Cluster, room: str, username: str) -> int:
    """Which worker holds the person's connection (presence in Redis says)."""
    client = cluster.redis.client()
    conns = client.hgetall(Keys("tr").room(room, "conns"))
    identity = username_identity(username)
    mine = {k.decode() for k, v in conns.items() if v.decode() == identity}
    assert mine, f"{username} holds no connection in {room}"
    for index, worker in enumerate(cluster.workers):
        if cluster.sids_on(worker) & mine:
            return index
    raise AssertionError(f"no worker holds {username}'s connection")


def test_app_and_web_ui_chat_in_one_room_across_a_worker_restart(
    mobile_stack: MobileStack, open_page: Callable[..., Page], screenshots: Path
) -> None:
    cluster, app_url = mobile_stack.cluster, mobile_stack.app.url
    sockets = HeldSockets()

    # The web UI person is in the room first, so the app's Login screen lists it.
    web = open_page(locale="en-US")
    join(web, cluster.url, WEB_USER, ROOM)

    app = open_page(locale="en-US", viewport=PHONE, timezone_id="UTC")
    crashes: list[str] = []
    app.on("pageerror", lambda error: crashes.append(str(error)))
    app.route_web_socket(re.compile(r"/socket\.io/"), sockets.route)
    app.goto(f"{app_url}/")
    # The server address came from EXPO_PUBLIC_SERVER_URL; /api/rooms answered across
    # origins (CORS) with the room and its one person.
    expect(app.get_by_test_id("login-server-url")).to_have_value(cluster.url)
    active = app.get_by_test_id(f"active-room-{ROOM}")
    expect(active).to_contain_text(f"#{ROOM}")
    expect(active).to_contain_text("1 user")
    app.get_by_test_id("login-username").fill(APP_USER)
    active.click()
    expect(app.get_by_test_id("login-room")).to_have_value(ROOM)
    shoot(app, screenshots, "mobile-login")
    app.get_by_test_id("login-submit").click()

    # Each sees the other: a join notice on the web, the person online in the app.
    expect(app.get_by_test_id("chat-connection-state")).to_have_text("Connected")
    expect(app.get_by_test_id("chat-header-room")).to_have_text(f"#{ROOM}")
    expect(notices(web).filter(has_text=f"{APP_USER} joined the room")).to_have_count(1)
    expect(web.locator("#user-count")).to_have_text("2 online")
    expect(app.get_by_test_id("chat-user-count")).to_have_text("2 online")
    app.get_by_test_id("chat-users-toggle").click()
    expect(app.get_by_test_id(f"chat-user-{WEB_USER}")).to_be_visible()
    expect(app.get_by_test_id(f"chat-user-{APP_USER}")).to_contain_text(f"{APP_USER} (you)")
    app.get_by_test_id("chat-users-toggle").click()

    # Typing, both ways.
    web.locator("#message-input").press_sequentially("Bonjour")
    expect(app.get_by_test_id("chat-typing")).to_have_text(f"{WEB_USER} is typing…")
    web.locator("#message-input").press("Enter")
    expect(app.get_by_test_id("chat-typing")).to_have_count(0)
    app_input = app.get_by_test_id("chat-input")
    app_input.press_sequentially("Hi from the app")
    expect(web.locator("#typing")).to_have_text(f"{APP_USER} is typing…")
    app.get_by_test_id("chat-send").click()
    expect(web.locator("#typing")).to_have_text("")

    conversation = ["Bonjour", "Hi from the app"]
    send(web, "Bienvenue Maya ! On teste l'appli ?")
    conversation.append("Bienvenue Maya ! On teste l'appli ?")
    app_input.fill("Yes! From my phone, through nginx.")
    app_input.press("Enter")
    conversation.append("Yes! From my phone, through nginx.")
    ids = expect_app_messages(app, conversation)
    expect(message_texts(web)).to_have_text(conversation)
    own = app.get_by_test_id(f"message-{ids[1]}")
    expect(own).to_contain_text("✓")  # own message, acknowledged
    web.locator("#message-input").press_sequentially("Parfait")
    expect(app.get_by_test_id("chat-typing")).to_have_text(f"{WEB_USER} is typing…")
    shoot(app, screenshots, "mobile-chat")
    web.locator("#message-input").fill("")  # an emptied input stops typing too
    expect(app.get_by_test_id("chat-typing")).to_have_count(0)

    # The worker holding the app's socket restarts while the app cannot get back in.
    index = worker_index_of(cluster, ROOM, APP_USER)
    sockets.held = True
    cluster.restart_worker(index)
    expect(app.get_by_test_id("chat-connection-state")).to_have_text("Reconnecting…")
    missed = [f"While you were away ({n})" for n in (1, 2, 3)]
    for text in missed:
        send(web, text)
    expect(message_texts(web)).to_have_text(conversation + missed)
    app_input.fill("Queued while offline")
    app_input.press("Enter")
    expect(app.locator('[data-testid^="message-pending-"]')).to_have_count(1)
    pump_until(app, lambda: sockets.refused > 0, 15, "the app trying to reconnect while held")
    sockets.held = False

    # Back: rejoined, the missed messages filled in, the queued one sent once.
    expect(app.get_by_test_id("chat-connection-state")).to_have_text("Connected", timeout=20_000)
    everything = [*conversation, *missed, "Queued while offline"]
    ids = expect_app_messages(app, everything)
    assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
    assert [int(i) for i in ids] == list(range(int(ids[0]), int(ids[0]) + len(ids))), ids
    expect(message_texts(web)).to_have_text(everything)

    # And on after the restart, both ways.
    send(web, "Still here?")
    app_input.fill("Still here.")
    app_input.press("Enter")
    everything += ["Still here?", "Still here."]
    expect_app_messages(app, everything)
    expect(message_texts(web)).to_have_text(everything)

    # Leaving, both ways: the web person leaves and comes back, then the app leaves.
    web.locator("#leave-button").click()
    web.wait_for_url(f"{cluster.url}/?room={ROOM}")  # the page goes back to its login
    expect(app.get_by_test_id("chat-user-count")).to_have_text("1 online")
    expect(app.get_by_text(f"{WEB_USER} left the room")).to_have_count(1)
    join(web, cluster.url, WEB_USER, ROOM)
    expect(app.get_by_text(f"{WEB_USER} joined the room")).to_have_count(1)
    expect(app.get_by_test_id("chat-user-count")).to_have_text("2 online")
    # (The restart may have shown the app leaving and coming back: count from here.)
    app_left = notices(web).filter(has_text=f"{APP_USER} left the room")
    left_before = app_left.count()
    app.get_by_test_id("chat-leave").click()
    expect(app.get_by_test_id("login-submit")).to_be_visible()
    expect(app_left).to_have_count(left_before + 1)
    expect(online_users(web)).to_have_text([WEB_USER])
    assert web.log.errors == []  # type: ignore[attr-defined]
    assert crashes == []  # refused WebSockets log console errors; uncaught errors none
