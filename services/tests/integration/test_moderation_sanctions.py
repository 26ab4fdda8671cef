"""Sanctions on two workers sharing Redis and the database: kicks, mutes and bans take
effect on every worker within a second, messages of the muted and banned are refused, a
banned guest coming back with a new name but the same key or address is refused, lifting
works, sanctions survive Redis losing its copy, and the audit log has them all."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

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
    started = Stack.start(request, tmp_path_factory.mktemp("sanctions"), redis_server.url)
    yield started
    started.stop()


@pytest.fixture
def room(stack: Stack, room_name: str, clients: list[ChatClient]) -> tuple[str, Person, Person]:
    return room_with_staff(stack, room_name, clients)


def test_a_ban_reaches_every_worker_within_a_second(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, owner, moderator = room
    troll = stack.register("Troll")
    phone, laptop = stack.account(troll, 0), stack.account(troll, 1)
    watcher = stack.guest(1)
    clients += [phone, laptop, watcher]
    for client in (phone, laptop):
        assert join(client, name)["ok"]
    assert join(watcher, name, "Watcher")["ok"]
    mark = watcher.mark()
    asked = time.monotonic()
    answer = stack.sanction(name, moderator, "ban", troll.username, worker=1, reason="spam")
    assert answer.status_code == 200, answer.text
    for device in (phone, laptop):
        told = device.wait_for("sanctioned", timeout=5)
        assert told["action"] == "ban" and told["reason"] == "spam" and told["room"] == name
    assert time.monotonic() - asked < 1.0 + 0.5  # the HTTP answer itself is within this
    notice = watcher.wait_for("moderation", after=mark)
    assert notice["action"] == "ban" and notice["username"] == troll.username
    watcher.wait_for(
        "room_users",
        lambda d: troll.username not in [u["username"] for u in d["users"]],
        after=mark,
    )
    # Out of the room on both devices: a message in flight is refused...
    refused = phone.send("still here?", room=name)
    assert refused["ok"] is False and refused["code"] in ("not_in_room", "banned")
    # ...and coming back is refused, from any device, on any worker.
    for device in (phone, laptop):
        again = join(device, name)
        assert again["ok"] is False and again["code"] == "banned", again
    # Lifting the ban lets them in again.
    assert stack.lift(name, owner, answer.json()["sanction"]).ok
    assert join(laptop, name)["ok"]
    assert laptop.send("sorry", room=name)["ok"]


def test_a_banned_guest_cannot_come_back_with_another_name_key_or_the_same_address(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, _owner, moderator = room
    key = uuid.uuid4().hex
    guest = stack.guest(0, key)
    clients.append(guest)
    assert join(guest, name, "Spammer")["ok"]
    assert stack.sanction(name, moderator, "ban", "Spammer", minutes=60).ok
    guest.wait_for("sanctioned", timeout=5)
    same_key = stack.guest(1, key)
    new_key = stack.guest(1)
    member = stack.account(stack.register("Fine"), 1)
    clients += [same_key, new_key, member]
    for client, label in ((same_key, "Other Name"), (new_key, "Third Name")):
        refused = join(client, name, label)
        assert refused["ok"] is False and refused["code"] == "banned", refused
        assert "until" in refused["error"]
    # The address ban is for guests: an account from the same address still joins.
    assert join(member, name)["ok"]


def test_a_mute_refuses_messages_for_its_time_only_and_can_be_lifted(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, _owner, moderator = room
    guest = stack.guest(1)
    clients.append(guest)
    assert join(guest, name, "Loud")["ok"]
    answer = stack.sanction(name, moderator, "mute", "Loud", minutes=5)
    assert answer.ok and answer.json()["until"]
    refused = guest.send("LOUD", room=name)
    assert refused["ok"] is False and refused["code"] == "muted"
    listed = requests.get(
        f"{stack.api()}/rooms/{name}/sanctions", headers=moderator.headers, timeout=10
    ).json()["sanctions"]
    assert [(s["action"], s["username"], s["guest"]) for s in listed] == [("mute", "Loud", True)]
    assert stack.lift(name, moderator, answer.json()["sanction"], worker=1).ok
    assert guest.send("quieter", room=name)["ok"]
    # A mute that has run out refuses nothing (the script compares its end with now).
    silenced = f"{stack.prefix}:room:{{{name}}}:silenced"
    assert stack.redis.hlen(silenced) == 0
    author = f"u:{_account_id(stack, moderator)}"
    stack.redis.hset(silenced, author, f"muted|{int(time.time() * 1000) - 1}")
    mod_client = stack.account(moderator, 0)
    clients.append(mod_client)
    assert join(mod_client, name)["ok"]
    assert mod_client.send("an ended mute stops nothing", room=name)["ok"]
    stack.redis.hset(silenced, author, f"muted|{int(time.time() * 1000) + 60_000}")
    assert mod_client.send("a running one does", room=name)["code"] == "muted"
    stack.redis.hdel(silenced, author)


def _account_id(stack: Stack, who: Person) -> int:
    me = requests.get(f"{stack.api()}/auth/me", headers=who.headers, timeout=10)
    return int(me.json()["id"])


def test_kicks_and_who_may_sanction_whom(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, owner, moderator = room
    member = stack.register("Member")
    other_mod = stack.register("Mod2")
    requests.put(
        f"{stack.api()}/rooms/{name}/moderators/{other_mod.username}",
        headers=owner.headers,
        timeout=10,
    )
    member_client = stack.account(member, 1)
    clients.append(member_client)
    assert join(member_client, name)["ok"]
    # Members and guests sanction nobody; moderators not their equals or betters.
    assert_error(
        stack.sanction(name, Person("g", None), "kick", member.username), 401, "unauthenticated"
    )
    assert_error(stack.sanction(name, member, "kick", moderator.username), 403, "forbidden")
    assert_error(stack.sanction(name, moderator, "kick", other_mod.username), 403, "forbidden")
    assert_error(stack.sanction(name, moderator, "ban", owner.username), 403, "forbidden")
    assert_error(
        stack.sanction(name, moderator, "kick", moderator.username), 400, "invalid_request"
    )
    assert_error(stack.sanction(name, moderator, "kick", "Nobody Here"), 404, "not_found")
    assert_error(stack.sanction(name, moderator, "slap", member.username), 400, "invalid_request")
    assert stack.sanction(name, owner, "mute", other_mod.username).ok  # the owner may
    # A kick: out now, but welcome back.
    assert stack.sanction(name, moderator, "kick", member.username, worker=1).ok
    assert member_client.wait_for("sanctioned", timeout=5)["action"] == "kick"
    assert join(member_client, name)["ok"]
    entries = requests.get(
        f"{stack.api()}/rooms/{name}/audit", headers=owner.headers, timeout=10
    ).json()["entries"]
    assert [(e["action"], e["target"]) for e in entries[:2]] == [
        ("kick", member.username),
        ("mute", other_mod.username),
    ]


def test_sanctions_come_back_when_redis_forgot_them(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, _owner, moderator = room
    troll = stack.register("Again")
    client = stack.account(troll, 0)
    clients.append(client)
    assert join(client, name)["ok"]
    assert stack.sanction(name, moderator, "ban", troll.username).ok
    client.wait_for("sanctioned", timeout=5)
    for part in ("bans", "silenced"):
        stack.redis.delete(f"{stack.prefix}:room:{{{name}}}:{part}")
    assert join(client, name)["ok"]  # Redis forgot...
    client.call("leave_room", {"room": name})
    restarted = stack.workers[1]
    restarted.stop()
    restarted.start()  # ...and a worker's start writes every sanction in force again
    bans = f"{stack.prefix}:room:{{{name}}}:bans"
    wait_until(lambda: stack.redis.exists(bans), 10, "the sanctions written again")
    again = join(client, name)
    assert again["ok"] is False and again["code"] == "banned"
