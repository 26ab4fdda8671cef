"""Automatic moderation, reports and the review queue on two workers sharing Redis and the
database: each rule's action (refuse, hold, mute) with its audit row, the room's own
words and rules, reports from guests and accounts, the staff's live queue count, every
decision, and who may read and decide (a guest, a member, a moderator, the owner, an
administrator)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.support.accounts import assert_error
from tests.support.client import ChatClient
from tests.support.moderation import Person, Stack, join, room_with_staff
from tests.support.processes import RedisServer, wait_until

pytestmark = pytest.mark.integration

ADMIN = f"Boss{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
) -> Iterator[Stack]:
    extra = {"AUTOMOD": "true", "ADMIN_USERNAMES": ADMIN, "AUTOMOD_MENTIONS_MAX": "4"}
    started = Stack.start(request, tmp_path_factory.mktemp("automod"), redis_server.url, extra)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Person:
    return stack.register("", exact=ADMIN)


@pytest.fixture
def room(stack: Stack, room_name: str, clients: list[ChatClient]) -> tuple[str, Person, Person]:
    return room_with_staff(stack, room_name, clients)


def rules(stack: Stack, room: str, who: Person, **automod: Any) -> requests.Response:
    return requests.patch(
        f"{stack.api()}/rooms/{room}/settings",
        headers=who.headers,
        json={"automod": automod},
        timeout=10,
    )


def queue(stack: Stack, room: str, who: Person, worker: int = 0) -> requests.Response:
    return requests.get(f"{stack.api(worker)}/rooms/{room}/queue", headers=who.headers, timeout=10)


def decide(
    stack: Stack, room: str, who: Person, item: int, action: str, worker: int = 0
) -> requests.Response:
    return requests.post(
        f"{stack.api(worker)}/rooms/{room}/queue/{item}",
        headers=who.headers,
        json={"action": action},
        timeout=10,
    )


def audit_actions(stack: Stack, room: str, who: Person) -> list[tuple[str, str, Any]]:
    entries = requests.get(
        f"{stack.api()}/rooms/{room}/audit", headers=who.headers, timeout=10
    ).json()["entries"]
    return [(e["action"], e["actor"], e["details"].get("rule")) for e in entries]


def staff_client(stack: Stack, room: str, who: Person, worker: int) -> ChatClient:
    client = stack.account(who, worker)
    assert join(client, room)["ok"]
    return client


def test_words_are_refused_with_the_reason_and_audited(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, _owner, moderator = room
    guest = stack.guest(1)
    clients.append(guest)
    assert join(guest, name, "Rude")["ok"]
    for text in ("you are a sh1t", "f u c k this", "what the f*ck"):
        refused = guest.send(text, room=name)
        assert refused["ok"] is False and refused["code"] == "auto_moderated", refused
        assert "does not accept" in refused["error"]
    assert guest.send("Scunthorpe is a town; the analysis is done", room=name)["ok"]
    # The audit rows are written after the answer, off the message path.
    wait_until(
        lambda: (
            audit_actions(stack, name, moderator).count(("auto_refused", "automod", "words")) == 3
        ),
        5,
        "three audited refusals",
    )


def test_a_room_holds_its_own_words_for_review_and_a_moderator_approves(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, owner, moderator = room
    answer = rules(stack, name, owner, rules={"words": "hold"}, words=["casino"])
    assert answer.ok, answer.text
    assert answer.json()["automod"]["rules"]["words"] == "hold"
    assert answer.json()["automod"]["words"] == ["casino"]
    public = requests.get(f"{stack.api()}/rooms/{name}/settings", timeout=10).json()
    assert "words" not in public["automod"]  # the list is the staff's
    mod = staff_client(stack, name, moderator, 1)
    watcher = stack.guest(1)
    guest = stack.guest(0)
    clients += [mod, watcher, guest]
    mod.wait_for("review", lambda r: r["room"] == name and r["open"] == 0)
    assert join(watcher, name, "Watcher")["ok"] and join(guest, name, "Gambler")["ok"]
    mark, watched = mod.mark(), watcher.mark()
    held = guest.send("visit my C4S1NO tonight", room=name, client_id="held-casino-1")
    assert held["ok"] is False and held["code"] == "held", held
    # The moderator on the other worker hears the queue grow; nobody sees the message.
    mod.wait_for("review", lambda r: r["room"] == name and r["open"] == 1, after=mark)
    items = queue(stack, name, moderator, worker=1).json()["items"]
    assert [(i["kind"], i["rule"], i["message"]["username"]) for i in items] == [
        ("held", "words", "Gambler")
    ]
    assert items[0]["message"]["id"] is None
    watcher.assert_no("new_message", lambda m: "C4S1NO" in m["message"], after=watched)
    approved = decide(stack, name, moderator, items[0]["id"], "approve", worker=1)
    assert approved.ok, approved.text
    shown = watcher.wait_for("new_message", lambda m: "C4S1NO" in m["message"], after=watched)
    assert shown["username"] == "Gambler"
    assert shown["client_id"] == "held-casino-1"  # the author's client merges its copy
    mod.wait_for("review", lambda r: r["open"] == 0, after=mark)
    # Decided once only.
    assert_error(decide(stack, name, moderator, items[0]["id"], "reject"), 404, "not_found")
    actions = audit_actions(stack, name, moderator)
    assert ("auto_held", "automod", "words") in actions
    assert ("held_approved", moderator.username, "words") in actions


def test_a_rejected_held_message_is_never_shown(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, owner, moderator = room
    assert rules(stack, name, owner, rules={"links": "hold"}).ok
    guest, watcher = stack.guest(0), stack.guest(1)
    clients += [guest, watcher]
    assert join(watcher, name, "Watcher")["ok"] and join(guest, name, "Linker")["ok"]
    watched = watcher.mark()
    assert guest.send("buy at https://spam.example/now", room=name)["code"] == "held"
    (item,) = queue(stack, name, owner).json()["items"]
    assert item["rule"] == "links"
    assert_error(decide(stack, name, moderator, item["id"], "dismiss"), 400, "invalid_request")
    assert decide(stack, name, moderator, item["id"], "reject").ok
    watcher.assert_no("new_message", lambda m: "spam.example" in m["message"], after=watched)
    history = watcher.call("get_history", {"room": name})
    assert all("spam.example" not in m["message"] for m in history["messages"])


def test_a_flood_mutes_its_author_on_every_worker(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, _owner, moderator = room
    flooder = stack.register("Flood")
    phone, laptop = stack.account(flooder, 0), stack.account(flooder, 1)
    watcher = stack.guest(1)
    clients += [phone, laptop, watcher]
    for client in (phone, laptop):
        assert join(client, name)["ok"]
    assert join(watcher, name, "Watcher")["ok"]
    mark = watcher.mark()
    assert phone.send("BUY NOW", room=name)["ok"]
    assert phone.send("buy now", room=name)["ok"]
    muted = phone.send("BUY NOW", room=name)
    assert muted["ok"] is False and muted["code"] == "muted", muted
    notice = watcher.wait_for("moderation", lambda n: n["action"] == "mute", after=mark)
    assert notice["by"] == "automod" and notice["username"] == flooder.username
    assert notice["until"]
    # The mute is the person's: the laptop on the other worker is refused too.
    refused = laptop.send("something else", room=name)
    assert refused["ok"] is False and refused["code"] == "muted"
    wait_until(
        lambda: ("auto_muted", "automod", "flood") in audit_actions(stack, name, moderator),
        5,
        "the automatic mute audited",
    )
    listed = requests.get(
        f"{stack.api()}/rooms/{name}/sanctions", headers=moderator.headers, timeout=10
    ).json()["sanctions"]
    assert [(s["action"], s["username"]) for s in listed] == [("mute", flooder.username)]


def test_mass_mentions_are_refused(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, _owner, _moderator = room
    guest = stack.guest(0)
    clients.append(guest)
    assert join(guest, name, "Pinger")["ok"]
    refused = guest.send("@ann @bob @cat @dan look", room=name)
    assert refused["code"] == "auto_moderated" and "mentioned" in refused["error"]
    assert guest.send("@ann @bob @cat look", room=name)["ok"]


def test_staff_are_not_held_by_rules(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, owner, moderator = room
    assert rules(stack, name, owner, rules={"links": "refuse"}).ok
    mod = staff_client(stack, name, moderator, 0)
    clients.append(mod)
    assert mod.send("rules: https://example.org/rules", room=name)["ok"]


def test_reports_reach_the_queue_and_a_moderator_removes_the_message(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, _owner, moderator = room
    author, reporter = stack.guest(0), stack.guest(1)
    person = stack.register("Member")
    member = stack.account(person, 0)
    outsider = stack.guest(1)
    clients += [author, reporter, member, outsider]
    assert join(author, name, "Troll")["ok"] and join(reporter, name, "Victim")["ok"]
    assert join(member, name)["ok"]
    mod = staff_client(stack, name, moderator, 1)
    clients.append(mod)
    mark = mod.mark()
    message = author.send("you are all idiots", room=name)["message"]
    report = {"room": name, "id": message["id"], "reason": "insults"}
    first = reporter.call("report_message", report)
    assert first["ok"] and isinstance(first["report"], int)
    again = member.call("report_message", {**report, "reason": "rude"})
    assert again["ok"] and again["report"] == first["report"]  # one item per message
    assert reporter.call("report_message", report)["report"] == first["report"]
    mod.wait_for("review", lambda r: r["room"] == name and r["open"] == 1, after=mark)
    (item,) = queue(stack, name, moderator).json()["items"]
    assert item["kind"] == "report" and item["message"]["id"] == message["id"]
    assert item["message"]["message"] == "you are all idiots"
    assert sorted(r["reason"] for r in item["reports"]) == ["insults", "rude"]
    # Refusals: not in the room, no such message, a bad reason, a private conversation.
    assert outsider.call("report_message", report)["code"] == "not_in_room"
    missing = reporter.call("report_message", {**report, "id": "999999"})
    assert missing["code"] == "not_found"
    long_reason = reporter.call("report_message", {**report, "reason": "x" * 501})
    assert long_reason["code"] == "invalid"
    watched = reporter.mark()
    assert decide(stack, name, moderator, item["id"], "remove", worker=1).ok
    reporter.wait_for(
        "room_event",
        lambda e: e["type"] == "delete" and e["message"]["id"] == message["id"],
        after=watched,
    )
    assert queue(stack, name, moderator).json()["items"] == []
    actions = audit_actions(stack, name, moderator)
    assert ("message_removed", moderator.username, None) in actions
    reporters = sorted(a[1] for a in actions if a[0] == "reported")
    assert reporters == sorted([person.username, "Victim"])


def test_who_may_read_and_decide_on_the_queue(
    stack: Stack, room: tuple[str, Person, Person], admin: Person, clients: list[ChatClient]
):
    name, owner, moderator = room
    member = stack.register("Member")
    guest = Person("guest", None)
    author = stack.guest(0)
    clients.append(author)
    assert join(author, name, "Author")["ok"]
    ids = [author.send(f"message {n}", room=name)["message"]["id"] for n in range(3)]
    items = [author.call("report_message", {"room": name, "id": i})["report"] for i in ids]
    for who, status, code in ((guest, 401, "unauthenticated"), (member, 403, "forbidden")):
        assert_error(queue(stack, name, who), status, code)
        assert_error(decide(stack, name, who, items[0], "dismiss"), status, code)
        assert_error(rules(stack, name, who, rules={"words": "off"}), status, code)
    for who, item in zip((moderator, owner, admin), items, strict=True):
        assert queue(stack, name, who, worker=1).ok
        assert decide(stack, name, who, item, "dismiss", worker=1).ok
    assert queue(stack, name, admin).json()["items"] == []


def test_two_moderators_deciding_at_once_act_once(
    stack: Stack, room: tuple[str, Person, Person], clients: list[ChatClient]
):
    name, owner, moderator = room
    author = stack.guest(0)
    clients.append(author)
    assert join(author, name, "Author")["ok"]
    message = author.send("report me", room=name)["message"]
    item = author.call("report_message", {"room": name, "id": message["id"]})["report"]
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda pair: decide(stack, name, pair[0], item, "dismiss", worker=pair[1]),
                ((owner, 0), (moderator, 1)),
            )
        )
    assert sorted(a.status_code for a in answers) == [200, 404]


def test_room_rules_are_checked(stack: Stack, room: tuple[str, Person, Person]):
    name, owner, _moderator = room
    for bad in ({"rules": {"words": "explode"}}, {"words": ["x" * 41]}, {"spam": True}):
        assert_error(
            requests.patch(
                f"{stack.api()}/rooms/{name}/settings",
                headers=owner.headers,
                json={"automod": bad},
                timeout=10,
            ),
            400,
            "invalid_request",
        )
