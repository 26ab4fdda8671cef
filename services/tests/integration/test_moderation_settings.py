"""Room settings on two workers sharing Redis and the database: only staff change them,
everyone in the room hears them, who may post (registered, members), slow mode across a
person's connections and workers, invite-only rooms and their links, pins."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.accounts import assert_error
from tests.support.client import ChatClient
from tests.support.moderation import Person, Stack, join, room_with_staff
from tests.support.processes import RedisServer, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
) -> Iterator[Stack]:
    started = Stack.start(request, tmp_path_factory.mktemp("room-settings"), redis_server.url)
    yield started
    started.stop()


@pytest.fixture
def room(stack: Stack, room_name: str, clients: list[ChatClient]) -> tuple[str, Person, Person]:
    return room_with_staff(stack, room_name, clients)


def change(stack: Stack, room: str, who: Person, worker: int = 0, **fields: Any):
    return requests.patch(
        f"{stack.api(worker)}/rooms/{room}/settings", headers=who.headers, json=fields, timeout=10
    )


def settings_heard(client: ChatClient, room: str, mark: int, **expected: Any) -> dict[str, Any]:
    return dict(
        client.wait_for(
            "room_settings",
            lambda s: s["room"] == room and all(s[k] == v for k, v in expected.items()),
            after=mark,
        )
    )


def test_only_staff_change_settings_and_everyone_hears_them(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, owner, moderator = room
    member = stack.register("Member")
    watcher = stack.guest(1)
    clients.append(watcher)
    assert join(watcher, name, "Watcher")["ok"]
    assert_error(change(stack, name, Person("g", None), topic="x"), 401, "unauthenticated")
    assert_error(change(stack, name, member, topic="mine now"), 403, "forbidden")
    assert_error(change(stack, name, moderator, post="nobody"), 400, "invalid_request")
    assert_error(change(stack, name, moderator, slow_mode=-1), 400, "invalid_request")
    mark = watcher.mark()
    answer = change(stack, name, moderator, worker=1, topic="  Rust   and coffee ")
    assert answer.status_code == 200 and answer.json()["topic"] == "Rust and coffee"
    settings_heard(watcher, name, mark, topic="Rust and coffee")
    # Those joining later get them with the room.
    late = stack.guest(0)
    clients.append(late)
    assert join(late, name, "Late")["ok"]
    assert late.wait_for("room_joined", lambda d: d["room"] == name)["settings"]["topic"] == (
        "Rust and coffee"
    )
    public = requests.get(f"{stack.api()}/rooms/{name}/settings", timeout=10).json()
    assert public["topic"] == "Rust and coffee" and "invite_code" not in public
    entries = requests.get(
        f"{stack.api()}/rooms/{name}/audit", headers=owner.headers, timeout=10
    ).json()["entries"]
    assert entries[0]["action"] == "settings_changed" and entries[0]["actor"] == (
        moderator.username
    )


def test_who_may_post_follows_the_settings_on_every_worker(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, owner, moderator = room
    member = stack.register("Member")
    guest, account = stack.guest(0), stack.account(member, 1)
    clients += [guest, account]
    assert join(guest, name, "Gus")["ok"]
    assert join(account, name)["ok"]
    mark = guest.mark()
    assert change(stack, name, moderator, post="registered").ok
    settings_heard(guest, name, mark, post="registered")
    wait_until(
        lambda: guest.send("guest?", room=name)["code"] == "posting_closed",
        5,
        "the guest's worker applying the settings",
    )
    assert account.send("an account may", room=name)["ok"]
    # Members only: a plain account may not; staff always may.
    mark = account.mark()
    assert change(stack, name, owner, worker=1, post="members").ok
    settings_heard(account, name, mark, post="members")
    wait_until(
        lambda: account.send("me?", room=name)["code"] == "posting_closed", 5, "members only"
    )
    mod_client = stack.account(moderator, 0)
    clients.append(mod_client)
    assert join(mod_client, name)["ok"]
    assert mod_client.send("staff may", room=name)["ok"]
    # Back to everyone: everybody posts again, at once.
    mark = guest.mark()
    assert change(stack, name, owner, post="everyone").ok
    settings_heard(guest, name, mark, post="everyone")
    wait_until(lambda: guest.send("again", room=name)["ok"], 5, "everyone may post")


def test_slow_mode_holds_a_person_across_connections_and_workers(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, _owner, moderator = room
    member = stack.register("Talker")
    phone, laptop = stack.account(member, 0), stack.account(member, 1)
    other = stack.guest(1)
    clients += [phone, laptop, other]
    for client in (phone, laptop):
        assert join(client, name)["ok"]
    assert join(other, name, "Other")["ok"]
    mark = phone.mark()
    assert change(stack, name, moderator, slow_mode=60).ok
    settings_heard(phone, name, mark, slow_mode=60)
    # Each worker applies the settings as it hears them: the phone's second message in a
    # minute is refused once its worker did...
    wait_until(lambda: phone.send("hello", room=name)["code"] == "slow_mode", 5, "phone")
    # ...and the laptop, on the other worker, is held by the phone's message: slow mode is
    # the person's, whatever connection or worker they write from.
    wait_until(lambda: laptop.send("me too", room=name)["code"] == "slow_mode", 5, "laptop")
    refused = laptop.send("second, from another device", room=name)
    assert refused["ok"] is False and "wait" in refused["error"]
    assert other.send("someone else may", room=name)["ok"]
    mod_client = stack.account(moderator, 1)
    clients.append(mod_client)
    assert join(mod_client, name)["ok"]
    assert mod_client.send("one", room=name)["ok"] and mod_client.send("two", room=name)["ok"]


def test_invite_only_rooms_let_in_those_with_the_link(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, owner, _moderator = room
    answer = change(stack, name, owner, invite_only=True)
    assert answer.ok and answer.json()["invite_only"] is True
    code = requests.get(
        f"{stack.api()}/rooms/{name}/settings", headers=owner.headers, timeout=10
    ).json()["invite_code"]
    assert code
    friend = stack.register("Friend")
    friend_client, stranger = stack.account(friend, 1), stack.guest(0)
    clients += [friend_client, stranger]
    for client, label in ((friend_client, "x"), (stranger, "Stranger")):
        refused = join(client, name, label)
        assert refused["ok"] is False and refused["code"] == "invite_only", refused
    refused = stranger.call(
        "join_room",
        {"room": name, "username": "Stranger", "client_key": stranger.client_key, "invite": "nope"},
    )
    assert refused["code"] == "invite_only"
    joined = friend_client.call("join_room", {"room": name, "invite": code})
    assert joined["ok"], joined
    # A new code: the old link stops working, members stay members.
    renewed = requests.post(
        f"{stack.api()}/rooms/{name}/invite", headers=owner.headers, timeout=10
    ).json()["invite_code"]
    assert renewed != code
    late = stack.guest(1)
    clients.append(late)
    old_link = late.call(
        "join_room",
        {"room": name, "username": "Late", "client_key": late.client_key, "invite": code},
    )
    assert old_link["code"] == "invite_only"
    friend_client.call("leave_room", {"room": name})
    assert friend_client.call("join_room", {"room": name})["ok"]  # a member, no link needed
    assert late.call(
        "join_room",
        {"room": name, "username": "Late", "client_key": late.client_key, "invite": renewed},
    )["ok"]


def test_pins(stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]):
    name, owner, moderator = room
    writer = stack.guest(0)
    clients.append(writer)
    assert join(writer, name, "Writer")["ok"]
    ids = [writer.send(f"note {i}", room=name)["message"]["id"] for i in range(3)]
    member = stack.register("Member")
    assert_error(
        requests.put(
            f"{stack.api()}/rooms/{name}/pins/{ids[0]}", headers=member.headers, timeout=10
        ),
        403,
        "forbidden",
    )
    for message_id in ids[:2]:
        assert requests.put(
            f"{stack.api(1)}/rooms/{name}/pins/{message_id}", headers=moderator.headers, timeout=10
        ).ok
    assert_error(
        requests.put(
            f"{stack.api()}/rooms/{name}/pins/999999", headers=moderator.headers, timeout=10
        ),
        404,
        "not_found",
    )
    pinned = requests.get(f"{stack.api()}/rooms/{name}/settings", timeout=10).json()["pins"]
    assert pinned == [ids[1], ids[0]]
    assert requests.delete(
        f"{stack.api()}/rooms/{name}/pins/{ids[1]}", headers=owner.headers, timeout=10
    ).json()["pins"] == [ids[0]]
    reader = stack.guest(1)
    clients.append(reader)
    assert join(reader, name, f"Reader{uuid.uuid4().hex[:4]}")["ok"]
    settings = reader.wait_for("room_joined", lambda d: d["room"] == name)["settings"]
    assert settings["pins"] == [ids[0]]
