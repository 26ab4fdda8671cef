"""Fifty XSS payloads at the server: usernames and room ids that break the rules are
refused with the clear error, messages are stored exactly as sent (rendering is the
clients' job: tests/e2e/test_xss*.py), and the server's own HTML echoes every payload
escaped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable

import pytest
import requests
from markupsafe import escape

from talkrooms.protocol import ROOM_ERROR, USERNAME_ERROR, ProtocolError, validate_username
from tests.reliability.figures import report
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker
from tests.support.stack import NginxServer
from tests.support.xss import PAYLOADS

pytestmark = pytest.mark.integration


def passes_username_rules(text: str) -> bool:
    try:
        validate_username(text)
    except ProtocolError:
        return False
    return True


def test_payloads_as_usernames_and_room_ids_are_refused_with_the_clear_error(
    connect: Callable[..., ChatClient], room_name: str
) -> None:
    client = connect()
    outcomes: Counter[str] = Counter()
    for index, payload in enumerate(PAYLOADS):
        as_name = client.join(payload, f"{room_name}-{index}")
        if passes_username_rules(payload):
            assert as_name["ok"] is True, (payload, as_name)
            assert as_name["username"] == unicodedata.normalize("NFC", payload.strip())
            outcomes["username accepted"] += 1
        else:
            assert as_name == {"ok": False, "code": "invalid", "error": USERNAME_ERROR}, payload
            outcomes["username refused"] += 1
        as_room = client.join("xss-tester", payload)
        assert as_room == {"ok": False, "code": "invalid", "error": ROOM_ERROR}, payload
        outcomes["room refused"] += 1
    report("xss-server-names", dict(outcomes))
    assert outcomes["username refused"] >= 45
    assert outcomes["room refused"] == len(PAYLOADS)


def test_payloads_as_messages_are_stored_exactly_as_sent(
    connect: Callable[..., ChatClient], room_name: str
) -> None:
    sender, reader = connect(), connect()
    assert sender.join("mallory", room_name)["ok"]
    assert reader.join("reader", room_name)["ok"]
    for payload in PAYLOADS:
        ack = sender.send(payload)
        assert ack["ok"] is True and ack["message"]["message"] == payload.strip(), payload
    got = reader.wait_count("new_message", len(PAYLOADS), timeout=10)
    assert [m["message"] for m in got] == [p.strip() for p in PAYLOADS]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_the_login_page_echoes_payloads_escaped(chat_worker: ChatWorker, payload: str) -> None:
    """POST /join and GET /chat render refused values back into the form: escaped."""
    posted = requests.post(
        f"{chat_worker.url}/join",
        data={"username": payload, "room": payload},
        allow_redirects=False,
        timeout=5,
    )
    linked = requests.get(
        f"{chat_worker.url}/chat", params={"username": payload, "room": "general"}, timeout=5
    )
    for response in (posted, linked):
        assert response.status_code in (200, 400), response.status_code
        body = response.text
        if any(c in payload for c in "<>\"'&"):
            assert payload not in body
        if response.status_code == 400:
            assert str(escape(payload)) in body  # the typed value, shown back as text
    assert posted.status_code == 400  # no payload is a valid room id
    assert linked.status_code == (200 if passes_username_rules(payload) else 400)


# -- the Content-Security-Policy on every response ----------------------------------------

RESPONSES = (
    ("GET", "/", 200),
    ("GET", "/?username=%3Cscript%3E&room=x", 200),
    ("GET", "/chat?username=alice&room=general", 200),
    ("GET", "/chat?username=%3Cscript%3E&room=general", 400),
    ("POST", "/join", 400),
    ("GET", "/join", 303),
    ("GET", "/no-such-page", 404),
    ("PUT", "/", 405),
    ("GET", "/api/health", 200),
    ("GET", "/api/rooms", 200),
    ("GET", "/api/rooms?limit=nope", 400),
    ("GET", "/api/no-such-route", 404),
    ("POST", "/api/rooms", 405),
)


def csp_directives(policy: str) -> dict[str, str]:
    return dict([*d.strip().split(" ", 1), ""][:2] for d in policy.split(";") if d.strip())


@pytest.fixture(scope="module")
def through_nginx(work_dir, chat_worker: ChatWorker):
    nginx = NginxServer(work_dir, [chat_worker.port]).start()
    yield nginx
    nginx.stop()


def test_every_page_error_page_and_api_response_carries_the_strict_policy(
    chat_worker: ChatWorker, through_nginx: NginxServer
) -> None:
    checked = 0
    for base in (chat_worker.url, through_nginx.url):
        for method, path, status in RESPONSES:
            response = requests.request(method, f"{base}{path}", allow_redirects=False, timeout=5)
            assert response.status_code == status, (base, method, path, response.status_code)
            policy = response.headers.get("Content-Security-Policy", "")
            directives = csp_directives(policy)
            assert directives.get("script-src") == "'self'", (path, policy)
            assert directives.get("object-src") == "'none'", (path, policy)
            assert directives.get("base-uri") == "'none'", (path, policy)
            assert directives.get("frame-ancestors") == "'none'", (path, policy)
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (path, policy)
            assert response.headers.get("X-Content-Type-Options") == "nosniff", path
            # One policy per response: a second header would be enforced too.
            assert response.raw.headers.getlist("Content-Security-Policy") == [policy], path
            if "text/html" in response.headers.get("Content-Type", ""):
                scripts = re.findall(r"<script\b[^>]*>", response.text)
                assert all(" src=" in tag for tag in scripts), (path, scripts)
                assert not re.search(r"\son[a-z]+\s*=", response.text), path
            checked += 1
    report("xss-csp-headers", {"responses_checked": checked})
