"""Locust scenarios for TalkRooms: people chatting through nginx, and a few API readers.

Run headless with `make loadtest` (bounded) or open Locust's web UI with
`.venv/bin/locust -f loadtests/locustfile.py --host http://localhost:5000`.

What each chat user reports, as Locust request entries:
- `WS connect`, `join join_room`: connection and join times.
- `ack send_message`: send -> the server's ack (stored).
- `fanout new_message`: send time (carried in the text) -> delivered to each member.
- `delivery lost`: a failure for every message stored in a member's room while it was in
  the room that it never received (ids are contiguous per room, so a hole is a loss;
  holes still open at leave time are checked against the history, in-flight ones spared).

Environment knobs (all optional):
- LOCUST_ROOM_MIX   "size:count,…" rooms by target size, default "10:20" (20 rooms of 10)
- LOCUST_THINK_MIN / LOCUST_THINK_MAX   seconds between a user's actions (default 1 / 3)
- LOCUST_ROOM_PREFIX   room name prefix, default "load"
"""

from __future__ import annotations

import calendar
import os
import random
import threading
import time
import uuid
from typing import Any, ClassVar

import socketio
from locust import HttpUser, between, events, task
from locust.contrib.socketio import SocketIOUser

MARK = "lt="
IN_FLIGHT_GRACE_SECONDS = 10.0
AUDIT_MAX_PAGES = 5


class LostDelivery(Exception):
    """A message stored in the member's room that the member never received."""


def room_mix(spec: str) -> list[tuple[str, int]]:
    """'2:5,10:4' -> [(room name, target size)], 5 rooms of 2 and 4 rooms of 10."""
    prefix = os.environ.get("LOCUST_ROOM_PREFIX", "load")
    rooms = []
    for part in spec.split(","):
        size, count = (int(x) for x in part.split(":"))
        rooms += [(f"{prefix}-{size}-{i}", size) for i in range(count)]
    return rooms


ROOMS = room_mix(os.environ.get("LOCUST_ROOM_MIX", "10:20"))
THINK = between(
    float(os.environ.get("LOCUST_THINK_MIN", "1")), float(os.environ.get("LOCUST_THINK_MAX", "3"))
)


def pick_room() -> str:
    """A room chosen with probability proportional to its target size."""
    names = [name for name, _ in ROOMS]
    weights = [size for _, size in ROOMS]
    return random.choices(names, weights=weights, k=1)[0]


