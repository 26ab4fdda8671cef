"""Stickiness through nginx for clients that send no cookies back (issue 15).

Every worker starts its Engine.IO session ids with its route (`w2.…`) and nginx routes
each request of a session by its `sid`, so a client without a cookie jar — python-socketio
with cookies refused here, curl, bots — stays on its session's worker for every polling
request and for the upgrade, with 2 and 4 workers, across a restart of that worker. The
official JavaScript client's cases are in test_conformance_js.py.
"""

from __future__ import annotations

import http.cookiejar
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.client import ChatClient
from tests.support.stack import Cluster, RejoiningClient, full_history, restartable_cluster

pytestmark = pytest.mark.integration

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


@pytest.fixture(scope="module", params=[2, 4], ids=lambda n: f"{n}-workers")
def cluster(tmp_path_factory: pytest.TempPathFactory, request: Any) -> Iterator[Cluster]:
    with restartable_cluster(tmp_path_factory.mktemp("sticky"), request.param) as stack:
        yield stack


def cookieless_session() -> requests.Session:
    """A requests session whose cookie jar keeps nothing: a client with no cookie jar."""
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


def handshake(cluster: Cluster) -> str:
    """A new polling session's sid, asked without any cookie."""
    response = requests.get(f"{cluster.url}{HANDSHAKE}", timeout=5)
    assert response.status_code == 200, response.text
    return str(json.loads(response.text[1:])["sid"])


def worker_of(cluster: Cluster, sid: str) -> int:
    """The index of the worker whose route the sid starts with."""
    route = sid.split(".", 1)[0]
    ports = [port for port, name in cluster.routes.items() if name == route]
    assert ports, f"sid {sid!r} names no worker of {cluster.routes}"
    return [w.port for w in cluster.workers].index(ports[0])


def test_every_session_id_names_a_worker_and_health_says_which(cluster: Cluster):
    for worker in cluster.workers:
        health = requests.get(f"{worker.url}/api/health", timeout=5).json()
        assert health["route"] == cluster.routes[worker.port]
    routes_seen = {handshake(cluster).split(".", 1)[0] for _ in range(4 * len(cluster.workers))}
    # New sessions still spread over every worker (least_conn / round robin).
    assert routes_seen == set(cluster.routes.values())


def test_polling_requests_without_a_cookie_all_reach_the_sessions_worker(cluster: Cluster):
    since = len(cluster.nginx.access_entries())
    sid = handshake(cluster)
    url = f"{cluster.url}{HANDSHAKE}&sid={sid}"
    # Each on a new connection with no cookie: Socket.IO CONNECT, then harmless pongs.
    for packet in ("40", "3", "3", "3", "3", "3", "3", "3"):
        sent = requests.post(url, data=packet, timeout=5)
        assert sent.status_code == 200, sent.text
    poll = requests.get(url, timeout=30)
    assert poll.status_code == 200 and "\x1e40{" in poll.text, poll.text
    assert cluster.misrouted_requests(since) == []


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]])
def test_python_client_without_cookies_chats_across_a_restart_of_its_worker(
    cluster: Cluster, room_name: str, transports: list[str]
):
    since = len(cluster.nginx.access_entries())
    client = RejoiningClient(
        cluster.url, "cookieless", room_name, transports, http_session=cookieless_session()
    )
    try:
        client.connect()
        client.wait_joined()
        first = client.send("before the restart", client_id="py-1")
        assert first["ok"], first
        sid = client.sio.eio.sid
        assert not client.sio.eio.http.cookies, "the jar must stay empty"

        mark = client.mark()
        cluster.restart_worker(worker_of(cluster, sid))
        client.wait_joined(timeout=20, after=mark)
        assert client.sio.eio.sid != sid
        second = client.send("after the restart", client_id="py-2")
        assert second["ok"], second
        history = client.wait_for("room_joined", after=mark)["messages"]
        assert first["message"]["id"] in [m["id"] for m in history]
    finally:
        client.close()
    reader = ChatClient(cluster.url).connect()
    try:
        stored = [m["client_id"] for m in full_history(reader, room_name) if m.get("client_id")]
    finally:
        reader.close()
    assert stored == ["py-1", "py-2"]
    assert cluster.misrouted_requests(since) == []


def test_an_old_sid_after_its_worker_restarted_gets_a_quick_400(cluster: Cluster):
    sid = handshake(cluster)
    cluster.restart_worker(worker_of(cluster, sid))
    started = time.monotonic()
    poll = requests.get(f"{cluster.url}{HANDSHAKE}&sid={sid}", timeout=10)
    assert poll.status_code == 400
    assert time.monotonic() - started < 2
    # The client's next handshake works at once.
    assert handshake(cluster)


def test_a_sid_whose_worker_is_down_gets_a_quick_400_from_another(cluster: Cluster):
    sid = handshake(cluster)
    index = worker_of(cluster, sid)
    down = cluster.workers[index]
    down.stop()
    try:
        started = time.monotonic()
        poll = requests.get(f"{cluster.url}{HANDSHAKE}&sid={sid}", timeout=10)
        assert poll.status_code == 400
        assert time.monotonic() - started < 2
        assert handshake(cluster).split(".", 1)[0] != cluster.routes[down.port]
    finally:
        cluster.workers[index] = cluster._worker(down.port).start()


@pytest.mark.parametrize("sid", ["w99.AAAAAAAAAAAAAAAAAAAA", "nope", "w1.", ".w1"])
def test_a_sid_naming_no_worker_gets_a_400(cluster: Cluster, sid: str):
    poll = requests.get(f"{cluster.url}{HANDSHAKE}&sid={sid}", timeout=10)
    assert poll.status_code == 400
