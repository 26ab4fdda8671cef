"""Room roles on two workers sharing Redis and the database (SQLite and PostgreSQL): a
room an account creates is its own, owners name moderators, administrators hand rooms
over, moderators remove any message, and the audit log keeps every action. The rights
matrix: a guest, a member, a moderator, the owner and an administrator try every action,
and only the right ones succeed."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.conftest import DATABASES
from tests.support.accounts import PASSWORD, assert_error, migrated_workers
from tests.support.client import ChatClient
from tests.support.processes import VENV_BIN, ChatWorker, RedisServer, stop_all

pytestmark = pytest.mark.integration

ADMIN = f"Admin{uuid.uuid4().hex[:6]}"


class Person:
    def __init__(self, username: str, token: str | None) -> None:
        self.username = username
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


GUEST = Person("a guest", None)


class Stack:
    def __init__(self, workers: list[ChatWorker]) -> None:
        self.workers = workers

    def api(self, worker: int = 0) -> str:
        return f"{self.workers[worker].url}/api/v1"

    def register(self, stem: str, exact: str | None = None) -> Person:
        name = exact or f"{stem}{uuid.uuid4().hex[:6]}"
        answer = requests.post(
            f"{self.api()}/auth/register",
            json={"username": name, "password": PASSWORD},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return Person(name, answer.json()["access_token"])

    def connect(self, who: Person, worker: int = 0) -> ChatClient:
        auth: dict[str, Any] = {"protocol": 2}
        if who.token:
            auth["token"] = who.token
        return ChatClient(self.workers[worker].url, auth=auth).connect()

    def call(
        self,
        method: str,
        path: str,
        who: Person,
        worker: int = 0,
        body: dict[str, Any] | None = None,
    ) -> requests.Response:
        return requests.request(
            method, f"{self.api(worker)}{path}", headers=who.headers, json=body, timeout=10
        )


@pytest.fixture(scope="module", params=DATABASES)
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp(f"moderation-{request.param}")
    env = {"AUTH_ADDRESS_RATE_LIMIT": "0", "AUTH_ACCOUNT_RATE_LIMIT": "0", "ADMIN_USERNAMES": ADMIN}
    workers = migrated_workers(request, folder, redis_server.url, env, count=2)
    yield Stack(workers)
    stop_all(workers)


def join(client: ChatClient, room: str, name: str = "Guest") -> None:
    answer = client.call(
        "join_room", {"room": room, "username": name, "client_key": client.client_key}
    )
    assert answer["ok"], answer


def test_the_rights_matrix(stack: Stack, room_name: str, clients: list[ChatClient]):
    owner, member, moderator = (stack.register(s) for s in ("Owner", "Member", "Mod"))
    admin = stack.register("", exact=ADMIN) if not _exists(stack, ADMIN) else _login(stack, ADMIN)
    owner_client = stack.connect(owner, 0)
    clients.append(owner_client)
    join(owner_client, room_name)  # the account's join creates the room: it is the owner
    guest_client = stack.connect(GUEST, 1)
    member_client = stack.connect(member, 1)
    clients += [guest_client, member_client]
    join(guest_client, room_name, "Gus")
    join(member_client, room_name)

    roles = stack.call("GET", f"/rooms/{room_name}/roles", owner, worker=1).json()
    assert roles["owner"]["username"] == owner.username and roles["you"] == "owner"
    assert stack.call("GET", f"/rooms/{room_name}/roles", GUEST).json()["you"] is None
    assert stack.call("GET", f"/rooms/{room_name}/roles", admin).json()["you"] == "admin"

    # Naming moderators: the owner and administrators only.
    path = f"/rooms/{room_name}/moderators/{moderator.username}"
    assert_error(stack.call("PUT", path, GUEST), 401, "unauthenticated")
    assert_error(stack.call("PUT", path, member), 403, "forbidden")
    assert stack.call("PUT", path, owner, worker=1).status_code == 200
    assert_error(
        stack.call("PUT", f"/rooms/{room_name}/moderators/{member.username}", moderator),
        403,
        "forbidden",
    )
    assert (
        stack.call("PUT", f"/rooms/{room_name}/moderators/{member.username}", admin).status_code
        == 200
    )
    assert (
        stack.call("DELETE", f"/rooms/{room_name}/moderators/{member.username}", owner).status_code
        == 200
    )
    listed = stack.call("GET", f"/rooms/{room_name}/roles", GUEST).json()["moderators"]
    assert [m["username"] for m in listed] == [moderator.username]

    # Removing messages: moderators, the owner, administrators; never members or guests.
    ids = [member_client.send(f"message {i}", room=room_name)["message"]["id"] for i in range(5)]
    for who, message_id in ((GUEST, ids[0]), (member, ids[0])):
        answer = stack.call("POST", f"/rooms/{room_name}/messages/{message_id}/remove", who)
        assert answer.status_code == (401 if who is GUEST else 403), answer.text
    mark = guest_client.mark()
    for who, message_id, worker in ((moderator, ids[1], 0), (owner, ids[2], 1), (admin, ids[3], 0)):
        answer = stack.call(
            "POST",
            f"/rooms/{room_name}/messages/{message_id}/remove",
            who,
            worker=worker,
            body={"reason": "spam"},
        )
        assert answer.status_code == 200 and answer.json()["removed"], answer.text
    removed = guest_client.wait_count(
        "room_event", 3, predicate=lambda e: e["type"] == "delete", timeout=5
    )
    assert all(e["message"]["removed"] and e["message"]["message"] == "" for e in removed)
    assert guest_client.mark() > mark
    history = member_client.call("get_history", {"room": room_name})["messages"]
    state = {m["id"]: m for m in history}
    assert state[ids[0]]["message"] == "message 0" and not state[ids[0]].get("deleted")
    assert all(state[i]["deleted"] and state[i]["removed"] for i in ids[1:4])
    assert_error(
        stack.call("POST", f"/rooms/{room_name}/messages/999999/remove", owner), 404, "not_found"
    )

    # Handing over: administrators only.
    body = {"username": member.username, "reason": "the owner left"}
    for who in (member, moderator, owner):
        assert_error(
            stack.call("PUT", f"/rooms/{room_name}/owner", who, body=body), 403, "forbidden"
        )
    assert stack.call("PUT", f"/rooms/{room_name}/owner", admin, worker=1, body=body).ok
    assert stack.call("GET", f"/rooms/{room_name}/roles", member).json()["you"] == "owner"

    # The audit log: every action, for moderators, owners and administrators only.
    assert_error(stack.call("GET", f"/rooms/{room_name}/audit", GUEST), 401, "unauthenticated")
    assert_error(stack.call("GET", f"/rooms/{room_name}/audit", owner), 403, "forbidden")
    entries = stack.call("GET", f"/rooms/{room_name}/audit", moderator).json()["entries"]
    actions = [(e["actor"], e["action"], e["target"]) for e in reversed(entries)]
    assert actions == [
        (owner.username, "room_created", owner.username),
        (owner.username, "moderator_added", moderator.username),
        (ADMIN, "moderator_added", member.username),
        (owner.username, "moderator_removed", member.username),
        (moderator.username, "message_removed", ids[1]),
        (owner.username, "message_removed", ids[2]),
        (ADMIN, "message_removed", ids[3]),
        (ADMIN, "owner_changed", member.username),
    ]
    assert entries[0]["reason"] == "the owner left" and entries[1]["reason"] == "spam"
    page = stack.call(
        "GET", f"/rooms/{room_name}/audit?limit=2&before={entries[1]['id']}", admin
    ).json()["entries"]
    assert [e["id"] for e in page] == [entries[2]["id"], entries[3]["id"]]


def _exists(stack: Stack, name: str) -> bool:
    return requests.get(f"{stack.api()}/profiles/{name}", timeout=10).status_code == 200


def _login(stack: Stack, name: str) -> Person:
    answer = requests.post(
        f"{stack.api()}/auth/login", json={"username": name, "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return Person(name, answer.json()["access_token"])


def test_rooms_guests_create_stay_open_until_an_administrator_hands_them_over(
    stack: Stack, room_name: str, clients: list[ChatClient]
):
    admin = _login(stack, ADMIN) if _exists(stack, ADMIN) else stack.register("", exact=ADMIN)
    late = stack.register("Late")
    guest_client, late_client = stack.connect(GUEST, 0), stack.connect(late, 1)
    clients += [guest_client, late_client]
    join(guest_client, room_name, "Founder")
    join(late_client, room_name)  # the room existed: joining it later owns nothing
    roles = stack.call("GET", f"/rooms/{room_name}/roles", late).json()
    assert roles["owner"] is None and roles["you"] is None
    assert_error(
        stack.call("PUT", f"/rooms/{room_name}/moderators/{late.username}", admin), 409, "no_owner"
    )
    assert stack.call(
        "PUT", f"/rooms/{room_name}/owner", admin, body={"username": late.username}
    ).ok
    assert stack.call("GET", f"/rooms/{room_name}/roles", late).json()["you"] == "owner"
    # A protocol 1 client reads a removed message as the seed's clients can show it.
    message = guest_client.send("rude words", room=room_name)["message"]
    assert stack.call("POST", f"/rooms/{room_name}/messages/{message['id']}/remove", late).ok
    seed = ChatClient(stack.workers[0].url).connect()
    clients.append(seed)
    assert seed.join("Seed reader", room_name)["ok"]
    history = seed.wait_for("room_joined")["messages"]
    assert history[-1]["message"] == "(removed by a moderator)"
    # Private conversations have no moderators.
    assert_error(stack.call("GET", f"/rooms/dm:{'a' * 20}/roles", late), 404, "not_found")


def test_the_admin_command_names_administrators(stack: Stack, room_name: str):
    someone = stack.register("Boss")
    env = {
        **stack.workers[0].environment(),
        "DATABASE_URL": stack.workers[0].extra_env["DATABASE_URL"],
    }
    granted = subprocess.run(
        [str(VENV_BIN / "talkrooms"), "admin", "grant", someone.username],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert granted.returncode == 0, granted.stderr
    assert "now an administrator" in granted.stdout
    listed = subprocess.run(
        [str(VENV_BIN / "talkrooms"), "admin", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert someone.username in listed.stdout.split()
    assert stack.call("GET", f"/rooms/{room_name}/roles", someone).json()["you"] == "admin"
    missing = subprocess.run(
        [str(VENV_BIN / "talkrooms"), "admin", "grant", "nobody-here"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