class DeliveryLedger:
    """Which message ids of its current room a member received, to find holes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.baseline: int | None = None
        self.seen: set[int] = set()
        self.highest = 0

    def reset(self) -> None:
        with self.lock:
            self.baseline, self.seen, self.highest = None, set(), 0

    def joined(self, history: list[dict[str, Any]]) -> None:
        last = max((int(m["id"]) for m in history), default=0)
        with self.lock:
            self.baseline = last
            self.highest = max(self.highest, last)

    def received(self, message_id: int) -> None:
        with self.lock:
            self.seen.add(message_id)
            self.highest = max(self.highest, message_id)

    def holes(self) -> list[int]:
        with self.lock:
            if self.baseline is None:
                return []
            return [i for i in range(self.baseline + 1, self.highest + 1) if i not in self.seen]

    def last_contiguous(self) -> int | None:
        with self.lock:
            if self.baseline is None:
                return None
            last = self.baseline
            while last + 1 in self.seen:
                last += 1
            return last


class ChatUser(SocketIOUser):
    """A person in one room: chats with think time, types, reads history, leaves, returns."""

    weight = 20
    wait_time = THINK
    options: ClassVar[dict[str, Any]] = {"reconnection": False, "request_timeout": 10}

    def on_start(self) -> None:
        self.username = f"u{uuid.uuid4().hex[:10]}"
        self.client_key = uuid.uuid4().hex
        self.room: str | None = None
        self.ledger = DeliveryLedger()
        self.sio.on("new_message", self.on_new_message)
        self.sio.on("room_joined", self.on_room_joined)
        base = self.host.rstrip("/")
        self.sio.connect(base, transports=["websocket"], wait_timeout=10)
        self.join(pick_room())

    def on_stop(self) -> None:
        self.audit_deliveries()
        self.sio.disconnect()

    # -- receiving -------------------------------------------------------------------------

    def on_room_joined(self, data: dict[str, Any]) -> None:
        self.ledger.joined(data.get("messages", []))

    def on_new_message(self, message: dict[str, Any]) -> None:
        if message.get("room") != self.room:
            return
        self.ledger.received(int(message["id"]))
        text = message.get("message", "")
        if text.startswith(MARK):
            sent_ms = int(text[len(MARK) : text.index(" ")])
            self.environment.events.request.fire(
                request_type="fanout",
                name="new_message",
                response_time=max(0.0, time.time() * 1000 - sent_ms),
                response_length=len(text),
                exception=None,
                context={},
            )

    # -- actions ---------------------------------------------------------------------------

    def call(self, event: str, data: Any) -> Any:
        """An acked emit, without the wrapper's extra WSC/WSE entries (we report our own)."""
        return socketio.Client.call(self.sio, event, data, timeout=10)

    def join(self, room: str) -> None:
        self.ledger.reset()
        # Live messages may arrive before the ack: they belong to the new room already.
        self.room = room
        with self.environment.events.request.measure("join", "join_room"):
            ack = self.call(
                "join_room",
                {"username": self.username, "room": room, "client_key": self.client_key},
            )
            if not ack or not ack.get("ok"):
                self.room = None
                raise RuntimeError(f"join refused: {ack}")

    @task(20)
    def send_message(self) -> None:
        text = f"{MARK}{int(time.time() * 1000)} hello from {self.username}"
        with self.environment.events.request.measure("ack", "send_message"):
            ack = self.call("send_message", {"message": text, "client_id": uuid.uuid4().hex})
            if not ack or not ack.get("ok"):
                raise RuntimeError(f"send refused: {ack}")

    @task(4)
    def type_a_little(self) -> None:
        socketio.Client.emit(self.sio, "typing", {"is_typing": True})

    @task(2)
    def read_history(self) -> None:
        with self.environment.events.request.measure("history", "get_history"):
            ack = self.call("get_history", {"room": self.room, "limit": 50})
            if not ack or not ack.get("ok"):
                raise RuntimeError(f"history refused: {ack}")

    @task(1)
    def leave_and_come_back(self) -> None:
        self.audit_deliveries()
        with self.environment.events.request.measure("leave", "leave_room"):
            self.call("leave_room", {})
        self.room = None
        self.join(pick_room())

    # -- loss accounting -------------------------------------------------------------------

    def audit_deliveries(self) -> None:
        """Report messages of the room stored since the member joined that never came.

        A message counts as lost once it is older than IN_FLIGHT_GRACE_SECONDS: younger
        ones may still be on their way (under overload the way takes seconds). Its age
        comes from the history; a hole already trimmed out of the history (rooms keep
        their newest 100) is at least as old as the oldest message kept."""
        if self.room is None or not self.sio.connected:
            return
        since = self.ledger.last_contiguous()
        if since is None:
            return
        holes = set(self.ledger.holes())
        cutoff = time.time() - IN_FLIGHT_GRACE_SECONDS
        stored: dict[int, float] = {}
        for _page in range(AUDIT_MAX_PAGES):
            try:
                page = self.call("get_history", {"room": self.room, "since_id": since})
            except Exception:
                return
            messages = (page or {}).get("messages", [])
            for message in messages:
                stored[int(message["id"])] = _epoch(message["timestamp"])
            if not messages or not page.get("has_more"):
                break
            since = int(messages[-1]["id"])
        oldest_kept = min(stored.values(), default=None)
        first_kept = min(stored, default=None)
        missing = []
        for message_id, at in stored.items():
            if message_id not in self.ledger.seen and at < cutoff:
                missing.append(message_id)
        for message_id in holes - stored.keys():
            trimmed = first_kept is not None and message_id < first_kept
            if trimmed and oldest_kept is not None and oldest_kept < cutoff:
                missing.append(message_id)
        for message_id in sorted(missing):
            self.environment.events.request.fire(
                request_type="delivery",
                name="lost",
                response_time=0,
                response_length=0,
                exception=LostDelivery(f"{self.room} #{message_id} never reached {self.username}"),
                context={},
            )


def _epoch(iso: str) -> float:
    """'2026-11-25T14:03:07.412Z' -> seconds since the epoch."""
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) + float(iso[19:-1])


class ApiReader(HttpUser):
    """An operator's dashboard and the login page's room list."""

    weight = 1
    wait_time = between(2, 5)

    @task(3)
    def rooms(self) -> None:
        self.client.get("/api/rooms", name="/api/rooms")

    @task(1)
    def stats(self) -> None:
        self.client.get("/api/stats", name="/api/stats")


@events.init_command_line_parser.add_listener
def _document_knobs(parser: Any) -> None:
    parser.epilog = "TalkRooms knobs: LOCUST_ROOM_MIX, LOCUST_THINK_MIN/MAX, LOCUST_ROOM_PREFIX"
