"""Through a real nginx in front of real workers: every kind of response on the public
port carries the pages' security headers exactly once, and the errors nginx answers by
itself are TalkRooms' own short pages (JSON under /api/ and /socket.io/, plain HTML
elsewhere) with their status kept, while the workers' own errors pass through untouched.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from talkrooms.ops import stack
from talkrooms.web.pages import SECURITY_HEADERS
from tests.support.processes import ChatWorker, RedisServer
from tests.support.stack import NginxServer

pytestmark = pytest.mark.integration

POLLING = "/socket.io/?EIO=4&transport=polling"
OVERSIZE = b"x" * (128 * 1024)  # twice nginx's client_max_body_size (64 KB)


@pytest.fixture(scope="module")
def front(work_dir: Path, chat_worker: ChatWorker) -> Iterator[NginxServer]:
    """nginx as make run renders it, in front of the shared test worker."""
    nginx = NginxServer(work_dir, [chat_worker.port]).start()
    yield nginx
    nginx.stop()


@pytest.fixture(scope="module")
def limited(work_dir: Path, chat_worker: ChatWorker) -> Iterator[NginxServer]:
    """nginx with a tiny new-session budget and loopback not exempt: 429s come quickly."""
    overrides = {"new_sessions_per_second": 1, "new_session_burst": 1, "limit_exempt": ()}
    nginx = NginxServer(work_dir, [chat_worker.port], overrides=overrides).start()
    yield nginx
    nginx.stop()


@pytest.fixture
def lone(work_dir: Path, redis_server: RedisServer) -> Iterator[tuple[NginxServer, ChatWorker]]:
    """A worker of this test's own (to freeze or stop) behind an nginx that waits 1 s."""
    worker = ChatWorker(work_dir, redis_server.url).start()
    nginx = NginxServer(work_dir, [worker.port], overrides={"read_timeout": "1s"})
    try:
        nginx.start()
        yield nginx, worker
    finally:
        worker.thaw()  # a stopped process would hold SIGTERM until the SIGKILL fallback
        nginx.stop()
        worker.stop()


def assert_headers_once(response: requests.Response) -> None:
    """Each security header exactly once, with the pages' value (duplicates counted)."""
    for name, value in SECURITY_HEADERS.items():
        got = response.raw.headers.getlist(name)
        assert got == [value], f"{response.status_code} {response.url}: {name} = {got}"


def assert_our_error(response: requests.Response, status: int, kind: str) -> None:
    """nginx's own error: our page of `kind` ("json" or "html") with the status kept."""
    assert response.status_code == status, response.text
    assert_headers_once(response)
    assert "nginx" not in response.text.lower()
    content_type = response.headers["Content-Type"]
    if kind == "json":
        assert content_type == "application/json"
        body = response.json()
        assert list(body) == ["error"] and body["error"], body
    else:
        assert content_type.startswith("text/html")
        text = response.text
        assert text.startswith("<!doctype html>") and f"<h1>{status} " in text
        assert "<script" not in text and "style" not in text


