"""Accounts on the Socket.IO side, on two workers sharing Redis and the database (SQLite
and PostgreSQL): the handshake's access token, the account's name and person in rooms,
names reserved for accounts, and refused tokens with codes a client can act on."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import redis
import requests
import socketio

from talkrooms.protocol import AVATAR_COLORS, avatar_color, username_identity
from tests.conftest import DATABASES
from tests.support.accounts import PASSWORD, SECRET, migrated_workers
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, RedisServer, stop_all, wait_until

pytestmark = pytest.mark.integration


class Stack:
    def __init__(self, workers: list[ChatWorker], prefix: str, redis_url: str) -> None:
        self.workers = workers
        self.prefix = prefix
        self.redis_url = redis_url

    def register(self, username: str) -> dict[str, Any]:
        response = requests.post(
            f"{self.workers[0].url}/api/v1/auth/register",
            json={"username": username, "password": PASSWORD},
            headers={"X-Real-IP": f"203.0.113.{uuid.uuid4().int % 250 + 1}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture(scope="module", params=DATABASES)
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp(f"accounts-socket-{request.param}")
    no_limits = {"AUTH_ADDRESS_RATE_LIMIT": "0", "AUTH_ACCOUNT_RATE_LIMIT": "0"}
    workers = migrated_workers(request, folder, redis_server.url, no_limits, count=2)
    prefix = workers[0].extra_env["KEY_PREFIX"]
    yield Stack(workers, prefix, redis_server.url)
    stop_all(workers)


def signed_in(url: str, token: str, **kwargs: Any) -> ChatClient:
    return ChatClient(url, auth={"protocol": 2, "token": token}, **kwargs).connect()


def refused_connect(url: str, auth: dict[str, Any]) -> dict[str, Any]:
    """Connect with `auth` expecting a refusal; the connect_error's data."""
    client = socketio.Client(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(url, transports=["websocket"], auth=auth, wait_timeout=10)
    client.disconnect()
    assert errors, "no connect_error"
    return dict(errors[0])


def joined(client: ChatClient, payload: dict[str, Any]) -> dict[str, Any]:
    mark = client.mark()
    ack = client.call("join_room", payload)
    assert ack["ok"], ack
    client.wait_for("room_joined", lambda d: d["room"] == payload["room"], after=mark)
    return dict(ack)


def test_the_account_says_who_joins_on_every_device(stack: Stack, room_name: str):
    name = f"Acct{uuid.uuid4().hex[:6]}"
    tokens = stack.register(name)
    phone = signed_in(stack.workers[0].url, tokens["access_token"])
    laptop = signed_in(stack.workers[1].url, tokens["access_token"])
    try:
        # Whatever name or key the payload carries, the account is who joins...
        assert joined(phone, {"username": "someone else", "room": room_name})["username"] == name
        ack = joined(laptop, {"username": "x", "room": room_name, "client_key": "k" * 20})
        assert ack["username"] == name
        # ...and its two connections, on two workers, with two keys, are one person.
        users = laptop.wait_for("room_users", lambda d: d["room"] == room_name)
        assert [u["username"] for u in users["users"]] == [name]
        # The account edits on one device what it wrote on the other.
        message = phone.send("from the phone", room=room_name)["message"]
        assert message["username"] == name
        edited = laptop.call(
            "edit_message", {"room": room_name, "id": message["id"], "message": "fixed"}
        )
        assert edited["ok"], edited
    finally:
        phone.close()
        laptop.close()


def test_guests_cannot_take_an_account_name_or_a_look_alike(stack: Stack, room_name: str):
    name = f"Reserved{uuid.uuid4().hex[:6]}"
    stack.register(name)
    look_alike = name.upper().replace("E", "Е")  # case folded, Cyrillic Е
    for worker in stack.workers:
        guest = ChatClient(worker.url).connect()
        try:
            for attempt in (name, look_alike):
                ack = guest.join(attempt, room_name)
                assert ack["ok"] is False and ack["code"] == "name_reserved", ack
                assert "log in" in ack["error"]
            assert guest.join(f"guest{uuid.uuid4().hex[:6]}", room_name)["ok"]
        finally:
            guest.close()


def test_names_are_reserved_again_after_redis_lost_them(stack: Stack, room_name: str):
    name = f"Kept{uuid.uuid4().hex[:6]}"
    stack.register(name)
    client = redis.Redis.from_url(stack.redis_url)
    client.delete(f"{stack.prefix}:accounts:names")
    guest = ChatClient(stack.workers[0].url).connect()
    try:
        # Redis forgot: a guest could take the name until a worker mirrors the names again.
        stack.workers[1].stop()
        stack.workers[1].start()
        wait_until(
            lambda: client.sismember(f"{stack.prefix}:accounts:names", username_identity(name)),
            15,
            "the restarted worker to mirror the account names",
        )
        ack = guest.join(name, room_name)
        assert ack["ok"] is False and ack["code"] == "name_reserved"
    finally:
        guest.close()


def test_refused_tokens_say_why(stack: Stack):
    url = stack.workers[0].url
    assert refused_connect(url, {"token": "not-a-jwt"})["data"]["code"] == "invalid_token"
    assert refused_connect(url, {"token": 42})["data"]["code"] == "invalid_token"
    now = int(time.time())
    expired = jwt.encode(
        {"sub": "1", "iat": now - 3600, "exp": now - 60, "jti": "x", "typ": "access"},
        SECRET,
        algorithm="HS256",
    )
    assert refused_connect(url, {"token": expired})["data"]["code"] == "token_expired"
    forged = jwt.encode(
        {"sub": "1", "iat": now, "exp": now + 600, "jti": "x", "typ": "access"},
        "someone-elses-secret-of-32-bytes-long",
        algorithm="HS256",
    )
    assert refused_connect(url, {"token": forged})["data"]["code"] == "invalid_token"


def test_a_token_from_before_a_password_change_is_refused(stack: Stack):
    name = f"Changer{uuid.uuid4().hex[:6]}"
    old = stack.register(name)["access_token"]
    # Whole seconds: the change must fall in a later second than the token's iat.
    wait_until(lambda: int(time.time()) > jwt.decode(old, SECRET, ["HS256"])["iat"], 3, "a tick")
    response = requests.post(
        f"{stack.workers[0].url}/api/v1/auth/password",
        json={"old_password": PASSWORD, "new_password": PASSWORD + " 2"},
        headers={"Authorization": f"Bearer {old}", "X-Real-IP": "203.0.113.77"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert refused_connect(stack.workers[1].url, {"token": old})["data"]["code"] == (
        "invalid_token"
    )
    fresh = signed_in(stack.workers[1].url, response.json()["access_token"])
    fresh.close()


def test_room_users_show_an_accounts_display_name_and_colour(stack: Stack, room_name: str):
    name = f"Prof{uuid.uuid4().hex[:6]}"
    tokens = stack.register(name)
    color = next(c for c in AVATAR_COLORS if c != avatar_color(name))
    changed = requests.patch(
        f"{stack.workers[1].url}/api/v1/profile",
        json={"display_name": "Pat the Profiled", "color": color},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    account = signed_in(stack.workers[0].url, tokens["access_token"])
    guest = ChatClient(stack.workers[1].url, auth={"protocol": 2}).connect()
    try:
        joined(account, {"room": room_name})
        joined(guest, {"username": "Zed the guest", "room": room_name, "client_key": "z" * 20})
        users = guest.wait_for("room_users", lambda d: d["room"] == room_name and d["count"] == 2)[
            "users"
        ]
        assert users == [
            {"username": name, "color": color, "display_name": "Pat the Profiled", "account": True},
            {"username": "Zed the guest", "color": avatar_color("Zed the guest")},
        ]
    finally:
        account.close()
        guest.close()


def test_a_profile_change_reaches_the_rooms_the_account_is_in(stack: Stack, room_name: str):
    """Changed on one worker, shown at once on both: the online lists of every room the
    account is in, its own connections (`profile`), and the rooms it joins afterwards."""
    name = f"Mover{uuid.uuid4().hex[:6]}"
    token = stack.register(name)["access_token"]
    other_room = f"{room_name}-2"
    phone = signed_in(stack.workers[0].url, token)
    laptop = signed_in(stack.workers[1].url, token)
    watcher = ChatClient(stack.workers[1].url, auth={"protocol": 2}).connect()
    try:
        joined(phone, {"room": room_name})
        joined(laptop, {"room": other_room})
        joined(watcher, {"username": "Watcher", "room": room_name, "client_key": "w" * 20})
        color = next(c for c in AVATAR_COLORS if c != avatar_color(name))
        mark = watcher.mark()
        changed = requests.patch(
            f"{stack.workers[1].url}/api/v1/profile",
            json={"display_name": "Newly Named", "color": color},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert changed.status_code == 200, changed.text

        def shows_new_name(payload: dict[str, Any]) -> bool:
            return any(u.get("display_name") == "Newly Named" for u in payload["users"])

        listed = watcher.wait_for(
            "room_users", lambda d: d["room"] == room_name and shows_new_name(d), after=mark
        )
        assert {
            "username": name,
            "display_name": "Newly Named",
            "color": color,
            "account": True,
        } in listed["users"]
        laptop.wait_for("room_users", lambda d: d["room"] == other_room and shows_new_name(d))
        for device in (phone, laptop):
            told = device.wait_for("profile")
            assert told == {"username": name, "display_name": "Newly Named", "color": color}
        # A room joined afterwards, over a connection opened before the change.
        third = f"{room_name}-3"
        joined(phone, {"room": third})
        assert shows_new_name(phone.wait_for("room_users", lambda d: d["room"] == third))
    finally:
        for client in (phone, laptop, watcher):
            client.close()


def test_a_token_expiring_during_a_live_connection(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
    room_name: str,
):
    """Access tokens of 2 s: the open connection goes on past its token's expiry (the token
    is checked at the handshake), a reconnection with it is refused `token_expired`, and
    the refresh token gets a new one that connects as the same person."""
    folder = tmp_path_factory.mktemp("short-tokens")
    workers = migrated_workers(
        request,
        folder,
        redis_server.url,
        {"ACCESS_TOKEN_SECONDS": "2", "AUTH_ADDRESS_RATE_LIMIT": "0"},
        kind="sqlite",
    )
    url = workers[0].url
    live: ChatClient | None = None
    try:
        name = f"Short{uuid.uuid4().hex[:6]}"
        tokens = Stack(workers, "", redis_server.url).register(name)
        live = signed_in(url, tokens["access_token"])
        joined(live, {"room": room_name})
        expires = jwt.decode(tokens["access_token"], SECRET, ["HS256"])["exp"]
        wait_until(lambda: time.time() > expires + 0.5, 5, "the token's expiry")
        assert live.send("still here", room=room_name)["ok"]

        refused = refused_connect(url, {"protocol": 2, "token": tokens["access_token"]})
        assert refused["data"]["code"] == "token_expired"
        fresh = requests.post(
            f"{url}/api/v1/auth/refresh",
            json={"refresh_token": tokens["refresh_token"]},
            timeout=10,
        )
        assert fresh.status_code == 200, fresh.text
        again = signed_in(url, fresh.json()["access_token"])
        try:
            assert joined(again, {"room": room_name})["username"] == name
            users = again.wait_for("room_users", lambda d: d["room"] == room_name)
            assert [u["username"] for u in users["users"]] == [name]  # one person, two sockets
        finally:
            again.close()
    finally:
        if live is not None:
            live.close()
        stop_all(workers)
