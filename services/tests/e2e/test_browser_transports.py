"""Chromium's socket.io-client through nginx on long-polling, with 2 and 4 workers.

The web UI opens with a WebSocket; a page that starts on long-polling (the library's
default) must work as well: join, send with an ack, then the worker holding the session
restarts and the page reconnects, rejoins and finds its first message in the history. No
request of a session may reach another worker than the one its sid names (issue 15).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.support.stack import Cluster, restartable_cluster

CLIENT_MODULE = "/static/vendor/socket.io-client/socket.io.esm.min.js"

# Runs in the page: a socket.io-client of the page's own origin that rejoins on every
# connect and records what happened in window.__chat.
START_CLIENT = """
async ({ module, room, transports }) => {
  const { io } = await import(module);
  const chat = { joins: [], acks: [], history: [], sids: [] };
  window.__chat = chat;
  const options = { reconnectionDelay: 200, reconnectionDelayMax: 1000 };
  if (transports) options.transports = transports;
  const socket = io(options);
  window.__socket = socket;
  socket.on("room_joined", (payload) => {
    chat.history.push(payload.messages.map((m) => m.id));
  });
  socket.on("connect", async () => {
    chat.sids.push(socket.io.engine.id);
    const ack = await socket.emitWithAck("join_room", {
      username: "browser", room, client_key: "browser-transports-0123456789",
    });
    chat.joins.push(ack.ok);
  });
}
"""

SEND = """
async (clientId) => {
  const ack = await window.__socket.emitWithAck("send_message", {
    message: `text of ${clientId}`, client_id: clientId,
  });
  window.__chat.acks.push({ ok: ack.ok, id: ack.message ? ack.message.id : null });
}
"""


@pytest.fixture(scope="module", params=[2, 4], ids=lambda n: f"{n}-workers")
def cluster(tmp_path_factory: pytest.TempPathFactory, request: Any) -> Iterator[Cluster]:
    with restartable_cluster(tmp_path_factory.mktemp("browser-transports"), request.param) as stack:
        yield stack


def chat_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate("() => window.__chat")
    return state


@pytest.mark.parametrize("transports", [["polling"], None], ids=["polling", "default"])
def test_the_browser_chats_on_polling_across_a_restart_of_its_worker(
    cluster: Cluster,
    open_page: Callable[..., Page],
    room_name: str,
    transports: list[str] | None,
):
    since = len(cluster.nginx.access_entries())
    page = open_page()
    page.goto(f"{cluster.url}/")
    page.evaluate(
        START_CLIENT, {"module": CLIENT_MODULE, "room": room_name, "transports": transports}
    )
    page.wait_for_function("() => window.__chat.joins.length === 1")
    page.evaluate(SEND, "browser-1")
    page.wait_for_function("() => window.__chat.acks.length === 1")
    first = chat_state(page)
    assert first["joins"] == [True] and first["acks"][0]["ok"]

    sid = first["sids"][0]
    route = sid.split(".", 1)[0]
    index = [cluster.routes[w.port] for w in cluster.workers].index(route)
    cluster.restart_worker(index)

    page.wait_for_function("() => window.__chat.joins.length === 2", timeout=30_000)
    page.evaluate(SEND, "browser-2")
    page.wait_for_function("() => window.__chat.acks.length === 2")
    state = chat_state(page)
    page.evaluate("() => window.__socket.disconnect()")

    assert state["joins"] == [True, True]
    assert [a["ok"] for a in state["acks"]] == [True, True]
    assert state["sids"][1] != sid
    assert state["acks"][0]["id"] in state["history"][1]
    assert cluster.misrouted_requests(since) == []
    requests_seen = [e["request"] for e in cluster.nginx.access_entries()[since:]]
    assert any("transport=polling" in r and "sid=" in r for r in requests_seen)