def raw_response(port: int, request: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send raw bytes to nginx: (status, header lines in order, body so far)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = []
        for line in lines:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        length = int(dict((k.lower(), v) for k, v in headers).get("content-length", 0))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(status_line.split()[1]), headers, body


def assert_raw_headers_once(headers: list[tuple[str, str]]) -> None:
    for name, value in SECURITY_HEADERS.items():
        got = [v for k, v in headers if k.lower() == name.lower()]
        assert got == [value], f"{name} = {got}"


def first_refusal(send: Callable[[], requests.Response], attempts: int = 20) -> requests.Response:
    """Send until nginx answers 429 (rate 1/s, burst 1: the third request at the latest)."""
    for _ in range(attempts):
        response = send()
        if response.status_code == 429:
            return response
    raise AssertionError(f"no 429 in {attempts} requests")


# -- answers that succeed, and the workers' own errors --------------------------------------


@pytest.mark.parametrize(
    ("path", "served_by_nginx"),
    [("/", False), ("/api/health", False), ("/static/css/base.css", True)],
)
def test_pages_api_and_static_files_carry_each_header_once(
    front: NginxServer, path: str, served_by_nginx: bool
) -> None:
    response = requests.get(f"{front.url}{path}", timeout=5)
    assert response.status_code == 200
    assert_headers_once(response)
    if served_by_nginx:
        assert response.headers["Content-Type"].startswith("text/css")


def test_a_websocket_upgrade_carries_each_header_once(front: NginxServer) -> None:
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{front.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    status, headers, _ = raw_response(front.port, request.encode())
    assert status == 101
    assert_raw_headers_once(headers)


def test_an_unknown_api_path_gets_the_workers_own_404(front: NginxServer) -> None:
    response = requests.get(f"{front.url}/api/no-such-thing", timeout=5)
    assert response.status_code == 404
    assert_headers_once(response)
    # The worker's JSON (with its detail), not nginx's page: no proxy_intercept_errors.
    assert response.json()["error"] == "Not Found" and "detail" in response.json()


def test_engineio_refusing_an_unknown_session_passes_through(front: NginxServer) -> None:
    response = requests.get(f"{front.url}{POLLING}&sid=no-such-session", timeout=5)
    assert response.status_code == 400
    assert_headers_once(response)
    assert "Invalid session" in response.text


# -- errors nginx answers by itself ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind"),
    [
        ("GET", "/static/missing.js", None, 404, "html"),
        ("GET", "/metrics", None, 404, "html"),
        ("GET", "/static/", None, 403, "html"),
        ("POST", "/static/css/base.css", None, 405, "html"),
        ("POST", "/api/rooms", OVERSIZE, 413, "json"),
        ("POST", f"{POLLING}&sid=whatever", OVERSIZE, 413, "json"),
        ("POST", "/join", OVERSIZE, 413, "html"),
        ("POST", "/", OVERSIZE, 413, "html"),
        ("GET", "/" + "a" * 9000, None, 414, "html"),
    ],
)
def test_nginx_errors_are_our_pages_with_the_status_kept(
    front: NginxServer, method: str, path: str, body: bytes | None, status: int, kind: str
) -> None:
    response = requests.request(method, f"{front.url}{path}", data=body, timeout=5)
    assert_our_error(response, status, kind)


def test_a_malformed_request_gets_our_400_page(front: NginxServer) -> None:
    status, headers, body = raw_response(front.port, b"NOT HTTP AT ALL\r\n\r\n")
    assert status == 400
    assert_raw_headers_once(headers)
    assert body.startswith(b"<!doctype html>") and b"nginx" not in body.lower()


def test_the_per_address_limit_answers_429_with_our_pages(limited: NginxServer) -> None:
    handshake = first_refusal(lambda: requests.get(f"{limited.url}{POLLING}", timeout=5))
    assert_our_error(handshake, 429, "json")
    form = {"username": "ada", "room": "general"}
    join = first_refusal(
        lambda: requests.post(f"{limited.url}/join", data=form, allow_redirects=False, timeout=5)
    )
    assert_our_error(join, 429, "html")


def test_every_worker_down_is_our_502(lone: tuple[NginxServer, ChatWorker]) -> None:
    nginx, worker = lone
    worker.stop()
    assert_our_error(requests.get(f"{nginx.url}/", timeout=5), 502, "html")
    assert_our_error(requests.get(f"{nginx.url}/api/health", timeout=5), 502, "json")
    assert_our_error(requests.get(f"{nginx.url}{POLLING}", timeout=5), 502, "json")


def test_a_worker_that_does_not_answer_in_time_is_our_504(
    lone: tuple[NginxServer, ChatWorker],
) -> None:
    nginx, worker = lone
    worker.freeze()
    try:
        assert_our_error(requests.get(f"{nginx.url}/", timeout=10), 504, "html")
        assert_our_error(requests.get(f"{nginx.url}/api/health", timeout=10), 504, "json")
        assert_our_error(requests.get(f"{nginx.url}{POLLING}", timeout=10), 504, "json")
    finally:
        worker.thaw()
    # Thawed, it answers again through the same nginx.
    assert requests.get(f"{nginx.url}/api/health", timeout=10).status_code == 200


def test_every_error_page_in_the_table_is_valid_and_names_no_nginx() -> None:
    """Both kinds of every status nginx answers itself, as the config holds them."""
    renderer = stack.load_nginx_renderer()
    pages = renderer.error_pages()
    assert {page["status"] for page in pages} >= {400, 404, 405, 413, 429, 500, 502, 503, 504}
    for page in pages:
        _title, reason = renderer.ERROR_PAGES[page["status"]]
        assert json.loads(page["json"]) == {"error": reason}
        assert "nginx" not in (page["json"] + page["html"]).lower()
        assert "<script" not in page["html"] and "style" not in page["html"]
        assert f"<h1>{page['status']} " in page["html"] and reason in page["html"]
