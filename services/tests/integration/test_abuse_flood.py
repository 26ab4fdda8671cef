"""Flooding through nginx: rate limits answer with errors, nginx limits each client address
(limit_req on new sessions, limit_conn on open requests), the worker limits sockets per
address from nginx's X-Real-IP, and a client that never reads costs bounded memory.

Clients play distinct addresses by opening their connections from 127.0.0.2, 127.0.0.3...
(tests/support/abuse.py); 127.0.0.1 itself is exempt from nginx's limits by design.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
import websocket

from talkrooms.ops import stack
from tests.reliability.figures import report
from tests.support.abuse import LimitedNginx, http_from, rss_kb, worker_process, ws_connect
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer, stop_all, wait_until
from tests.support.stack import NginxServer

pytestmark = pytest.mark.integration

POLLING = "/socket.io/?EIO=4&transport=polling"
STRICT_ENV = {
    "MESSAGE_RATE_LIMIT": "3/10",
    "JOIN_RATE_LIMIT": "3/10",
    "MAX_CONNECTIONS_PER_ADDRESS": "3",
}


@pytest.fixture(scope="module")
def strict_worker(work_dir: Path, redis_server: RedisServer) -> Iterator[ChatWorker]:
    """A worker with people-sized limits (the shared test workers have them off)."""
    worker = ChatWorker(work_dir, redis_server.url, env=STRICT_ENV).start()
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def front(work_dir: Path, strict_worker: ChatWorker) -> Iterator[NginxServer]:
    """nginx as make run renders it (default limits) in front of the strict worker."""
    nginx = NginxServer(work_dir, [strict_worker.port]).start()
    yield nginx
    nginx.stop()


@pytest.fixture
def limited_nginx(work_dir: Path, strict_worker: ChatWorker) -> Iterator[type[LimitedNginx]]:
    started: list[LimitedNginx] = []

    def _start(**limits: object) -> LimitedNginx:
        nginx = LimitedNginx(work_dir, [strict_worker.port], limits=limits).start()
        started.append(nginx)
        return nginx

    yield _start  # type: ignore[misc]
    stop_all(started)


def open_engineio(url: str, source: str) -> websocket.WebSocket:
    """An Engine.IO session over a WebSocket from `source`, not yet a Socket.IO connection."""
    ws = ws_connect(url, source=source)
    assert ws.recv().startswith("0{")
    return ws


def socketio_connect(ws: websocket.WebSocket) -> str:
    """Send CONNECT; the CONNECT or CONNECT_ERROR answer (events before it are skipped)."""
    ws.send("40")
    while True:
        frame = ws.recv()
        if frame.startswith(("40", "44")):
            return str(frame)


def close_all(sockets: list[websocket.WebSocket]) -> None:
    for ws in sockets:
        ws.close()


def open_connections(worker: ChatWorker) -> int:
    return int(requests.get(f"{worker.url}/api/health", timeout=5).json()["connections"])


# -- rate limits: an error, never silence --------------------------------------------------


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]])
def test_message_and_join_floods_get_errors_through_nginx(
    front: NginxServer, strict_worker: ChatWorker, room_name: str, transports: list[str]
) -> None:
    client = ChatClient(front.url, transports=transports).connect()
    try:
        joins = [client.join("hopper", f"{room_name}-{i}") for i in range(4)]
        assert [j["ok"] for j in joins] == [True, True, True, False]
        assert joins[3]["code"] == "rate_limited" and "at most 3 per 10 s" in joins[3]["error"]
        acks = [client.send(f"m{i}") for i in range(5)]
        assert [a["ok"] for a in acks] == [True, True, True, False, False]
        assert acks[3] == {
            "ok": False,
            "code": "rate_limited",
            "error": "Too many messages: at most 3 per 10 s",
        }
        # Without an ack the refusal comes as an `error` event: still not silence.
        mark = client.mark()
        client.emit("send_message", {"message": "no ack wanted"})
        error = client.wait_for("error", after=mark)
        assert error == {"code": "rate_limited", "message": "Too many messages: at most 3 per 10 s"}
        assert client.sio.connected
    finally:
        client.close()
    wait_until(lambda: open_connections(strict_worker) == 0, 10, "the client to be forgotten")


# -- the worker's per-address limit, from nginx's X-Real-IP --------------------------------


def test_the_worker_counts_sockets_per_client_address_behind_nginx(
    front: NginxServer, strict_worker: ChatWorker
) -> None:
    """MAX_CONNECTIONS_PER_ADDRESS=3: nginx names the client (X-Real-IP), so one address is
    limited and another is not; a forged X-Real-IP header is overwritten by nginx."""
    mine: list[websocket.WebSocket] = []
    try:
        for _ in range(3):
            ws = open_engineio(front.url, "127.0.0.3")
            mine.append(ws)
            assert socketio_connect(ws).startswith("40{")
        fourth = open_engineio(front.url, "127.0.0.3")
        mine.append(fourth)
        refused = socketio_connect(fourth)
        assert refused.startswith("44") and "Too many connections" in refused, refused

        spoof = websocket.create_connection(
            front.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
            header=["X-Real-IP: 10.9.8.7", "X-Forwarded-For: 10.9.8.7"],
            socket=_socket_from("127.0.0.3", front.port),
            timeout=5,
            suppress_origin=True,
        )
        mine.append(spoof)
        assert spoof.recv().startswith("0{")
        assert socketio_connect(spoof).startswith("44"), "a forged X-Real-IP got through"

        other = open_engineio(front.url, "127.0.0.4")
        mine.append(other)
        assert socketio_connect(other).startswith("40{")

        # A closed socket frees its place.
        mine[0].close()
        wait_until(lambda: open_connections(strict_worker) == 3, 10, "the closed socket forgotten")
        again = open_engineio(front.url, "127.0.0.3")
        mine.append(again)
        assert socketio_connect(again).startswith("40{")
    finally:
        close_all(mine)
    wait_until(lambda: open_connections(strict_worker) == 0, 10, "every socket forgotten")


def _socket_from(source: str, port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


# -- nginx: limit_req on new sessions ------------------------------------------------------


def test_make_runs_nginx_limits_each_address_but_not_loopback() -> None:
    renderer = stack.load_nginx_renderer()
    text = stack.render_nginx(stack.plan(workers=2, run_dir=Path("/tmp/talkrooms-plan")))
    assert "limit_conn talkrooms_addresses 1000;" in text
    assert (
        "rate=20r/s;" in text and "limit_req zone=talkrooms_handshakes burst=100 nodelay;" in text
    )
    assert "limit_req zone=talkrooms_joins burst=100 nodelay;" in text
    assert re.search(r"geo \$talkrooms_limit_exempt \{[^}]*127\.0\.0\.1 1;[^}]*::1 1;", text)
    assert "limit_req_status 429;" in text and "limit_conn_status 429;" in text
    # 0 turns each limit off (benchmarks that open 10,000 sockets from one address).
    options = dataclasses.replace(
        renderer.compose_options(), connections_per_address=0, new_sessions_per_second=0
    )
    assert not re.search(
        r"\blimit_(req|conn)", re.sub(r"(?m)^\s*#.*$", "", renderer.render(options))
    )
    with pytest.raises(ValueError):
        renderer.render(dataclasses.replace(options, limit_exempt=("not-an-address",)))


def test_a_burst_of_handshakes_from_one_address_gets_429_and_sessions_go_on(
    limited_nginx, strict_worker: ChatWorker
) -> None:
    nginx = limited_nginx(new_sessions_per_second=2, new_session_burst=5, connections_per_address=0)
    flooder = http_from("127.0.0.5")
    # A session that existed before the flood: one polling, one WebSocket.
    handshake = flooder.get(f"{nginx.url}{POLLING}", timeout=5)
    sid = json.loads(handshake.text[1:])["sid"]
    session_url = f"{nginx.url}{POLLING}&sid={sid}"
    assert flooder.post(session_url, data="40", timeout=5).status_code == 200
    ws = open_engineio(nginx.url, "127.0.0.5")
    try:
        assert socketio_connect(ws).startswith("40{")

        statuses: Counter[int] = Counter()
        for _ in range(30):
            statuses[
                http_from("127.0.0.5").get(f"{nginx.url}{POLLING}", timeout=5).status_code
            ] += 1
        # Burst 5 (+ what the rate refilled meanwhile), then 429 for the rest.
        assert statuses[429] >= 20 and statuses[200] <= 10, statuses
        assert set(statuses) == {200, 429}, statuses
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            ws_connect(nginx.url, source="127.0.0.5")
        assert refused.value.status_code == 429

        # The existing sessions are not new sessions: they go on.
        assert flooder.post(session_url, data='421["get_history",{"room":"x"}]').status_code == 200
        assert "431[" in _poll_until(flooder, session_url, "431[")
        ws.send('422["get_history",{"room":"x"}]')
        assert _recv_until(ws, "432[")
        # Another address is not affected; loopback is exempt; and it is a rate, not a ban.
        assert http_from("127.0.0.6").get(f"{nginx.url}{POLLING}", timeout=5).status_code == 200
        assert all(
            requests.get(f"{nginx.url}{POLLING}", timeout=5).status_code == 200 for _ in range(30)
        )
        started = time.monotonic()
        wait_until(
            lambda: (
                http_from("127.0.0.5").get(f"{nginx.url}{POLLING}", timeout=5).status_code == 200
            ),
            5,
            "a new session allowed again",
            every=0.1,
        )
        recovered = time.monotonic() - started
    finally:
        ws.close()
    report(
        "abuse-nginx-limit-req",
        {
            "rate_per_s": 2,
            "burst": 5,
            "handshakes": 30,
            "statuses": dict(statuses),
            "allowed_again_after_s": round(recovered, 2),
        },
    )


def test_the_login_form_post_is_limited_like_new_sessions(limited_nginx) -> None:
    nginx = limited_nginx(new_sessions_per_second=1, new_session_burst=3, connections_per_address=0)
    client = http_from("127.0.0.7")
    statuses = Counter(
        client.post(
            f"{nginx.url}/join",
            data={"username": "alice", "room": "general"},
            allow_redirects=False,
            timeout=5,
        ).status_code
        for _ in range(10)
    )
    assert statuses[303] <= 5 and statuses[429] >= 5, statuses
    assert requests.get(f"{nginx.url}/", timeout=5).status_code == 200


def _poll_until(session: requests.Session, url: str, marker: str) -> str:
    text = ""
    deadline = time.monotonic() + 10
    while marker not in text and time.monotonic() < deadline:
        text += session.get(url, timeout=30).text
    return text


def _recv_until(ws: websocket.WebSocket, prefix: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")
        elif frame.startswith(prefix):
            return str(frame)
    raise AssertionError(f"no {prefix} frame")


# -- nginx: limit_conn on requests in progress ----------------------------------------------


def test_one_address_cannot_hold_more_than_its_connections_in_nginx(
    limited_nginx, strict_worker: ChatWorker
) -> None:
    nginx = limited_nginx(connections_per_address=4, new_sessions_per_second=0)
    held: list[websocket.WebSocket] = []
    try:
        for _ in range(4):
            held.append(open_engineio(nginx.url, "127.0.0.8"))
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            ws_connect(nginx.url, source="127.0.0.8")
        assert refused.value.status_code == 429
        poll = http_from("127.0.0.8").get(f"{nginx.url}{POLLING}", timeout=5)
        assert poll.status_code == 429
        # The connections it holds still work; other addresses are not affected.
        assert socketio_connect(held[0]).startswith("40{")
        held[0].send('423["get_history",{"room":"x"}]')
        assert _recv_until(held[0], "433[")
        other = open_engineio(nginx.url, "127.0.0.9")
        held.append(other)
        # Closing one frees a place.
        held[1].close()

        def reopened() -> bool:
            held.append(open_engineio(nginx.url, "127.0.0.8"))
            return True

        wait_until(reopened, 5, "a place freed", every=0.1)
    finally:
        close_all(held)
    report("abuse-nginx-limit-conn", {"limit": 4, "fifth_websocket": 429, "polling": 429})


# -- a client that never reads -------------------------------------------------------------


def nginx_rss_kb(nginx: NginxServer) -> int:
    master = psutil.Process(nginx.pid)
    return sum(rss_kb(p) for p in [master, *master.children()])


def metric(worker: ChatWorker, name: str) -> float:
    for line in requests.get(f"{worker.url}/metrics", timeout=5).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_a_client_that_never_reads_costs_bounded_memory(
    work_dir: Path, redis_server: RedisServer, room_name: str
) -> None:
    """Through nginx: the sleeper's packets pile up in the worker only up to
    MAX_QUEUED_PACKETS, then it is dropped; sending as much again costs nothing more."""
    worker = ChatWorker(work_dir, redis_server.url, env={"MAX_QUEUED_PACKETS": "200"}).start()
    nginx = NginxServer(work_dir, [worker.port]).start()
    process = worker_process(worker)
    text = "x" * 1900
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small receive window, set before connecting, so the kernel holds little for it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", nginx.port))
        sleeper = websocket.create_connection(
            nginx.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
            socket=sock,
            timeout=5,
            suppress_origin=True,
        )
        assert sleeper.recv().startswith("0{")
        sleeper.send("40")
        sleeper.send("420" + json.dumps(["join_room", {"username": "sleeper", "room": room_name}]))
        _recv_until(sleeper, "430[")
        talker = ChatClient(nginx.url).connect()
        assert talker.join("talker", room_name)["ok"]
        before = rss_kb(process)
        nginx_before = nginx_rss_kb(nginx)
        sent = 0
        dropped_after = None
        peak = before
        for _ in range(160):  # at most 16,000 x 1.9 KB = 30 MB
            for _i in range(100):
                talker.emit("send_message", {"message": text})
            sent += 100
            talker.wait_count("new_message", sent, timeout=30)
            peak = max(peak, rss_kb(process))
            if dropped_after is None and metric(worker, "talkrooms_slow_consumers_dropped_total"):
                dropped_after = sent
            if dropped_after is not None and sent >= 2 * dropped_after + 2000:
                break
        at_drop_plus = rss_kb(process)
        assert dropped_after is not None, "the sleeper was never dropped"
        assert talker.send("the room goes on")["ok"] is True
        talker.close()
        sleeper.close()
    finally:
        nginx_after = nginx_rss_kb(nginx)
        nginx.stop()
        worker.stop()
    figures = {
        "max_queued_packets": 200,
        "message_bytes": len(text),
        "messages_sent": sent,
        "mb_sent_to_sleeper": round(sent * len(text) / 1e6, 1),
        "dropped_after_messages": dropped_after,
        "worker_rss_kb_before": before,
        "worker_rss_kb_peak": peak,
        "worker_rss_kb_end": at_drop_plus,
        "worker_rss_growth_kb": at_drop_plus - before,
        "nginx_rss_growth_kb": nginx_after - nginx_before,
    }
    report("abuse-slow-reader", figures)
    # Queued for the sleeper before the drop: at most 200 packets of ~2 KB (0.4 MB); the
    # rest of the growth is the worker's own working set under load. A server that kept
    # everything for the sleeper would have grown by the megabytes sent.
    assert peak - before < 8 * 1024, figures
    assert at_drop_plus - before < 8 * 1024, figures
    assert figures["mb_sent_to_sleeper"] > 10, figures
