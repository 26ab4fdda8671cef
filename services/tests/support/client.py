"""A real python-socketio client that records every event, for assertions with timeouts."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import socketio


class ChatClient:
    """Connects to a worker (or nginx) and remembers every event it receives, in order."""

    def __init__(
        self,
        url: str,
        transports: list[str] | None = None,
        headers: dict[str, str] | None = None,
        reconnection: bool = False,
        http_session: Any = None,
        auth: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.auth = auth
        self.sio = socketio.Client(
            reconnection=reconnection, request_timeout=5, http_session=http_session
        )
        self.events: list[tuple[str, Any]] = []
        self._changed = threading.Condition()
        self.sio.on("*", self._record)
        self.sio.on("connect", lambda: self._record("__connect__", None))
        self.sio.on("disconnect", lambda *reason: self._record("__disconnect__", reason))
        self.transports = transports or ["websocket"]
        self.headers = headers or {}
        self.client_key = uuid.uuid4().hex

    def _record(self, event: str, *args: Any) -> None:
        with self._changed:
            self.events.append((event, args[0] if len(args) == 1 else args))
            self._changed.notify_all()

    def connect(self) -> ChatClient:
        self.sio.connect(
            self.url,
            transports=self.transports,
            headers=self.headers,
            wait_timeout=10,
            auth=self.auth,
        )
        return self

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()

    @property
    def sid(self) -> str | None:
        return self.sio.get_sid()

    def call(self, event: str, data: Any = None, timeout: float = 5.0) -> Any:
        """Emit with an ack and return the ack's payload."""
        return self.sio.call(event, data, timeout=timeout)

    def emit(self, event: str, data: Any = None) -> None:
        self.sio.emit(event, data)

    def join(self, username: str, room: str, keyed: bool = True) -> dict[str, Any]:
        payload: dict[str, Any] = {"username": username, "room": room}
        if keyed:
            payload["client_key"] = self.client_key
        return self.call("join_room", payload)

    def send(self, text: str, client_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """send_message; protocol 2 fields (room, reply_to) as keyword arguments."""
        payload: dict[str, Any] = {"message": text, **fields}
        if client_id is not None:
            payload["client_id"] = client_id
        return self.call("send_message", payload)

    def received(self, event: str) -> list[Any]:
        with self._changed:
            return [data for name, data in self.events if name == event]

    def wait_for(
        self,
        event: str,
        predicate: Callable[[Any], bool] | None = None,
        timeout: float = 5.0,
        after: int = 0,
    ) -> Any:
        """The first `event` (after index `after`) matching `predicate`; fails on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for name, data in self.events[after:]:
                    if name == event and (predicate is None or predicate(data)):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [name for name, _ in self.events]
                    raise TimeoutError(f"no {event!r} within {timeout}s; saw {seen}")
                self._changed.wait(remaining)

    def wait_count(
        self,
        event: str,
        count: int,
        timeout: float = 5.0,
        predicate: Callable[[Any], bool] | None = None,
    ) -> list[Any]:
        """Wait until at least `count` matching events arrived; returns them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    d for n, d in self.events if n == event and (predicate is None or predicate(d))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(found)}/{count} {event!r} within {timeout}s")
                self._changed.wait(remaining)

    def mark(self) -> int:
        """An index into the event log, for `wait_for(after=...)`."""
        with self._changed:
            return len(self.events)

    def assert_no(
        self,
        event: str,
        predicate: Callable[[Any], bool] | None = None,
        within: float = 0.5,
        after: int = 0,
    ) -> None:
        """Nothing matching arrives within `within` seconds (a bounded negative check)."""
        try:
            data = self.wait_for(event, predicate, timeout=within, after=after)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {event!r}: {data!r}")
