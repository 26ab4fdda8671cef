"""Hostile input through nginx: fuzzed events keep the workers alive and their memory flat,
and every size limit refuses only the one who broke it.

test_malformed.py and test_limits.py cover the same ground against a worker directly;
here everything goes through nginx (2 workers), as a real client's packets do.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import websocket

from talkrooms.protocol import ROOM_ERROR, USERNAME_ERROR
from tests.reliability.figures import report
from tests.support.abuse import rss_kb, worker_process, ws_connect
from tests.support.client import ChatClient
from tests.support.processes import wait_until
from tests.support.stack import Cluster

pytestmark = pytest.mark.integration

EVENTS = ("join_room", "leave_room", "send_message", "typing", "get_history")
FIELDS = {
    "join_room": ("username", "room", "client_key"),
    "leave_room": (),
    "send_message": ("message", "client_id"),
    "typing": ("is_typing",),
    "get_history": ("room", "before_id", "since_id", "limit"),
}
ERROR_CODES = {"invalid", "not_in_room", "name_taken", "rate_limited", "unavailable"}
# Acks of the fuzzed events use ids from here on, so garbage frames that happen to carry
# an ack id of their own are told apart.
FUZZ_ACK_BASE = 1_000_000
FRAMES = 10_000
WARM_UP_FRAMES = 2_000
# A worker's RSS moves by 1-2 MB on its own (pymalloc arenas, greenlet stacks, the log
# and metric buffers). A leak of 500 bytes per bad frame - any dict or string kept per
# packet - would add 5 MB over 10,000 frames: above this bound.
RSS_GROWTH_BOUND_KB = 5 * 1024
GOODBYES = ("1", "41")  # Engine.IO CLOSE and Socket.IO DISCONNECT end a session by design


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    stack = Cluster(tmp_path_factory.mktemp("abuse-input"), workers=2).start()
    yield stack
    stack.stop()


# -- the fuzzer ---------------------------------------------------------------------------


def odd_value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of any type: what a field should never hold, now and then what it should."""
    choices: list[Any] = [
        None,
        True,
        False,
        0,
        -1,
        2**63,
        -(2**70),
        1.5,
        float("1e308"),
        "",
        " ",
        "x" * rng.choice((1, 31, 32, 33, 2000, 2001, 3000)),
        "ünï😀\u202e\u200d",
        "\u0000\u0001",
        "000000000001",
        "general",
        "../../etc/passwd",
        "<script>window.__xss=1</script>",
    ]
    if depth < 3:
        choices += [
            [odd_value(rng, depth + 1) for _ in range(rng.randint(0, 3))],
            {f"k{i}": odd_value(rng, depth + 1) for i in range(rng.randint(0, 3))},
        ]
    return rng.choice(choices)


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


def fuzz_payload(rng: random.Random, event: str) -> Any:
    """Wrong types, missing fields, extra fields, or the right shape with bad values."""
    roll = rng.random()
    if roll < 0.15:
        return odd_value(rng)  # not an object at all
    if roll < 0.2:
        return {"nested": nested(rng.choice((10, 100, 400)))}
    payload: dict[str, Any] = {}
    for field in FIELDS[event]:
        if rng.random() < 0.7:  # sometimes missing
            payload[field] = odd_value(rng)
    for extra in range(rng.randint(0, 2)):
        payload[f"extra{extra}"] = odd_value(rng)
    return payload


def fuzz_event(rng: random.Random, ack_id: int | None) -> str:
    """One Socket.IO EVENT packet (Engine.IO MESSAGE) for one of the five events, or an
    unknown or reserved name, with 0-2 arguments."""
    roll = rng.random()
    if roll < 0.9:
        name: Any = rng.choice(EVENTS)
    elif roll < 0.95:
        name = rng.choice(("unknown", "JOIN_ROOM", "join_room ", "", "connect", "disconnect"))
    else:
        name = odd_value(rng)
    prefix = "42" if ack_id is None else f"42{ack_id}"
    while True:
        args: list[Any] = [name]
        count = rng.choice((0, 1, 1, 1, 2))
        args += [
            fuzz_payload(rng, name if isinstance(name, str) and name in FIELDS else "join_room")
            for _ in range(count)
        ]
        frame = prefix + json.dumps(args)
        # Below MAX_PACKET_BYTES: an oversize packet ends the connection (tested below).
        if len(frame.encode()) < 60_000:
            return frame


