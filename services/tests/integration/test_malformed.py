"""Malformed frames, wrong types and unknown events: answered or ignored, never a crash."""

from __future__ import annotations

import random

import pytest
import requests

from tests.support.raw import RawSocket

pytestmark = pytest.mark.integration

# Engine.IO CLOSE ("1…") and Socket.IO DISCONNECT of "/" ("41…") end the session by design.
GOODBYES = ("1", "41")

BAD_PACKETS = [
    "4x",  # Socket.IO packet type that is not a digit
    "42not json",
    "42{",
    '42{"not": "a list"}',
    "42[]",
    "42[1,2]",
    '42[null,{"a":1}]',
    '45-["send_message",{"_placeholder":true,"num":0}]',  # binary event
    "46-0[]",  # binary ack
    "47",  # unknown Socket.IO type
    "43999[]",  # ack for nothing
    "41/nowhere,",  # disconnect from a namespace never joined
    '42/nowhere,["join_room",{}]',
    '42["disconnect"]',
    '42["connect",{}]',
    "4" + "2" * 200 + "[]",  # an absurd ack id
]


@pytest.fixture
def raw(chat_worker):
    sockets: list[RawSocket] = []

    def _open(**kwargs) -> RawSocket:
        sock = RawSocket(chat_worker.url, **kwargs)
        sockets.append(sock)
        return sock

    yield _open
    for sock in sockets:
        sock.close()


@pytest.mark.parametrize("packet", BAD_PACKETS)
def test_a_bad_packet_does_not_cost_the_connection(raw, room_name, packet):
    sock = raw()
    sock.send_raw(packet)
    sock.emit("join_room", {"username": "survivor", "room": room_name}, ack_id=7)
    assert sock.ack(7)["ok"] is True
    assert sock.connected


def test_binary_frames_are_refused_with_an_error(raw):
    sock = raw()
    sock.send_raw(b"\x00\x01\x02")
    assert "Binary" in sock.event("error")["message"]


def test_wrong_types_in_every_event_get_clear_errors(raw, room_name):
    sock = raw()
    ack_id = 1
    for event in ("join_room", "leave_room", "send_message", "typing", "get_history"):
        for payload in (None, 5, "text", [1, 2], {"room": 5, "username": [], "message": {}}):
            sock.emit(event, payload, ack_id=ack_id)
            answer = sock.ack(ack_id)
            if answer is not None and answer != []:
                assert answer["ok"] is False and answer["error"], (event, payload, answer)
            ack_id += 1
    sock.emit("join_room", {"username": "fine", "room": room_name}, ack_id=ack_id)
    assert sock.ack(ack_id)["ok"] is True


def test_ten_thousand_random_frames_leave_the_worker_serving(raw, chat_worker, room_name):
    rng = random.Random(20261125)
    alphabet = '0123456789[]{}",:/-abcdefghijklmnopqrstuvwxyz\\ '
    sock = raw()
    sent = 0
    while sent < 10_000:
        length = rng.randint(0, 40)
        prefix = rng.choice(["4", "42", "43", "45-", "40", "", "2", "3", "6"])
        frame = prefix + "".join(rng.choice(alphabet) for _ in range(length))
        if frame.startswith(GOODBYES):
            continue  # a well-formed goodbye is not abuse: the server rightly hangs up
        sock.send_raw(frame)
        sent += 1
    healthy = requests.get(f"{chat_worker.url}/api/health", timeout=10)
    assert healthy.status_code == 200
    other = raw()
    other.emit("join_room", {"username": "after-fuzz", "room": room_name}, ack_id=1)
    assert other.ack(1)["ok"] is True
