"""Private conversations and blocks on two workers sharing Redis and the database (SQLite
and PostgreSQL): opening one, talking in it like in a room, the authorization matrix
(a third account and a guest try every event and read on both workers: all refused,
nothing leaked), blocks in both directions, and the web UI's refresh cookie."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests

from tests.conftest import DATABASES
from tests.support.accounts import PASSWORD, assert_error, migrated_workers
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer, stop_all

pytestmark = pytest.mark.integration

SECRET_TEXT = "the password of the wifi is swordfish"


class Person:
    """A registered account: its name and a fresh access token."""

    def __init__(self, username: str, tokens: dict[str, Any]) -> None:
        self.username = username
        self.token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Stack:
    def __init__(self, workers: list[ChatWorker], redis_url: str) -> None:
        self.workers = workers
        self.prefix = workers[0].extra_env["KEY_PREFIX"]
        self.redis_url = redis_url

    def api(self, worker: int = 0) -> str:
        return f"{self.workers[worker].url}/api/v1"

    def person(self, stem: str) -> Person:
        username = f"{stem}{uuid.uuid4().hex[:6]}"
        response = requests.post(
            f"{self.api()}/auth/register",
            json={"username": username, "password": PASSWORD},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return Person(username, response.json())

    def open(self, who: Person, username: str, worker: int = 0) -> requests.Response:
        return requests.post(
            f"{self.api(worker)}/conversations",
            json={"username": username},
            headers=who.bearer,
            timeout=10,
        )

    def conversation(self, first: Person, second: Person) -> str:
        response = self.open(first, second.username)
        assert response.status_code == 201, response.text
        return str(response.json()["room"])

    def connect(self, who: Person | None, worker: int) -> ChatClient:
        auth: dict[str, Any] = {"protocol": 2}
        if who is not None:
            auth["token"] = who.token
        return ChatClient(self.workers[worker].url, auth=auth).connect()


@pytest.fixture(scope="module", params=DATABASES)
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp(f"conversations-{request.param}")
    no_limits = {"AUTH_ADDRESS_RATE_LIMIT": "0", "AUTH_ACCOUNT_RATE_LIMIT": "0"}
    workers = migrated_workers(request, folder, redis_server.url, no_limits, count=2)
    yield Stack(workers, redis_server.url)
    stop_all(workers)


def join(client: ChatClient, room: str) -> dict[str, Any]:
    ack = client.call("join_room", {"room": room, "username": "ignored"})
    assert ack["ok"], ack
    return dict(ack)


def test_a_conversation_opens_for_both_and_carries_a_room_s_features(
    stack: Stack, clients: list[ChatClient]
):
    alice, bob = stack.person("Alice"), stack.person("Bob")
    bob_phone, bob_laptop = stack.connect(bob, 0), stack.connect(bob, 1)
    clients += [bob_phone, bob_laptop]

    opened = stack.open(alice, bob.username, worker=1)
    assert opened.status_code == 201, opened.text
    room = opened.json()["room"]
    assert room.startswith("dm:") and opened.json()["with"]["username"] == bob.username
    assert opened.json()["can_write"] is True
    # Bob's connections on both workers hear of it, as Bob sees it.
    for device in (bob_phone, bob_laptop):
        heard = device.wait_for("conversation", lambda c: c["room"] == room)
        assert heard["with"]["username"] == alice.username
    # Opening it again, from either side, answers the same conversation.
    again = stack.open(bob, alice.username)
    assert again.status_code == 200 and again.json()["room"] == room
    for who, other in ((alice, bob), (bob, alice)):
        listed = requests.get(f"{stack.api(1)}/conversations", headers=who.bearer, timeout=10)
        assert [c["room"] for c in listed.json()["conversations"]] == [room]
        assert listed.json()["conversations"][0]["with"]["username"] == other.username
        assert listed.headers["Cache-Control"] == "no-store"

    # They talk across workers: messages, an edit, a reaction, typing, unread counts.
    alice_client = stack.connect(alice, 0)
    clients.append(alice_client)
    join(alice_client, room)
    sent = alice_client.send(SECRET_TEXT, room=room)["message"]
    joined = join(bob_laptop, room)
    assert joined["username"] == bob.username
    state = bob_laptop.wait_for("room_joined", lambda d: d["room"] == room)
    assert [m["message"] for m in state["messages"]] == [SECRET_TEXT]
    assert state["unread"] == 1
    mark = alice_client.mark()
    bob_laptop.emit("typing", {"room": room, "is_typing": True})
    alice_client.wait_for("user_typing", lambda d: d["room"] == room, after=mark)
    reply = bob_laptop.send("got it", room=room, reply_to=sent["id"])
    assert reply["ok"], reply
    alice_client.wait_for("new_message", lambda m: m["message"] == "got it", after=mark)
    reacted = alice_client.call(
        "react", {"room": room, "id": reply["message"]["id"], "emoji": "👍"}
    )
    assert reacted["ok"], reacted
    bob_laptop.wait_for("room_event", lambda e: e["type"] == "reaction")
    history = bob_phone.call("get_history", {"room": room})
    assert [m["message"] for m in history["messages"]] == [SECRET_TEXT, "got it"]

    # Never in the public list of rooms.
    public = requests.get(f"{stack.workers[0].url}/api/rooms", timeout=10).json()
    assert room not in [r["room"] for r in public["rooms"]]


def test_no_one_else_can_join_read_or_touch_a_conversation_on_any_worker(
    stack: Stack, clients: list[ChatClient]
):
    alice, bob, mallory = stack.person("Alice"), stack.person("Bob"), stack.person("Mallory")
    room = stack.conversation(alice, bob)
    made_up = "dm:" + "a" * 20
    alice_client, bob_client = stack.connect(alice, 0), stack.connect(bob, 1)
    clients += [alice_client, bob_client]
    join(alice_client, room)
    join(bob_client, room)
    message = alice_client.send(SECRET_TEXT, room=room)["message"]

    for worker in (0, 1):
        intruder, guest = stack.connect(mallory, worker), stack.connect(None, worker)
        clients += [intruder, guest]
        for target in (room, made_up):
            # Joining and reading history: the same answer for a real and a made-up id.
            for event, payload in (
                ("join_room", {"room": target, "username": "x"}),
                ("get_history", {"room": target}),
                ("get_history", {"room": target, "since_id": "0"}),
            ):
                refusal = intruder.call(event, payload)
                assert refusal == {
                    "ok": False,
                    "error": "No such conversation",
                    "code": "not_found",
                }, (event, refusal)
                refusal = guest.call(event, {**payload, "client_key": "k" * 20})
                assert refusal["ok"] is False and refusal["code"] == "account_required"
                assert "account" in refusal["error"]
        # Every event that acts in a room needs the room joined first.
        for client in (intruder, guest):
            for event, payload in (
                ("send_message", {"room": room, "message": "hi"}),
                ("edit_message", {"room": room, "id": message["id"], "message": "x"}),
                ("delete_message", {"room": room, "id": message["id"]}),
                ("react", {"room": room, "id": message["id"], "emoji": "👍"}),
                ("mark_read", {"room": room, "id": message["id"]}),
                ("leave_room", {"room": room}),
            ):
                refusal = client.call(event, payload)
                assert refusal["ok"] is False and refusal["code"] == "not_in_room", (event, refusal)
            client.emit("typing", {"room": room, "is_typing": True})
        # Over HTTP: the conversation is not theirs, and not listed.
        for target in (room, made_up):
            response = requests.get(
                f"{stack.api(worker)}/conversations/{target}", headers=mallory.bearer, timeout=10
            )
            assert_error(response, 404, "not_found")
        listed = requests.get(
            f"{stack.api(worker)}/conversations", headers=mallory.bearer, timeout=10
        )
        assert listed.json() == {"conversations": []}
        assert_error(
            requests.get(f"{stack.api(worker)}/conversations", timeout=10), 401, "unauthenticated"
        )

    # The members carry on; the outsiders never receive a trace of it.
    mark = bob_client.mark()
    alice_client.send("still private", room=room)
    bob_client.wait_for("new_message", lambda m: m["message"] == "still private", after=mark)
    bob_client.assert_no("user_typing", after=mark)
    for outsider in clients[2:]:
        for name, data in outsider.events:
            text = json.dumps(data, ensure_ascii=False)
            assert room not in text and SECRET_TEXT not in text, (name, data)
    # Nothing changed for the members.
    history = alice_client.call("get_history", {"room": room})
    assert [m["message"] for m in history["messages"]] == [SECRET_TEXT, "still private"]


def test_a_block_stops_messages_both_ways_until_it_is_lifted(
    stack: Stack, clients: list[ChatClient]
):
    alice, bob = stack.person("Alice"), stack.person("Bob")
    room = stack.conversation(alice, bob)
    alice_client, bob_client = stack.connect(alice, 0), stack.connect(bob, 1)
    clients += [alice_client, bob_client]
    join(alice_client, room)
    join(bob_client, room)
    assert alice_client.send("before", room=room)["ok"]

    mark = alice_client.mark()
    blocked = requests.put(
        f"{stack.api(1)}/blocks/{alice.username}", headers=bob.bearer, timeout=10
    )
    assert blocked.status_code == 200 and blocked.json() == {"ok": True}
    # Both hear that the conversation is closed for writing.
    heard = alice_client.wait_for("conversation", lambda c: c["room"] == room, after=mark)
    assert heard["can_write"] is False and heard["blocked"] is False
    listed = requests.get(f"{stack.api()}/conversations", headers=bob.bearer, timeout=10)
    assert listed.json()["conversations"][0]["blocked"] is True
    blocks = requests.get(f"{stack.api()}/blocks", headers=bob.bearer, timeout=10).json()
    assert [b["username"] for b in blocks["blocked"]] == [alice.username]

    refused = alice_client.send("after", room=room)
    assert refused["ok"] is False and refused["code"] == "blocked", refused
    assert "does not accept" in refused["error"]
    refused = bob_client.send("mine", room=room)
    assert refused["ok"] is False and refused["code"] == "blocked"
    assert "unblock" in refused["error"]

    # Redis losing the refusal changes nothing: the next join writes it again.
    client = redis.Redis.from_url(stack.redis_url)
    client.delete(f"{stack.prefix}:room:{{{room}}}:silenced")
    join(alice_client, room)
    assert alice_client.send("after a Redis loss", room=room)["code"] == "blocked"

    unblocked = requests.delete(
        f"{stack.api()}/blocks/{alice.username}", headers=bob.bearer, timeout=10
    )
    assert unblocked.status_code == 200
    assert alice_client.send("after the unblock", room=room)["ok"]
    history = bob_client.call("get_history", {"room": room})
    assert [m["message"] for m in history["messages"]] == ["before", "after the unblock"]


def test_someone_who_blocked_you_cannot_be_messaged_anew(stack: Stack):
    alice, dora = stack.person("Alice"), stack.person("Dora")
    assert requests.put(
        f"{stack.api()}/blocks/{alice.username}", headers=dora.bearer, timeout=10
    ).ok
    assert_error(stack.open(alice, dora.username, worker=1), 403, "blocked")
    assert_error(stack.open(alice, alice.username), 400, "invalid_request")
    assert_error(stack.open(alice, "nobody-by-this-name"), 404, "not_found")
    assert_error(
        requests.put(f"{stack.api()}/blocks/nobody-at-all", headers=alice.bearer, timeout=10),
        404,
        "not_found",
    )
    # Dora, who blocked, may still open it (and sees it closed until she unblocks).
    opened = stack.open(dora, alice.username)
    assert opened.status_code == 201 and opened.json()["can_write"] is False


def test_guests_are_told_private_messages_need_an_account(stack: Stack, clients: list[ChatClient]):
    guest = ChatClient(stack.workers[0].url).connect()  # protocol 1, too
    clients.append(guest)
    refusal = guest.call("join_room", {"room": "dm:" + "b" * 20, "username": "Gus"})
    assert refusal["code"] == "account_required"
    assert refusal["error"] == "Private messages need an account: sign up or log in"


def test_the_web_ui_s_refresh_token_lives_in_an_http_only_cookie(stack: Stack):
    person = stack.person("Cookie")
    browser = requests.Session()
    login = browser.post(
        f"{stack.api()}/auth/login",
        json={"username": person.username, "password": PASSWORD, "cookie": True},
        timeout=10,
    )
    assert login.status_code == 200 and login.json()["refresh_token"] is None
    cookie = login.headers["Set-Cookie"]
    assert "tr_refresh=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/api/v1/auth" in cookie
    first = browser.cookies["tr_refresh"]

    # A reload: the cookie alone brings the session back, rotated, on either worker.
    refreshed = browser.post(f"{stack.api(1)}/auth/refresh", json={}, timeout=10)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["account"]["username"] == person.username
    assert refreshed.json()["refresh_token"] is None
    assert browser.cookies["tr_refresh"] != first
    # The rotated-away cookie presented again ends the family, and is dropped.
    stolen = requests.post(
        f"{stack.api()}/auth/refresh", json={}, cookies={"tr_refresh": first}, timeout=10
    )
    assert_error(stolen, 401, "refresh_token_reused")
    assert "tr_refresh=;" in stolen.headers["Set-Cookie"]
    assert_error(
        browser.post(f"{stack.api()}/auth/refresh", json={}, timeout=10),
        401,
        "refresh_token_reused",
    )

    # Log in again, log out: the cookie is cleared and no longer refreshes.
    browser.post(
        f"{stack.api()}/auth/login",
        json={"username": person.username, "password": PASSWORD, "cookie": True},
        timeout=10,
    )
    kept = browser.cookies["tr_refresh"]
    logout = browser.post(f"{stack.api()}/auth/logout", json={}, timeout=10)
    assert logout.status_code == 200 and "tr_refresh" not in browser.cookies
    assert_error(
        requests.post(
            f"{stack.api()}/auth/refresh", json={}, cookies={"tr_refresh": kept}, timeout=10
        ),
        401,
        "refresh_token_reused",
    )
    assert_error(
        requests.post(f"{stack.api()}/auth/refresh", json={}, timeout=10),
        401,
        "invalid_refresh_token",
    )
