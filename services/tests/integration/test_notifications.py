"""Notifications end to end: two chat workers, the RQ worker, and a local Web Push service
that checks VAPID signatures and decrypts every payload with the subscription's keys (as
the browser would). Who is notified (a background device, not a focused one; mentions;
muted, "nothing", "all"; blocked authors), several messages collapsing into one count,
retries after a push service error without duplicates, and gone subscriptions removed."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from rq import Queue

from talkrooms.notify.jobs import SEND_JOB
from tests.support.client import ChatClient
from tests.support.expo_service import ExpoService
from tests.support.moderation import Person, Stack, join
from tests.support.ops import RQWorkerProcess
from tests.support.processes import RedisServer, wait_until
from tests.support.push_service import PushService, Subscription

pytestmark = pytest.mark.integration


class World:
    def __init__(
        self,
        stack: Stack,
        push: PushService,
        expo: ExpoService,
        queue: str,
        rq_worker: RQWorkerProcess,
        start_rq_worker: Callable[[], RQWorkerProcess],
    ) -> None:
        self.stack, self.push, self.expo, self.queue = stack, push, expo, queue
        self.rq_worker, self.start_rq_worker = rq_worker, start_rq_worker

    def phone(self, who: Person) -> tuple[str, int]:
        """An app's Expo push token, registered."""
        token = f"ExponentPushToken[{uuid.uuid4().hex[:22]}]"
        answer = requests.post(
            f"{self.stack.api()}/push/devices",
            headers=who.headers,
            json={"kind": "expo", "token": token, "label": "Pixel"},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return token, int(answer.json()["id"])

    def devices(self, who: Person) -> list[Any]:
        answer = requests.get(f"{self.stack.api()}/push/devices", headers=who.headers, timeout=10)
        return list(answer.json()["devices"])

    def subscribe(self, who: Person) -> tuple[Subscription, int]:
        subscription = self.push.subscribe()
        answer = requests.post(
            f"{self.stack.api(1)}/push/devices",
            headers=who.headers,
            json={"kind": "webpush", "subscription": subscription.as_json(), "label": "Firefox"},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return subscription, int(answer.json()["id"])

    def conversation(self, first: Person, second: Person) -> str:
        answer = requests.post(
            f"{self.stack.api()}/conversations",
            headers=first.headers,
            json={"username": second.username},
            timeout=10,
        )
        assert answer.status_code in (200, 201), answer.text
        return str(answer.json()["room"])

    def setting(self, who: Person, room: str, **body: Any) -> requests.Response:
        return requests.put(
            f"{self.stack.api()}/notifications/{room}", headers=who.headers, json=body, timeout=10
        )

    def bodies(self, subscription: Subscription) -> list[str]:
        return [n["body"] for n in subscription.received]


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
) -> Iterator[World]:
    folder: Path = tmp_path_factory.mktemp("notifications")
    queue = f"push{uuid.uuid4().hex[:6]}"
    push, expo = PushService().start(), ExpoService().start()
    common = {
        "RQ_QUEUE": queue,
        "PUSH_RETRY_DELAYS": "1,1,1",
        "EXPO_PUSH_URL": expo.url,
        "EXPO_RECEIPT_DELAY_SECONDS": "1",
    }
    stack = Stack.start(request, folder, redis_server.url, common)
    shared = stack.workers[0].extra_env
    rq_env = {
        **common,
        "DATABASE_URL": shared["DATABASE_URL"],
        "KEY_PREFIX": shared["KEY_PREFIX"],
        "JWT_SECRET": shared["JWT_SECRET"],
    }
    worker = RQWorkerProcess(folder, redis_server.url, env=rq_env)

    def start_rq_worker() -> RQWorkerProcess:
        """Another RQ worker on the same queue (the caller stops it)."""
        return RQWorkerProcess(folder, redis_server.url, env=rq_env).start()

    try:
        worker.start()
        yield World(stack, push, expo, queue, worker, start_rq_worker)
    finally:
        worker.stop()
        stack.stop()
        push.stop()
        expo.stop()


def connect(world: World, who: Person, worker: int, clients: list[ChatClient]) -> ChatClient:
    client = world.stack.account(who, worker)
    clients.append(client)
    return client


def test_a_private_message_reaches_a_device_in_the_background(
    world: World, clients: list[ChatClient]
):
    alice, bob = world.stack.register("Alice"), world.stack.register("Bob")
    phone, _device = world.subscribe(bob)
    room = world.conversation(alice, bob)
    writer = connect(world, alice, 0, clients)
    assert join(writer, room)["ok"]
    assert writer.send("are you there, Bob?", room=room)["ok"]
    (notification,) = world.push.wait_for(phone, 1)
    assert notification["room"] == room and notification["title"] == alice.username
    assert notification["body"] == "are you there, Bob?" and notification["count"] == 1
    assert notification["tag"] == f"room:{room}"
    # Signed with the key browsers subscribe with.
    key = requests.get(f"{world.stack.api()}/push/key", timeout=10).json()["public_key"]
    assert world.push.vapid_keys == {key}
    assert phone.headers[0]["topic"] and phone.headers[0]["urgency"] == "high"
    # Never set, the conversation is listed at the level in force for it.
    listed = requests.get(f"{world.stack.api()}/notifications", headers=bob.headers, timeout=10)
    assert listed.json()["rooms"] == [
        {"room": room, "level": "all", "muted_until": None, "saved": False}
    ]


def test_a_focused_client_gets_no_notification_and_several_collapse(
    world: World, clients: list[ChatClient]
):
    alice, bob = world.stack.register("Alice"), world.stack.register("Bob")
    phone, _device = world.subscribe(bob)
    room = world.conversation(alice, bob)
    writer, reader = connect(world, alice, 0, clients), connect(world, bob, 1, clients)
    assert join(writer, room)["ok"] and join(reader, room)["ok"]
    assert reader.call("focus", {"room": room, "focused": True})["ok"]
    assert writer.send("while you look", room=room)["ok"]
    assert reader.call("focus", {"room": room, "focused": False})["ok"]
    for text in ("one", "two", "three"):
        assert writer.send(text, room=room)["ok"]
    received = world.push.wait_for(phone, 3)
    # Jobs run in order: had the first message notified, it would be here first.
    assert [n["count"] for n in received] == [1, 2, 3]
    assert received[0]["body"] == "one" and received[2]["body"] == "3 new messages"
    assert "while you look" not in world.bodies(phone)
    # Looking again clears the count.
    assert reader.call("focus", {"room": room, "focused": True})["ok"]
    assert reader.call("focus", {"room": room, "focused": False})["ok"]
    assert writer.send("four", room=room)["ok"]
    assert world.push.wait_for(phone, 4)[3]["count"] == 1


def test_mentions_levels_and_mutes_in_a_room(
    world: World, room_name: str, clients: list[ChatClient]
):
    alice, carol, dave = (world.stack.register(n) for n in ("Alice", "Carol", "Dave"))
    phone, _device = world.subscribe(carol)
    # Dave's phone tells the test when a message's job has run (one job per message).
    witness, _witness_device = world.subscribe(dave)
    for who in (carol, dave):
        visitor = connect(world, who, 1, clients)
        assert join(visitor, room_name)["ok"]  # a first join: mentions here reach them
        visitor.close()
    writer = connect(world, alice, 0, clients)
    assert join(writer, room_name)["ok"]
    assert writer.send("nobody is named here", room=room_name)["ok"]
    assert writer.send(f"@{carol.username} look at this", room=room_name)["ok"]
    (first,) = world.push.wait_for(phone, 1)
    assert first["title"] == f"{alice.username} mentioned you in #{room_name}"
    muted = world.setting(carol, room_name, mute_minutes=60)
    assert muted.ok and muted.json()["muted_until"]
    assert writer.send(f"@{carol.username} @{dave.username} while muted", room=room_name)["ok"]
    world.push.wait_for(witness, 1)
    assert world.setting(carol, room_name, mute_minutes=0, level="all").ok
    assert writer.send("everything now", room=room_name)["ok"]
    received = world.push.wait_for(phone, 2)
    assert [n["count"] for n in received] == [1, 2]
    assert received[1]["body"] == f"2 new messages in #{room_name}"
    assert world.setting(carol, room_name, level="none").ok
    listed = requests.get(
        f"{world.stack.api()}/notifications", headers=carol.headers, timeout=10
    ).json()["rooms"]
    assert [(r["room"], r["level"], r["muted_until"]) for r in listed] == [
        (room_name, "none", None)
    ]
    assert writer.send(f"@{carol.username} @{dave.username} nothing", room=room_name)["ok"]
    world.push.wait_for(witness, 2)
    assert len(phone.received) == 2


def test_a_blocked_author_never_notifies(world: World, room_name: str, clients: list[ChatClient]):
    alice, bob, dave = (world.stack.register(n) for n in ("Alice", "Bob", "Dave"))
    phone, _device = world.subscribe(bob)
    visitor = connect(world, bob, 0, clients)
    assert join(visitor, room_name)["ok"]
    visitor.close()
    blocked = requests.put(
        f"{world.stack.api()}/blocks/{alice.username}", headers=bob.headers, timeout=10
    )
    assert blocked.ok, blocked.text
    troll, friend = connect(world, alice, 0, clients), connect(world, dave, 1, clients)
    assert join(troll, room_name)["ok"] and join(friend, room_name)["ok"]
    assert troll.send(f"@{bob.username} hey", room=room_name)["ok"]
    assert friend.send(f"@{bob.username} hello", room=room_name)["ok"]
    world.push.wait_for(phone, 1)
    # Jobs run in order: the troll's would have come first.
    assert world.bodies(phone) == [f"@{bob.username} hello"]


def test_a_push_service_error_is_retried_without_duplicates(
    world: World, clients: list[ChatClient]
):
    alice, bob = world.stack.register("Alice"), world.stack.register("Bob")
    phone, device = world.subscribe(bob)
    phone.answers = [503]
    room = world.conversation(alice, bob)
    writer = connect(world, alice, 0, clients)
    assert join(writer, room)["ok"]
    assert writer.send("through a hiccup", room=room)["ok"]
    (notification,) = world.push.wait_for(phone, 1, timeout=20)
    assert notification["body"] == "through a hiccup"
    # The same send again (a retried job, another worker): claimed already, not sent.
    queue = Queue(world.queue, connection=world.stack.redis)
    job = queue.enqueue(SEND_JOB, device, {**notification}, f"{room}:{notification['message_id']}")
    wait_until(lambda: job.get_status(refresh=True) == "finished", 10, "the repeated send")
    assert job.return_value() == "duplicate"
    assert len(phone.received) == 1


def test_a_gone_subscription_is_removed(world: World, clients: list[ChatClient]):
    alice, bob = world.stack.register("Alice"), world.stack.register("Bob")
    phone, _device = world.subscribe(bob)
    phone.answers = [410]
    room = world.conversation(alice, bob)
    writer = connect(world, alice, 0, clients)
    assert join(writer, room)["ok"]
    assert writer.send("anyone?", room=room)["ok"]

    wait_until(lambda: world.devices(bob) == [], 15, "the gone subscription removed")


def test_devices_and_settings_need_their_owner(world: World):
    alice, bob = world.stack.register("Alice"), world.stack.register("Bob")
    _phone, device = world.subscribe(bob)
    nobody = Person("guest", None)
    api = world.stack.api()
    for method, path in (
        ("GET", "/push/devices"),
        ("POST", "/push/devices"),
        ("DELETE", f"/push/devices/{device}"),
        ("GET", "/notifications"),
        ("PUT", "/notifications/lobby"),
    ):
        answer = requests.request(
            method, f"{api}{path}", headers=nobody.headers, json={}, timeout=10
        )
        assert answer.status_code == 401, (method, path, answer.text)
    stolen = requests.delete(f"{api}/push/devices/{device}", headers=alice.headers, timeout=10)
    assert stolen.status_code == 404
    for bad in (
        {"kind": "webpush", "subscription": {"endpoint": "ftp://x", "keys": {}}},
        {"kind": "expo", "token": "nope"},
        {"kind": "fax"},
    ):
        answer = requests.post(f"{api}/push/devices", headers=alice.headers, json=bad, timeout=10)
        assert answer.status_code == 400 and answer.json()["code"] == "invalid_request"
    assert world.setting(alice, "lobby", level="loud").status_code == 400
    assert requests.delete(f"{api}/push/devices/{device}", headers=bob.headers, timeout=10).ok


def test_an_app_is_notified_through_expo_and_dead_tokens_go(
    world: World, clients: list[ChatClient]
):
    alice, bob, carol = (world.stack.register(n) for n in ("Alice", "Bob", "Carol"))
    token, _device = world.phone(bob)
    room = world.conversation(alice, bob)
    writer = connect(world, alice, 0, clients)
    assert join(writer, room)["ok"]
    assert writer.send("on your phone", room=room)["ok"]
    sent = [m for m in world.expo.wait_for(1) if m["to"] == token]
    assert len(sent) == 1
    (message,) = sent
    assert message["title"] == alice.username and message["body"] == "on your phone"
    assert message["data"] == {"room": room, "message_id": message["data"]["message_id"]}
    assert message["badge"] == 1 and message["priority"] == "high"
    # Refused at once: forgotten at once.
    dead, _ = world.phone(carol)
    world.expo.dead.add(dead)
    other = world.conversation(alice, carol)
    assert join(writer, other)["ok"]
    assert writer.send("hello?", room=other)["ok"]
    wait_until(lambda: world.devices(carol) == [], 15, "the refused token removed")
    # Taken, then a receipt says the app is gone: forgotten when the receipt is read.
    world.expo.gone_later.add(token)
    assert writer.send("still there?", room=room)["ok"]
    wait_until(lambda: world.devices(bob) == [], 20, "the token removed after its receipt")
    assert world.expo.receipt_requests


def test_outcomes_are_on_every_workers_metrics(world: World, clients: list[ChatClient]):
    alice, bob = world.stack.register("Alice"), world.stack.register("Bob")
    phone, _device = world.subscribe(bob)
    room = world.conversation(alice, bob)
    writer = connect(world, alice, 0, clients)
    assert join(writer, room)["ok"]
    assert writer.send("counted", room=room)["ok"]
    world.push.wait_for(phone, 1)

    def sent() -> float:
        text = requests.get(f"{world.stack.workers[1].url}/metrics", timeout=10).text
        for line in text.splitlines():
            if line.startswith('talkrooms_push_notifications_total{outcome="sent"}'):
                return float(line.split()[-1])
        return 0.0

    wait_until(lambda: sent() >= 1, 15, "sent notifications on /metrics")


def test_a_slow_push_service_delays_notifications_not_messages(
    world: World, clients: list[ChatClient]
):
    alice, bob = world.stack.register("Alice"), world.stack.register("Bob")
    phone, _device = world.subscribe(bob)
    phone.delay = 3.0
    room = world.conversation(alice, bob)
    writer = connect(world, alice, 0, clients)
    assert join(writer, room)["ok"]
    started = time.monotonic()
    for n in range(5):
        assert writer.send(f"quick {n}", room=room)["ok"]
    assert time.monotonic() - started < 2.0  # five acks while the push service stalls
    received = world.push.wait_for(phone, 5, timeout=40)
    assert [n["count"] for n in received] == [1, 2, 3, 4, 5]


def _payload(room: str, message_id: str) -> dict[str, Any]:
    return {
        "room": room,
        "title": "Alice",
        "body": message_id,
        "count": 1,
        "message_id": message_id,
    }


def test_two_rq_workers_send_each_notification_once(world: World):
    bob = world.stack.register("Bob")
    phone, device = world.subscribe(bob)
    phone.delay = 0.3  # each send is in flight while the other worker takes its twin
    second = world.start_rq_worker()
    try:
        queue = Queue(world.queue, connection=world.stack.redis)
        room = f"twins{uuid.uuid4().hex[:6]}"
        jobs = [
            queue.enqueue(SEND_JOB, device, _payload(room, str(n)), f"{room}:{n}")
            for n in range(6)
            for _twin in range(2)
        ]
        wait_until(
            lambda: all(job.get_status(refresh=True) == "finished" for job in jobs),
            30,
            "twelve sends on two workers",
        )
    finally:
        second.stop()
    assert sorted(n["body"] for n in phone.received) == [str(n) for n in range(6)]
    outcomes = sorted(str(job.return_value()) for job in jobs)
    assert outcomes == ["duplicate"] * 6 + ["sent"] * 6
    workers = {result.worker_name for job in jobs if (result := job.latest_result())}
    assert len(workers) == 2  # both workers took some


def _horse_sending_to(worker: RQWorkerProcess, port: int) -> psutil.Process:
    """The RQ worker's work horse with a connection open to the push service."""
    for child in psutil.Process(worker.pid).children(recursive=True):
        for connection in child.net_connections(kind="tcp"):
            if connection.raddr and connection.raddr.port == port:
                return child
    raise LookupError("no work horse is talking to the push service")


def test_a_send_cut_by_a_crash_is_sent_again_by_its_retry(world: World, clients: list[ChatClient]):
    """The work horse is killed after the push service took the push and before it
    answered: RQ retries the job under its own id, whose claim lets it send again. The
    device gets it twice with one tag and Topic, which replace rather than add up, and
    no other job could have sent it (docs/notifications.md)."""
    alice, bob = world.stack.register("Alice"), world.stack.register("Bob")
    phone, device = world.subscribe(bob)
    phone.hold = threading.Event()
    room = world.conversation(alice, bob)
    writer = connect(world, alice, 0, clients)
    assert join(writer, room)["ok"]
    try:
        assert writer.send("sent while the sender dies", room=room)["ok"]
        (first,) = world.push.wait_for(phone, 1, timeout=20)
        horse = _horse_sending_to(world.rq_worker, world.push.port)
        event = f"{room}:{first['message_id']}"
        # Meanwhile a duplicate job (another id) finds the send claimed, and sends nothing.
        queue = Queue(world.queue, connection=world.stack.redis)
        twin = queue.enqueue(SEND_JOB, device, {**first}, event)
        horse.kill()
        horse.wait(10)
    finally:
        phone.hold.set()
    received = world.push.wait_for(phone, 2, timeout=20)
    assert received[1]["message_id"] == first["message_id"]
    assert received[1]["tag"] == first["tag"]
    assert phone.headers[1]["topic"] == phone.headers[0]["topic"]
    wait_until(lambda: twin.get_status(refresh=True) == "finished", 15, "the duplicate job")
    assert twin.return_value() == "duplicate"
    again = queue.enqueue(SEND_JOB, device, {**first}, event)
    wait_until(lambda: again.get_status(refresh=True) == "finished", 15, "a send after it")
    assert again.return_value() == "duplicate"
    assert len(phone.received) == 2
    assert world.rq_worker.running()  # the worker itself lived on
