"""Hostile long-polling requests through nginx: a quick 4xx each, never a 500 or silence.

python-engineio answers some malformed polling POSTs with 200 after logging a traceback,
and holds others until the ping timeout (it closes the session waiting for a GET that
never comes). services/talkrooms/realtime/polling_guard.py answers them first. Every case here
goes through the real nginx to 2 workers, alone and then as a concurrent burst: counted,
0 responses >= 500, 0 unanswered, the session closed, no traceback in the workers' logs,
and everyone else keeps chatting (issue 15).
"""

from __future__ import annotations

import json
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.reliability.figures import report
from tests.support.abuse import worker_process
from tests.support.client import ChatClient
from tests.support.processes import wait_until
from tests.support.stack import Cluster

pytestmark = pytest.mark.integration

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"
# Below nginx's 64 KB body limit, so bodies between the two reach the worker's own check.
WORKER_MAX_BYTES = 16 * 1024
NGINX_MAX_BYTES = 64 * 1024
# A request not answered within this is "unanswered" (the library's hang was 45 s).
ANSWER_WITHIN = 5.0
BURST_ROUNDS = 12
BURST_THREADS = 8


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    stack = Cluster(
        tmp_path_factory.mktemp("polling-hostile"),
        workers=2,
        env={"MAX_PACKET_BYTES": str(WORKER_MAX_BYTES)},
    ).start()
    yield stack
    stack.stop()


def open_session(cluster: Cluster) -> str:
    """A polling session that has joined the Socket.IO namespace; returns its sid."""
    opening = requests.get(f"{cluster.url}{HANDSHAKE}", timeout=ANSWER_WITHIN)
    assert opening.status_code == 200, opening.text
    sid = str(json.loads(opening.text[1:])["sid"])
    connect = requests.post(f"{cluster.url}{HANDSHAKE}&sid={sid}", data="40", timeout=ANSWER_WITHIN)
    assert connect.status_code == 200, connect.text
    return sid


@dataclass(frozen=True)
class Hostile:
    """One malformed polling POST on a live session, and the status it must get."""

    name: str
    body: bytes
    status: int
    content_type: str = "text/plain;charset=UTF-8"


POSTS = [
    Hostile("packet type p", b"pxxxxx", 400),
    Hostile("packet type 9", b"9hello", 400),
    Hostile("client sends OPEN", b"0", 400),
    Hostile("client sends PING", b"2", 400),
    Hostile("client sends NOOP", b"6", 400),
    Hostile("v3 length prefix", b'12:42["x"]', 400),
    Hostile("bad base64", b"b!!!!", 400),
    Hostile("bad base64 padding", b"bAAA", 400),
    Hostile("empty packets", b"\x1e\x1e", 400),
    Hostile("not UTF-8", b"\xff\xfe42[]", 400),
    Hostile("too many packets", b"\x1e".join([b"3"] * 17), 400),
    Hostile("JSONP body", b"d=4x", 400),
    Hostile("JSON content type", b"40", 415, "application/json"),
    Hostile("multipart content type", b"40", 415, "multipart/form-data; boundary=x"),
    Hostile("HTML content type", b"40", 415, "text/html"),
    Hostile("over the worker's limit", b"4" + b"x" * (WORKER_MAX_BYTES + 100), 413),
    Hostile("over nginx's limit", b"4" + b"x" * (100 * 1024), 413),
]


def reaches_the_worker(case: Hostile) -> bool:
    """nginx answers bodies over its own limit (64 KB) itself: the worker never sees them,
    and the client's next request or the ping timeout ends that session."""
    return len(case.body) <= NGINX_MAX_BYTES


def post(cluster: Cluster, sid: str, case: Hostile) -> requests.Response:
    return requests.post(
        f"{cluster.url}{HANDSHAKE}&sid={sid}",
        data=case.body,
        headers={"Content-Type": case.content_type},
        timeout=ANSWER_WITHIN,
    )


def session_is_closed(cluster: Cluster, sid: str) -> bool:
    """A GET of the session answers at once with 400 (gone) or its CLOSE packet."""
    poll = requests.get(f"{cluster.url}{HANDSHAKE}&sid={sid}", timeout=ANSWER_WITHIN)
    return poll.status_code == 400 or poll.text.split("\x1e")[-1] == "1"


def worker_log_lines(cluster: Cluster, since: list[int] | None = None) -> list[str]:
    """Each worker's log lines (after line since[i] of worker i), workers one after another."""
    lines: list[str] = []
    for index, worker in enumerate(cluster.workers):
        own = worker.log_path.read_text(errors="replace").splitlines()
        lines += own[since[index] :] if since else own
    return lines


def log_lengths(cluster: Cluster) -> list[int]:
    return [len(w.log_path.read_text(errors="replace").splitlines()) for w in cluster.workers]


@pytest.mark.parametrize("case", POSTS, ids=[case.name for case in POSTS])
def test_a_malformed_polling_post_gets_a_quick_4xx_and_closes_its_session(
    cluster: Cluster, case: Hostile
):
    sid = open_session(cluster)
    started = time.monotonic()
    response = post(cluster, sid, case)
    assert time.monotonic() - started < ANSWER_WITHIN
    assert response.status_code == case.status, response.text
    assert "error" in response.json()
    if reaches_the_worker(case):
        assert session_is_closed(cluster, sid)


