"""What the moderation suites share: people with tokens, a stack of workers on one
database to act on, joins, and a room with an owner and a moderator."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from tests.support.accounts import PASSWORD, migrated_workers
from tests.support.client import ChatClient
from tests.support.processes import ChatWorker, stop_all


class Person:
    def __init__(self, username: str, token: str | None) -> None:
        self.username, self.token = username, token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


class Stack:
    def __init__(self, workers: list[ChatWorker], redis_url: str) -> None:
        self.workers = workers
        self.redis = redis.Redis.from_url(redis_url)
        self.prefix = workers[0].extra_env["KEY_PREFIX"]

    @classmethod
    def start(
        cls,
        request: pytest.FixtureRequest,
        folder: Path,
        redis_url: str,
        extra: dict[str, str] | None = None,
    ) -> Stack:
        """Two workers on one new, migrated SQLite database, login limits off."""
        env = {"AUTH_ADDRESS_RATE_LIMIT": "0", "AUTH_ACCOUNT_RATE_LIMIT": "0", **(extra or {})}
        workers = migrated_workers(request, folder, redis_url, env, count=2, kind="sqlite")
        return cls(workers, redis_url)

    def stop(self) -> None:
        stop_all(self.workers)

    def api(self, worker: int = 0) -> str:
        return f"{self.workers[worker].url}/api/v1"

    def register(self, stem: str, exact: str | None = None) -> Person:
        name = exact or f"{stem}{uuid.uuid4().hex[:6]}"
        answer = requests.post(
            f"{self.api()}/auth/register", json={"username": name, "password": PASSWORD}, timeout=10
        )
        assert answer.status_code == 201, answer.text
        return Person(name, answer.json()["access_token"])

    def account(self, who: Person, worker: int) -> ChatClient:
        return ChatClient(
            self.workers[worker].url, auth={"protocol": 2, "token": who.token}
        ).connect()

    def guest(self, worker: int, key: str | None = None) -> ChatClient:
        client = ChatClient(self.workers[worker].url, auth={"protocol": 2}).connect()
        if key:
            client.client_key = key
        return client

    def sanction(
        self, room: str, who: Person, action: str, username: str, worker: int = 0, **extra: Any
    ) -> requests.Response:
        return requests.post(
            f"{self.api(worker)}/rooms/{room}/sanctions",
            headers=who.headers,
            json={"action": action, "username": username, **extra},
            timeout=10,
        )

    def lift(self, room: str, who: Person, sanction: int, worker: int = 0) -> requests.Response:
        return requests.delete(
            f"{self.api(worker)}/rooms/{room}/sanctions/{sanction}", headers=who.headers, timeout=10
        )


def join(client: ChatClient, room: str, name: str = "x") -> dict[str, Any]:
    return dict(
        client.call("join_room", {"room": room, "username": name, "client_key": client.client_key})
    )


def room_with_staff(
    stack: Stack, room: str, clients: list[ChatClient]
) -> tuple[str, Person, Person]:
    """A room its owner's join created, with a moderator named."""
    owner, moderator = stack.register("Owner"), stack.register("Mod")
    owner_client = stack.account(owner, 0)
    clients.append(owner_client)
    assert join(owner_client, room)["ok"]
    named = requests.put(
        f"{stack.api()}/rooms/{room}/moderators/{moderator.username}",
        headers=owner.headers,
        timeout=10,
    )
    assert named.ok, named.text
    return room, owner, moderator
