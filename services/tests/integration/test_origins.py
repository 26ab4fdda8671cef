"""Which pages may open a socket: the same origin, plus the ones in ALLOWED_ORIGINS.

A Socket.IO handshake carrying a foreign `Origin` (a page on another site trying to use
the visitor's browser) is refused on both transports, directly and through nginx; the
browser's own origin through nginx on a non-default port is accepted because nginx
forwards Host with its port. With ALLOWED_ORIGINS the listed origins are accepted too,
for the socket (on top of the same origin) and for the CORS headers of /api/*.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import websocket

from tests.reliability.figures import report
from tests.support.abuse import ws_connect
from tests.support.processes import ChatWorker, RedisServer
from tests.support.stack import Cluster

pytestmark = pytest.mark.integration

POLLING = "/socket.io/?EIO=4&transport=polling"
FOREIGN = "http://evil.example"
APP = "http://app.example:8081"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    stack = Cluster(tmp_path_factory.mktemp("origins"), workers=2).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def listed_worker(work_dir: Path, redis_server: RedisServer) -> Iterator[ChatWorker]:
    """A worker with ALLOWED_ORIGINS: the app's web build on another origin."""
    worker = ChatWorker(work_dir, redis_server.url, env={"ALLOWED_ORIGINS": APP}).start()
    yield worker
    worker.stop()


def polling_status(base_url: str, origin: str | None, host: str | None = None) -> int:
    headers = {}
    if origin:
        headers["Origin"] = origin
    if host:
        headers["Host"] = host
    return requests.get(f"{base_url}{POLLING}", headers=headers, timeout=5).status_code


def websocket_outcome(base_url: str, origin: str | None) -> str:
    """ "open" when Engine.IO opened a session over the WebSocket, "refused" otherwise.

    gevent-websocket completes the upgrade (101) before Engine.IO sees the request, so a
    refused origin shows as a WebSocket closed before any packet, not as an HTTP 400.
    """
    try:
        ws = ws_connect(base_url, origin=origin)
    except websocket.WebSocketBadStatusException as refused:
        return f"refused {refused.status_code}"
    try:
        first = ws.recv()
    except websocket.WebSocketConnectionClosedException:
        first = ""
    finally:
        ws.close()
    return "open" if first.startswith("0{") else "refused"


def statuses(base_url: str, origin: str | None) -> tuple[int, str]:
    return polling_status(base_url, origin), websocket_outcome(base_url, origin)


def test_a_foreign_origin_is_refused_on_both_transports_directly_and_through_nginx(
    cluster: Cluster, chat_worker: ChatWorker
) -> None:
    seen = {}
    for name, url in (("worker", chat_worker.url), ("nginx", cluster.url)):
        seen[name] = {
            "foreign": statuses(url, FOREIGN),
            "null": statuses(url, "null"),  # sandboxed iframes, file:// pages
            "same": statuses(url, url),
            "none": statuses(url, None),  # native apps and scripts send no Origin
        }
        assert seen[name]["foreign"] == (400, "refused"), seen
        assert seen[name]["null"] == (400, "refused"), seen
        assert seen[name]["same"] == (200, "open"), seen
        assert seen[name]["none"] == (200, "open"), seen
    report("origins-default", seen)


def test_the_browsers_own_origin_through_nginx_on_its_port_is_accepted(cluster: Cluster) -> None:
    """nginx listens on a port that is not 80: Host must reach the worker with the port,
    or Engine.IO would compare `http://127.0.0.1:PORT` with `127.0.0.1` and refuse."""
    port = cluster.nginx.port
    assert port != 80
    assert statuses(cluster.url, f"http://127.0.0.1:{port}") == (200, "open")
    # The name the browser used, with the port (make run prints http://localhost:5000).
    assert polling_status(cluster.url, f"http://localhost:{port}", f"localhost:{port}") == 200
    # Same host, another port; another host on the same port: other origins.
    assert polling_status(cluster.url, f"http://127.0.0.1:{port + 1}") == 400
    assert polling_status(cluster.url, f"http://localhost:{port}") == 400
    assert polling_status(cluster.url, f"https://127.0.0.1:{port}") == 400


def test_allowed_origins_are_accepted_and_others_still_refused(listed_worker: ChatWorker) -> None:
    url = listed_worker.url
    assert statuses(url, APP) == (200, "open")
    assert statuses(url, FOREIGN) == (400, "refused")
    assert statuses(url, "http://app.example") == (400, "refused")  # the port is part of it
    # The list adds to the same-origin check: the web UI served by the same host goes on.
    assert statuses(url, url) == (200, "open")
    handshake = requests.get(f"{url}{POLLING}", headers={"Origin": APP}, timeout=5)
    assert handshake.headers["Access-Control-Allow-Origin"] == APP


def test_api_cors_headers_only_for_allowed_origins(
    listed_worker: ChatWorker, chat_worker: ChatWorker
) -> None:
    def allow_origin(base: str, origin: str) -> str | None:
        response = requests.get(f"{base}/api/rooms", headers={"Origin": origin}, timeout=5)
        assert response.status_code == 200
        return response.headers.get("Access-Control-Allow-Origin")

    assert allow_origin(listed_worker.url, APP) == APP
    assert allow_origin(listed_worker.url, FOREIGN) is None
    assert allow_origin(chat_worker.url, APP) is None  # default: same origin only
    assert allow_origin(chat_worker.url, FOREIGN) is None
    listed = requests.get(f"{listed_worker.url}/api/rooms", headers={"Origin": APP}, timeout=5)
    assert "Origin" in listed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in listed.headers
    # Pages never get CORS headers, whatever the origin.
    page = requests.get(f"{listed_worker.url}/", headers={"Origin": APP}, timeout=5)
    assert "Access-Control-Allow-Origin" not in page.headers


def test_bearer_calls_from_an_allowed_origin_pass_the_preflight(
    listed_worker: ChatWorker, chat_worker: ChatWorker
) -> None:
    """The app's web build calls /api/v1 with `Authorization` and a JSON body: the browser
    asks first (OPTIONS) and goes on only if the answer names that header and method."""

    def preflight(base: str, origin: str, method: str) -> requests.Response:
        return requests.options(
            f"{base}/api/v1/profile",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type",
            },
            timeout=5,
        )

    answer = preflight(listed_worker.url, APP, "PATCH")
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == APP
    assert "PATCH" in answer.headers["Access-Control-Allow-Methods"]
    allowed_headers = answer.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "Access-Control-Allow-Credentials" not in answer.headers
    for base, origin in ((listed_worker.url, FOREIGN), (chat_worker.url, APP)):
        refused = preflight(base, origin, "PATCH")
        assert "Access-Control-Allow-Origin" not in refused.headers
        assert "Access-Control-Allow-Headers" not in refused.headers
