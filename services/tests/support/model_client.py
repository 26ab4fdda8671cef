"""A client that keeps the protocol's delivery promise, the way the web UI and the app do.

`ModelClient` is the real python-socketio client plus the client half of the delivery
guarantee in docs/protocol.md: it reconnects by itself, rejoins with its client_key,
fills every hole with `get_history since_id`, re-sends unacknowledged messages with the
same client_id, and keeps a "UI view" — messages by id, each shown once. The fault tests
run a hundred of these through nginx while workers and Redis die under them, then compare
every view with the stored history. Timestamps of each step feed the reported figures.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from typing import Any

import socketio

from tests.support.stack import RejoiningClient

RETRY_AFTER_SECONDS = 1.0


class ModelClient(RejoiningClient):
    """Rejoins, fills gaps, re-sends; `view` holds what a person would see."""

    def __init__(self, url: str, username: str, room: str, transports: list[str]) -> None:
        super().__init__(url, username, room, transports)
        self.lock = threading.RLock()
        self.view: dict[int, dict[str, Any]] = {}
        self.floor: int | None = None  # the first id this client may see (history start)
        self.pending: dict[str, float] = {}  # client_id -> last send time
        self.acked: dict[str, int] = {}  # client_id -> stored id
        self.refusals: list[dict[str, Any]] = []
        self.sent = 0
        self.filling = False
        self.fill_again = False
        self.timeline: list[tuple[str, float]] = []
        self.sio.on("room_joined", self._on_room_joined)
        self.sio.on("new_message", self._on_new_message)
        self.sio.on("disconnect", self._on_disconnect)

    # -- connection life -------------------------------------------------------------------

    def _note(self, what: str) -> None:
        with self.lock:
            self.timeline.append((what, time.monotonic()))

    def _on_disconnect(self, *reason: Any) -> None:
        self._note("disconnected")
        self._record("__disconnect__", reason)

    def _rejoin(self) -> None:
        self._note("connected")
        super()._rejoin()

    def _record(self, event: str, *args: Any) -> None:
        if event == "__joined__" and args and isinstance(args[0], dict) and args[0].get("ok"):
            self._note("joined")
            self.resend_pending()
        super()._record(event, *args)

    # -- receiving -------------------------------------------------------------------------

    def _merge(self, messages: list[dict[str, Any]]) -> None:
        with self.lock:
            for message in messages:
                self.view[int(message["id"])] = message

    def _on_room_joined(self, data: dict[str, Any]) -> None:
        messages = data.get("messages", [])
        with self.lock:
            if self.floor is None:
                self.floor = int(messages[0]["id"]) if messages else 1
        self._merge(messages)
        self.fill_gaps()

    def _on_new_message(self, message: dict[str, Any]) -> None:
        self._merge([message])
        if self.holes():
            self.fill_gaps()

    def last_contiguous(self) -> int:
        with self.lock:
            last = (self.floor or 1) - 1
            while last + 1 in self.view:
                last += 1
            return last

    def holes(self) -> list[int]:
        with self.lock:
            if not self.view or self.floor is None:
                return []
            top = max(self.view)
            return [i for i in range(self.floor, top) if i not in self.view]

    def fill_gaps(self) -> None:
        """get_history since the last id held without a hole, page after page."""
        with self.lock:
            if self.filling:
                self.fill_again = True
                return
            self.filling = True
            self.fill_again = False
        self._ask_page(self.last_contiguous())

    def _ask_page(self, since: int) -> None:
        payload = {"room": self.room, "since_id": since, "limit": 100}
        try:
            self.sio.emit("get_history", payload, callback=self._on_page)
        except socketio.exceptions.SocketIOError:
            with self.lock:
                self.filling = False  # the next join fills again

    def _on_page(self, page: Any) -> None:
        if not isinstance(page, dict) or not page.get("ok"):
            with self.lock:
                self.filling = False
            return
        self._merge(page["messages"])
        if page["has_more"] and page["messages"]:
            self._ask_page(int(page["messages"][-1]["id"]))
            return
        with self.lock:
            self.filling = False
            again = self.fill_again
        self._note("filled")
        if again or self.holes():
            self.fill_gaps()

    # -- sending ---------------------------------------------------------------------------

    def send_new(self) -> None:
        self.sent += 1
        client_id = f"{self.username}-{self.sent}-{uuid.uuid4().hex[:6]}"
        with self.lock:
            self.pending[client_id] = 0.0
        self._send(client_id)

    def _send(self, client_id: str) -> None:
        with self.lock:
            self.pending[client_id] = time.monotonic()
        payload = {"message": f"text of {client_id}", "client_id": client_id}
        with contextlib.suppress(socketio.exceptions.SocketIOError):
            self.sio.emit(
                "send_message", payload, callback=lambda ack: self._on_ack(client_id, ack)
            )

    def _on_ack(self, client_id: str, ack: Any) -> None:
        if isinstance(ack, dict) and ack.get("ok"):
            with self.lock:
                self.pending.pop(client_id, None)
                self.acked[client_id] = int(ack["message"]["id"])
            self._merge([ack["message"]])
        elif isinstance(ack, dict):
            with self.lock:
                self.refusals.append(ack)
                self.pending[client_id] = time.monotonic()  # retried after a while

    def resend_pending(self) -> None:
        with self.lock:
            waiting = list(self.pending)
        for client_id in waiting:
            self._send(client_id)

    def retry_due(self) -> None:
        now = time.monotonic()
        with self.lock:
            due = [cid for cid, at in self.pending.items() if now - at >= RETRY_AFTER_SECONDS]
        for client_id in due:
            self._send(client_id)

    def unacked(self) -> int:
        with self.lock:
            return len(self.pending)

    # -- figures ---------------------------------------------------------------------------

    def first_after(self, what: str, moment: float) -> float | None:
        with self.lock:
            return next((t for name, t in self.timeline if name == what and t >= moment), None)

    def view_ids(self) -> list[int]:
        with self.lock:
            return sorted(self.view)