def garbage(rng: random.Random) -> str:
    """A random frame, like test_malformed's, minus a well-formed goodbye."""
    alphabet = '0123456789[]{}",:/-abcdefghijklmnopqrstuvwxyz\\ '
    while True:
        prefix = rng.choice(["4", "42", "43", "45-", "40", "", "2", "3", "6"])
        frame = prefix + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        if not frame.startswith(GOODBYES):
            return frame


class Answers:
    """Everything the server sent back on one socket, read by a thread of its own."""

    def __init__(self, ws: websocket.WebSocket) -> None:
        self.ws = ws
        self.acks: dict[int, Any] = {}
        self.errors: list[Any] = []
        self.other: Counter[str] = Counter()
        self.closed = False
        self._lock = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while True:
                frame = self.ws.recv()
                if frame == "2":
                    self.ws.send("3")
                    continue
                self._record(frame)
        except (websocket.WebSocketException, OSError):
            with self._lock:
                self.closed = True
                self._lock.notify_all()

    def _record(self, frame: Any) -> None:
        with self._lock:
            if isinstance(frame, str) and frame.startswith("43"):
                digits = frame[2:].split("[", 1)[0]
                self.acks[int(digits)] = json.loads(frame[2 + len(digits) :])
            elif isinstance(frame, str) and frame.startswith('42["error",'):
                self.errors.append(json.loads(frame[2:])[1])
            else:
                self.other[str(frame)[:2]] += 1
            self._lock.notify_all()

    def wait_acks(self, ids: set[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not ids <= self.acks.keys():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    missing = sorted(ids - self.acks.keys())
                    raise AssertionError(f"{len(missing)} acks missing, e.g. {missing[:5]}")
                self._lock.wait(remaining)


def classify(ack: Any) -> str:
    """An ack is an answer (ok), a clear error, or empty (an event without an ack)."""
    if ack == []:
        return "empty"
    assert isinstance(ack, list) and len(ack) == 1 and isinstance(ack[0], dict), ack
    body = ack[0]
    if body.get("ok") is True:
        return "ok"
    assert body.get("ok") is False, body
    assert isinstance(body.get("error"), str) and body["error"], body
    assert body.get("code") in ERROR_CODES, body
    return "error"


def open_fuzz_socket(cluster: Cluster) -> tuple[websocket.WebSocket, Answers]:
    ws = ws_connect(cluster.url)
    assert ws.recv().startswith("0{")
    ws.send("40")
    # The `connected` event may come before the CONNECT packet (see test_conformance.py).
    frames = [ws.recv(), ws.recv()]
    assert any(f.startswith("40{") for f in frames), frames
    return ws, Answers(ws)


def send_fuzz(
    ws: websocket.WebSocket, rng: random.Random, count: int, first_ack: int
) -> tuple[dict[int, str], Counter[str]]:
    """`count` frames: 70 % fuzzed events (half of them asking for an ack), 30 % garbage.
    Returns the frames that asked for an ack (by ack id) and the frame kinds sent."""
    asked: dict[int, str] = {}
    kinds: Counter[str] = Counter()
    ack_id = first_ack
    for _ in range(count):
        if rng.random() < 0.3:
            ws.send(garbage(rng))
            kinds["garbage"] += 1
            continue
        wants_ack = rng.random() < 0.5
        frame = fuzz_event(rng, ack_id if wants_ack else None)
        ws.send(frame)
        kinds["event"] += 1
        if wants_ack:
            asked[ack_id] = frame
            ack_id += 1
    return asked, kinds


def sync(ws: websocket.WebSocket, answers: Answers, ack_id: int) -> None:
    """Every frame sent before has been handled once this ack is back (packets of one
    socket are handled in order: async_handlers=False)."""
    ws.send(f'42{ack_id}["get_history",{{"room":"sync"}}]')
    answers.wait_acks({ack_id}, timeout=30)


def test_ten_thousand_fuzzed_frames_through_nginx_keep_memory_flat(cluster: Cluster) -> None:
    processes = [worker_process(worker) for worker in cluster.workers]
    pids = [p.pid for p in processes]
    ws, answers = open_fuzz_socket(cluster)
    try:
        # Warm-up: first use of every code path allocates (imports, caches, metric labels).
        send_fuzz(ws, random.Random(1), WARM_UP_FRAMES, FUZZ_ACK_BASE)
        sync(ws, answers, FUZZ_ACK_BASE - 1)
        before = [rss_kb(p) for p in processes]

        started = time.monotonic()
        first = FUZZ_ACK_BASE + 100_000
        asked, kinds = send_fuzz(ws, random.Random(20261125), FRAMES, first)
        sync(ws, answers, FUZZ_ACK_BASE - 2)
        # send_message acks leave after the Redis pipeline: give the last ones a moment.
        try:
            answers.wait_acks(set(asked), timeout=15)
        except AssertionError as error:
            unanswered = [asked[i] for i in sorted(set(asked) - answers.acks.keys())[:5]]
            raise AssertionError(f"{error}; unanswered frames: {unanswered}") from None
        elapsed = time.monotonic() - started
        after = [rss_kb(p) for p in processes]

        outcomes = Counter(classify(answers.acks[i]) for i in asked)
        for error in answers.errors:
            assert isinstance(error.get("message"), str) and error["message"], error
            assert error.get("code") in ERROR_CODES, error
        assert not answers.closed, "the fuzzing socket was closed by the server"
    finally:
        ws.close()

    growth = [a - b for a, b in zip(after, before, strict=True)]
    health = [requests.get(f"{w.url}/api/health", timeout=5).status_code for w in cluster.workers]
    figures = {
        "frames": FRAMES,
        "frames_by_kind": dict(kinds),
        "acks_asked": len(asked),
        "acks_by_outcome": dict(outcomes),
        "error_events": len(answers.errors),
        "seconds": round(elapsed, 2),
        "worker_rss_kb_before": before,
        "worker_rss_kb_after": after,
        "worker_rss_growth_kb": growth,
        "worker_pids_unchanged": [worker_process(w).pid for w in cluster.workers] == pids,
        "health": health,
    }
    report("abuse-fuzz-websocket", figures)
    # No silence: every event that asked for an ack got one, ok or a clear error (an
    # `error` event instead would leave socket.io-client waiting for the ack forever).
    assert outcomes["error"] > 0.5 * len(asked), outcomes
    assert figures["worker_pids_unchanged"], "a worker process was replaced: it crashed"
    assert health == [200, 200]
    assert max(growth) < RSS_GROWTH_BOUND_KB, growth
    # And the worker still serves people.
    client = ChatClient(cluster.url).connect()
    try:
        assert client.join("after-fuzz", "after-fuzz")["ok"] is True
    finally:
        client.close()


def test_fuzzed_events_in_polling_payloads_are_answered(cluster: Cluster) -> None:
    """The same events in long-polling payloads (several packets per POST, \\x1e-separated)."""
    rng = random.Random(7)
    session = requests.Session()
    base = f"{cluster.url}/socket.io/?EIO=4&transport=polling"
    opening = session.get(base, timeout=5)
    sid = json.loads(opening.text[1:])["sid"]
    url = f"{base}&sid={sid}"
    assert session.post(url, data="40", timeout=5).text == "OK"
    acks: dict[int, Any] = {}
    asked: set[int] = set()
    ack_id = FUZZ_ACK_BASE
    statuses: Counter[int] = Counter()

    def drain() -> None:
        poll = session.get(url, timeout=30)
        statuses[poll.status_code] += 1
        for packet in poll.text.split("\x1e"):
            if packet == "2":
                session.post(url, data="3", timeout=5)
            elif packet.startswith("43"):
                digits = packet[2:].split("[", 1)[0]
                acks[int(digits)] = json.loads(packet[2 + len(digits) :])

    drain()  # the CONNECT answer
    for _ in range(100):
        batch = []
        for _ in range(10):
            batch.append(fuzz_event(rng, ack_id))
            asked.add(ack_id)
            ack_id += 1
        statuses[session.post(url, data="\x1e".join(batch), timeout=5).status_code] += 1
        drain()
    deadline = time.monotonic() + 15
    while not asked <= acks.keys() and time.monotonic() < deadline:
        drain()
    outcomes = Counter(classify(acks[i]) for i in asked if i in acks)
    report(
        "abuse-fuzz-polling",
        {"frames": len(asked), "acks": len(acks), "by_outcome": dict(outcomes), "http": statuses},
    )
    assert asked <= acks.keys(), f"{len(asked - acks.keys())} events got no answer"
    assert set(statuses) == {200}, statuses
    assert outcomes["error"] > 0.5 * len(asked), outcomes


@pytest.mark.parametrize(
    ("frame", "code", "error"),
    [
        ('4217[5, {"room": "x"}]', "invalid", "Malformed event: expected [name, payload]"),
        ('4217["disconnect", {}]', "invalid", "'disconnect' is reserved and cannot be sent"),
        # Extra arguments are ignored, like unknown fields: the event itself is answered.
        (
            '4217["typing", {"is_typing": true}, {"x": 1}]',
            "not_in_room",
            "Join a room before typing",
        ),
        ('4217["leave_room", {}, {}, {}]', "not_in_room", "You are not in a room"),
    ],
)
def test_a_refused_event_that_asked_for_an_ack_gets_its_error_as_the_ack(
    cluster: Cluster, frame: str, code: str, error: str
) -> None:
    ws = ws_connect(cluster.url)
    try:
        assert ws.recv().startswith("0{")
        answers = Answers(ws)
        ws.send("40")
        ws.send(frame)
        answers.wait_acks({17}, timeout=10)
        assert answers.acks[17] == [{"ok": False, "code": code, "error": error}]
        assert answers.errors == []
    finally:
        ws.close()


# -- size limits through nginx ------------------------------------------------------------


@pytest.fixture
def people(cluster: Cluster, room_name: str) -> Iterator[list[ChatClient]]:
    """Four people in one room, on both workers, both transports: the bystanders."""
    clients = []
    for i, transports in enumerate((["websocket"], ["polling"], ["websocket"], ["polling"])):
        client = ChatClient(cluster.url, transports=transports).connect()
        clients.append(client)
        assert client.join(f"bystander{i}", room_name)["ok"]
    yield clients
    for client in clients:
        client.close()


def everyone_still_chats(people: list[ChatClient], text: str) -> None:
    ack = people[0].send(text)
    assert ack["ok"] is True, ack
    for person in people:
        person.wait_for("new_message", lambda m: m["message"] == text, timeout=10)
    assert all(p.sio.connected for p in people)


def both_workers_take_new_sessions(cluster: Cluster) -> None:
    """nginx marked no worker down: fresh handshakes land on each of them."""
    seen = set()
    for _ in range(8):
        session = requests.Session()
        handshake = session.get(f"{cluster.url}/socket.io/?EIO=4&transport=polling", timeout=5)
        assert handshake.status_code == 200
        seen.add(session.cookies.get("talkrooms_worker"))
    assert seen == {"w1", "w2"}


def nginx_statuses(cluster: Cluster, since: int) -> Counter[str]:
    return Counter(e["status"] for e in cluster.nginx.access_entries()[since:])


def test_an_oversize_websocket_message_closes_only_its_connection(
    cluster: Cluster, people: list[ChatClient], room_name: str
) -> None:
    since = len(cluster.nginx.access_entries())
    pids = [worker_process(w).pid for w in cluster.workers]
    big = ChatClient(cluster.url, transports=["websocket"]).connect()
    try:
        assert big.join("big", room_name)["ok"]
        started = time.monotonic()
        big.emit("send_message", {"message": "x" * (70 * 1024)})
        big.wait_for("__disconnect__", timeout=10)
        closed_after = time.monotonic() - started
    finally:
        big.close()
    everyone_still_chats(people, "still here after the big one")
    both_workers_take_new_sessions(cluster)
    statuses = nginx_statuses(cluster, since)
    report(
        "abuse-oversize-websocket",
        {"message_bytes": 70 * 1024, "closed_after_s": round(closed_after, 3), "nginx": statuses},
    )
    assert "502" not in statuses and "504" not in statuses, statuses
    assert [worker_process(w).pid for w in cluster.workers] == pids


def test_an_oversize_polling_post_is_refused_by_nginx_with_413(
    cluster: Cluster, people: list[ChatClient], room_name: str
) -> None:
    """nginx answers 413 itself (client_max_body_size = MAX_PACKET_BYTES): the worker never
    reads the upload, and the session that sent it is not even closed."""
    since = len(cluster.nginx.access_entries())
    session = requests.Session()
    base = f"{cluster.url}/socket.io/?EIO=4&transport=polling"
    sid = json.loads(session.get(base, timeout=5).text[1:])["sid"]
    url = f"{base}&sid={sid}"
    assert session.post(url, data="40", timeout=5).status_code == 200
    join = "420" + json.dumps(["join_room", {"username": "bigpoll", "room": room_name}])
    assert session.post(url, data=join, timeout=5).status_code == 200
    big = "42" + json.dumps(["send_message", {"message": "y" * (70 * 1024)}])
    refused = session.post(url, data=big, timeout=5)
    assert refused.status_code == 413
    # The session goes on: its next packet is taken and answered.
    assert session.post(url, data='421["get_history",{"room":"x"}]', timeout=5).status_code == 200
    answers = ""
    deadline = time.monotonic() + 10
    while "431[" not in answers and time.monotonic() < deadline:
        answers += session.get(url, timeout=30).text
    assert "431[" in answers, answers
    everyone_still_chats(people, "still here after the big post")
    both_workers_take_new_sessions(cluster)
    statuses = nginx_statuses(cluster, since)
    report("abuse-oversize-polling", {"message_bytes": 70 * 1024, "nginx": statuses})
    assert statuses["413"] == 1, statuses
    assert "502" not in statuses and "504" not in statuses, statuses


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]])
def test_text_name_and_room_limits_hold_through_nginx(
    cluster: Cluster, room_name: str, transports: list[str]
) -> None:
    client = ChatClient(cluster.url, transports=transports).connect()
    try:
        long_name = client.join("n" * 33, room_name)
        assert long_name == {"ok": False, "code": "invalid", "error": USERNAME_ERROR}
        long_room = client.join("roomtester", "r" * 33)
        assert long_room == {"ok": False, "code": "invalid", "error": ROOM_ERROR}
        room = (room_name + "r" * 32)[:32]
        joined = client.join("n" * 32, room)
        assert joined["ok"] is True and joined["room"] == room
        assert client.send("m" * 2000)["ok"] is True
        refused = client.send("m" * 2001)
        assert refused == {
            "ok": False,
            "code": "invalid",
            "error": "Message must be 1-2000 characters",
        }
        wait_until(lambda: client.sio.connected, 1, "still connected")
    finally:
        client.close()
