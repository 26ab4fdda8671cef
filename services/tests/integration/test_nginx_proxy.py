"""Through nginx, as users reach the stack: sticky polling, spread, headers, limits.

Every client here connects from 127.0.0.1 on its own source port: with ip_hash they
would all land on one worker; the worker cookie and least_conn must spread them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.client import ChatClient
from tests.support.processes import wait_until
from tests.support.stack import Cluster, NginxServer

pytestmark = pytest.mark.integration

CLIENTS = 16
HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    stack = Cluster(tmp_path_factory.mktemp("nginx"), workers=2).start()
    yield stack
    stack.stop()


def connect_many(
    cluster: Cluster, transports: list[str], room: str, count: int
) -> list[ChatClient]:
    clients = []
    for i in range(count):
        client = ChatClient(cluster.url, transports=transports).connect()
        clients.append(client)
        assert client.join(f"user{i}", room)["ok"]
    return clients


def socketio_errors(cluster: Cluster) -> list[dict[str, str]]:
    return [
        entry
        for entry in cluster.nginx.access_entries()
        if " /socket.io/" in entry["request"] and entry["status"] not in ("101", "200")
    ]


def workers_per_session(cluster: Cluster, since: int) -> dict[str, set[str]]:
    """For each Engine.IO session in the access log (from line `since`), who answered it."""
    sessions: dict[str, set[str]] = defaultdict(set)
    for entry in cluster.nginx.access_entries()[since:]:
        sid = re.search(r"[?&]sid=([^& ]+)", entry["request"])
        if sid:
            sessions[sid.group(1)].add(entry["upstream"].split(", ")[-1])
    return sessions


def chat_round(clients: list[ChatClient]) -> None:
    """Every client sends one message; every client receives all of them."""
    ids = [client.send(f"hello from {i}")["message"]["id"] for i, client in enumerate(clients)]
    for client in clients:
        client.wait_count("new_message", len(ids), timeout=10, predicate=lambda m: m["id"] in ids)
        assert {m["id"] for m in client.received("new_message")} >= set(ids)


@pytest.mark.parametrize("transports", [["polling"], ["websocket"], ["polling", "websocket"]])
def test_clients_from_many_ports_chat_and_spread_over_the_workers(
    cluster: Cluster, room_name: str, transports: list[str]
):
    before = len(socketio_errors(cluster))
    first_line = len(cluster.nginx.access_entries())
    clients = connect_many(cluster, transports, room_name, CLIENTS)
    try:
        chat_round(clients)
        # No 400 "Invalid session" while they chat. (After a client closes, its poller may
        # still ask once for the ended session: that 400 is the client's, not nginx's.)
        assert socketio_errors(cluster)[before:] == []
        counts = cluster.connections_per_worker()
        assert sum(counts.values()) == CLIENTS
        # least_conn / round robin: an even split; allow a little for timing.
        assert min(counts.values()) >= CLIENTS // 4, counts
        if transports != ["websocket"]:
            # Polling sessions stayed on their worker: every client holds the cookie
            # naming the worker that made its session.
            cookies = {c.sio.eio.http.cookies.get("talkrooms_worker") for c in clients}
            assert cookies == {"w1", "w2"}
    finally:
        for client in clients:
            client.close()
    sessions = workers_per_session(cluster, first_line)
    split = {sid: workers for sid, workers in sessions.items() if len(workers) > 1}
    assert split == {}, "sessions answered by more than one worker"


def test_the_handshake_names_its_worker_and_later_polls_follow_the_cookie(cluster: Cluster):
    session = requests.Session()
    handshake = session.get(f"{cluster.url}{HANDSHAKE}", timeout=5)
    assert handshake.status_code == 200
    cookie = session.cookies.get("talkrooms_worker")
    assert cookie in ("w1", "w2")
    sid = handshake.text.split('"sid":"', 1)[1].split('"', 1)[0]
    # More requests of this session, each on a new connection (a new source port): all
    # reach the worker that holds the session. "3" is a harmless Engine.IO pong.
    for packet in ("40", "3", "3", "3", "3", "3"):
        sent = requests.post(
            f"{cluster.url}{HANDSHAKE}&sid={sid}",
            data=packet,
            cookies={"talkrooms_worker": cookie},
            timeout=5,
        )
        assert sent.status_code == 200, sent.text
    poll = requests.get(
        f"{cluster.url}{HANDSHAKE}&sid={sid}", cookies={"talkrooms_worker": cookie}, timeout=30
    )
    assert poll.status_code == 200 and "\x1e40{" in poll.text, poll.text


def test_without_the_cookie_polling_follows_the_sid(cluster: Cluster):
    """Without the cookie (most non-browser clients) the session id alone routes: a
    session's requests spread over workers would get 400 "Invalid session"."""
    handshake = requests.get(f"{cluster.url}{HANDSHAKE}", timeout=5)
    sid = handshake.text.split('"sid":"', 1)[1].split('"', 1)[0]
    statuses = {
        requests.post(f"{cluster.url}{HANDSHAKE}&sid={sid}", data="3", timeout=5).status_code
        for _ in range(4)
    }
    assert statuses == {200}


