"""The official JavaScript client (socket.io-client, pinned in tests/conformance/) through
nginx with 2 and 4 workers: default options (long-polling then the upgrade, no cookies
sent back, as every Node client and bot does), long-polling only, WebSocket only, and
with a cookie jar. Join, send with an ack, receive the message, then the worker holding
the socket restarts (a server-side transport close): the client reconnects through nginx
and does it all again, with round 1's message in its history. No request of a session may
reach another worker than the one its sid names (issue 15).

`make conformance-deps` installs the client (npm ci, like the mobile app's `make
mobile-deps`); `make test` runs it first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.reliability.figures import report
from tests.support.client import ChatClient
from tests.support.node import NodeScript
from tests.support.processes import REPO_ROOT
from tests.support.stack import Cluster, full_history, restartable_cluster

pytestmark = pytest.mark.integration

PACKAGE = REPO_ROOT / "services" / "tests" / "conformance"
CLIENT = PACKAGE / "client.mjs"


@pytest.fixture(scope="module", params=[2, 4], ids=lambda n: f"{n}-workers")
def cluster(tmp_path_factory: pytest.TempPathFactory, request: Any) -> Iterator[Cluster]:
    with restartable_cluster(tmp_path_factory.mktemp("conformance-js"), request.param) as stack:
        yield stack


def node_client(url: str, mode: str, room: str, username: str) -> NodeScript:
    """client.mjs (the official socket.io-client) as a child process."""
    if not (PACKAGE / "node_modules" / "socket.io-client").exists():
        pytest.fail("tests/conformance/node_modules is missing: run `make conformance-deps`")
    return NodeScript(
        CLIENT,
        [url, mode, room, username],
        cwd=PACKAGE,
        env={"CONFORMANCE_TIMEOUT_MS": "60000"},
    )


def worker_index_holding(cluster: Cluster, sid: str) -> int:
    for index, worker in enumerate(cluster.workers):
        if sid in cluster.sids_on(worker):
            return index
    raise AssertionError(f"no worker holds {sid}")


@pytest.mark.parametrize("mode", ["upgrade", "polling", "websocket", "cookies"])
def test_the_official_js_client_chats_and_reconnects_through_nginx(
    cluster: Cluster, room_name: str, mode: str
) -> None:
    since = len(cluster.nginx.access_entries())
    client = node_client(cluster.url, mode, room_name, f"js-{mode}")
    try:
        ready = client.wait_for("ready_for_server_close")
        index = worker_index_holding(cluster, ready["sid"])
        closed_at = time.monotonic()
        restarted = cluster.restart_worker(index)
        assert restarted.healthy()
        client.wait_for("done", timeout=30)
        took = time.monotonic() - closed_at
        code = client.process.wait(timeout=10)
    finally:
        code = client.stop()
    assert code == 0, client.seen

    opened_on = [line["transport"] for line in client.events("engine_open")]
    upgrades = [line["name"] for line in client.events("upgrade")]
    transports = [line["now"] for line in client.events("transport")]
    disconnects = [line["reason"] for line in client.events("disconnect")]
    sent = client.events("sent")
    figures = {
        "mode": mode,
        "engine_opened_on": opened_on,
        "upgrades": upgrades,
        "disconnect_reasons": disconnects,
        "reconnect_attempts": len(client.events("reconnect_attempt")),
        "restart_to_done_s": round(took, 2),
        "message_ids": [s["id"] for s in sent],
    }
    report(f"conformance-js-{mode}", figures)

    assert [j["ok"] for j in client.events("joined")] == [True, True]
    assert [s["ok"] for s in sent] == [True, True]
    assert int(sent[1]["id"]) > int(sent[0]["id"])
    assert sent[0]["id"] in client.events("joined")[1]["history"]
    assert cluster.misrouted_requests(since) == []
    assert [r["id"] for r in client.events("received_own")] == [s["id"] for s in sent]
    # The server's `connected` event precedes its CONNECT packet: buffered, not lost.
    assert len(client.events("connected_event")) == 2
    # The restart closed the transport from the server side; the client came back alone.
    assert disconnects[:1] in (["transport close"], ["transport error"]), disconnects
    requests_seen = [
        e["request"]
        for e in cluster.nginx.access_entries()[since:]
        if f"conformance={mode}" in e["request"]
    ]
    assert requests_seen
    if mode == "polling":
        assert opened_on == ["polling", "polling"] and upgrades == []
        assert transports == ["polling", "polling"]
        assert not any("transport=websocket" in r for r in requests_seen)
    elif mode in ("upgrade", "cookies"):
        assert opened_on == ["polling", "polling"] and upgrades == ["websocket", "websocket"]
        assert transports == ["websocket", "websocket"]
        # nginx saw the polling handshake and then the WebSocket of the same session.
        assert any("transport=polling" in r for r in requests_seen)
        assert any("transport=websocket&sid=" in r for r in requests_seen)
    else:
        assert opened_on == ["websocket", "websocket"] and upgrades == []
        assert transports == ["websocket", "websocket"]
        assert not any("transport=polling" in r for r in requests_seen)

    # Both messages are stored, once, in order.
    reader = ChatClient(cluster.url).connect()
    try:
        stored = [m for m in full_history(reader, room_name) if m.get("client_id")]
    finally:
        reader.close()
    assert [m["client_id"] for m in stored] == [f"{mode}-1", f"{mode}-2"]