@pytest.mark.parametrize(
    ("method", "query", "body"),
    [
        ("GET", "&sid=w1.AAAAAAAAAAAAAAAAAAAA", None),
        ("POST", "&sid=w2.AAAAAAAAAAAAAAAAAAAA", b"3"),
        ("GET", "&sid=not-a-session", None),
        ("GET", "&j=0", None),
        ("GET", "&j=abc", None),
        ("POST", "&sid=w1.AAAAAAAAAAAAAAAAAAAA&j=0", b"d=3"),
        ("GET", "&EIO=3", None),
        ("PUT", "", b"3"),
    ],
)
def test_requests_of_no_live_session_get_a_quick_4xx(
    cluster: Cluster, method: str, query: str, body: bytes | None
):
    started = time.monotonic()
    response = requests.request(
        method, f"{cluster.url}{HANDSHAKE}{query}", data=body, timeout=ANSWER_WITHIN
    )
    assert time.monotonic() - started < ANSWER_WITHIN
    assert 400 <= response.status_code < 500, response.text


def test_a_closed_session_answers_4xx_to_get_and_post(cluster: Cluster):
    sid = open_session(cluster)
    # The client closes its own session (Engine.IO CLOSE), then comes back with the sid.
    url = f"{cluster.url}{HANDSHAKE}&sid={sid}"
    assert requests.post(url, data="1", timeout=ANSWER_WITHIN).status_code == 200
    for method in ("GET", "POST", "GET"):
        response = requests.request(method, url, data=b"3", timeout=ANSWER_WITHIN)
        assert response.status_code in (400, 200), response.text
        if response.status_code == 200:
            assert response.text.split("\x1e")[-1] in ("1", "6", "OK"), response.text
    assert requests.get(url, timeout=ANSWER_WITHIN).status_code == 400


def test_a_bad_content_length_is_refused_by_nginx(cluster: Cluster):
    sid = open_session(cluster)
    port = int(cluster.url.rsplit(":", 1)[1])
    request = (
        f"POST {HANDSHAKE}&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: text/plain\r\nContent-Length: abc\r\nConnection: close\r\n\r\n3"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN) as raw:
        raw.sendall(request)
        status_line = raw.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.split()[1] == b"400", status_line


def test_a_concurrent_burst_is_answered_in_full_and_everyone_keeps_chatting(
    cluster: Cluster, room_name: str
):
    pids = [worker_process(w).pid for w in cluster.workers]
    logged_before = log_lengths(cluster)
    bystander = ChatClient(cluster.url, transports=["polling"]).connect()
    outcomes: Counter[str] = Counter()

    def one(case: Hostile) -> str:
        try:
            sid = open_session(cluster)
            status = post(cluster, sid, case).status_code
        except requests.RequestException as exc:
            return f"unanswered: {type(exc).__name__}"
        return str(status)

    jobs: list[Callable[[], str]] = [
        (lambda case=case: one(case)) for _ in range(BURST_ROUNDS) for case in POSTS
    ]
    try:
        assert bystander.join("bystander", room_name)["ok"]
        started = time.monotonic()
        with ThreadPoolExecutor(BURST_THREADS) as pool:
            for outcome in pool.map(lambda job: job(), jobs):
                outcomes[outcome] += 1
        took = time.monotonic() - started
        # The bystander's polling session went on through the burst.
        ack = bystander.send("still here")
        assert ack["ok"], ack
    finally:
        bystander.close()
    # One line per refusal the workers made (nginx answered the largest bodies itself).
    worker_refusals = BURST_ROUNDS * sum(1 for c in POSTS if reaches_the_worker(c))

    def refusal_lines() -> list[str]:
        lines = worker_log_lines(cluster, logged_before)
        return [line for line in lines if "polling request refused" in line]

    wait_until(lambda: len(refusal_lines()) >= worker_refusals, 10, "the refusals logged")
    new_lines = worker_log_lines(cluster, logged_before)
    refusals = refusal_lines()
    figures: dict[str, Any] = {
        "requests": len(jobs),
        "by_status": dict(outcomes),
        "seconds": round(took, 2),
        "worker_log_lines": len(new_lines),
        "refusal_lines": len(refusals),
    }
    report("polling-hostile-burst", figures)
    assert not [o for o in outcomes if o.startswith("unanswered")], outcomes
    assert not [o for o in outcomes if int(o) >= 500], outcomes
    assert sum(outcomes.values()) == len(jobs)
    assert [worker_process(w).pid for w in cluster.workers] == pids, "a worker crashed"
    assert not [line for line in new_lines if "Traceback" in line or "handler error" in line]
    assert outcomes == Counter(str(c.status) for _ in range(BURST_ROUNDS) for c in POSTS)
    assert len(refusals) == worker_refusals
    # nginx marked no worker down: both still open new sessions.
    routes = {open_session(cluster).split(".", 1)[0] for _ in range(6)}
    assert routes == set(cluster.routes.values())