def test_a_new_session_follows_the_cookie(cluster: Cluster):
    """The cookie still pins new sessions of a browser (all its tabs) to one worker."""
    for route in ("w1", "w2"):
        for _ in range(3):
            handshake = requests.get(
                f"{cluster.url}{HANDSHAKE}", cookies={"talkrooms_worker": route}, timeout=5
            )
            assert handshake.status_code == 200
            assert handshake.text.split('"sid":"', 1)[1].startswith(f"{route}.")


def test_the_browser_origin_with_a_port_is_accepted(cluster: Cluster):
    # nginx forwards Host with its port, so Engine.IO's same-origin check holds.
    client = ChatClient(cluster.url, transports=["polling"], headers={"Origin": cluster.url})
    try:
        client.connect()
        assert client.sio.connected
    finally:
        client.close()
    foreign = requests.get(
        f"{cluster.url}{HANDSHAKE}", headers={"Origin": "http://evil.example"}, timeout=5
    )
    assert foreign.status_code == 400


def test_metrics_are_not_served_on_the_public_port(cluster: Cluster):
    for path in ("/metrics", "/metrics/", "/metrics?x=1"):
        assert requests.get(f"{cluster.url}{path}", timeout=5).status_code == 404
    # ...while each worker still serves them on its private port (for Prometheus).
    assert requests.get(f"{cluster.workers[0].url}/metrics", timeout=5).status_code == 200


def test_oversize_uploads_are_refused_by_nginx_and_mark_no_worker_down(cluster: Cluster):
    body = "4" + "x" * (128 * 1024)
    for _ in range(10):
        response = requests.post(f"{cluster.url}{HANDSHAKE}&sid=whatever", data=body, timeout=5)
        assert response.status_code == 413
    # Both workers still take new sessions at once.
    workers_seen = set()
    for _ in range(6):
        session = requests.Session()
        assert session.get(f"{cluster.url}{HANDSHAKE}", timeout=5).status_code == 200
        workers_seen.add(session.cookies.get("talkrooms_worker"))
    assert workers_seen == {"w1", "w2"}


def test_api_and_pages_are_proxied_with_the_client_address(cluster: Cluster):
    health = requests.get(f"{cluster.url}/api/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    rooms = requests.get(f"{cluster.url}/api/rooms", timeout=5)
    assert rooms.status_code == 200 and "rooms" in rooms.json()


def test_static_files_are_served_by_nginx_itself(cluster: Cluster, tmp_path: Path):
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "app.css").write_text("body { color: #333; }\n")
    nginx = NginxServer(tmp_path, [w.port for w in cluster.workers], static_root=static).start()
    try:
        response = requests.get(f"{nginx.url}/static/css/app.css", timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/css")
        assert response.text == "body { color: #333; }\n"
        assert requests.get(f"{nginx.url}/static/missing.js", timeout=5).status_code == 404
        wait_until(lambda: len(nginx.access_entries()) >= 2, 5, "access log lines")
        assert {e["upstream"] for e in nginx.access_entries()} == {"-"}
    finally:
        nginx.stop()
