"""A local stand-in for Expo's push service (exp.host/--/api/v2): it checks each request
the way Expo does (a list of messages, each to an `ExponentPushToken[...]`, text fields
as text, a `data` object, a known priority, at most 4 KB), answers tickets, and later
receipts. Tokens in `dead` are refused at once (DeviceNotRegistered); tokens in
`gone_later` get an ok ticket and a DeviceNotRegistered receipt, as a phone that
uninstalled the app does.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any

from tests.support.local_http import LocalHTTPService

TOKEN = re.compile(r"^ExponentPushToken\[[A-Za-z0-9_-]+\]$")
NOT_REGISTERED = {
    "status": "error",
    "message": "not registered",
    "details": {"error": "DeviceNotRegistered"},
}


class ExpoService(LocalHTTPService):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.receipt_requests: list[list[str]] = []
        self.dead: set[str] = set()
        self.gone_later: set[str] = set()
        self._tickets: dict[str, str] = {}
        self._changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/--/api/v2"

    def start(self) -> ExpoService:
        self.start_serving()
        return self

    def handle(self, path: str, headers: Any, body: bytes) -> tuple[int, bytes, str]:
        status, answer = self.answer(path, body)
        return status, json.dumps(answer).encode(), "application/json"

    def answer(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            request = json.loads(body)
        except ValueError:
            return 400, {"errors": [{"code": "VALIDATION_ERROR", "message": "not JSON"}]}
        if path.endswith("/push/send"):
            return self._send(request)
        if path.endswith("/push/getReceipts"):
            ids = request.get("ids") if isinstance(request, dict) else None
            if not isinstance(ids, list):
                return 400, {"errors": [{"code": "VALIDATION_ERROR", "message": "ids"}]}
            with self._changed:
                self.receipt_requests.append(ids)
                self._changed.notify_all()
            data = {}
            for ticket in ids:
                token = self._tickets.get(ticket)
                if token is not None:
                    data[ticket] = NOT_REGISTERED if token in self.gone_later else {"status": "ok"}
            return 200, {"data": data}
        return 404, {"errors": [{"code": "NOT_FOUND", "message": path}]}

    def _send(self, request: Any) -> tuple[int, dict[str, Any]]:
        messages = request if isinstance(request, list) else [request]
        problems = [p for m in messages if (p := self._problem(m))]
        if problems:
            self.refused.extend(problems)
            return 400, {"errors": [{"code": "VALIDATION_ERROR", "message": problems[0]}]}
        tickets = []
        with self._changed:
            for message in messages:
                if message["to"] in self.dead:
                    tickets.append(NOT_REGISTERED)
                    continue
                ticket = str(uuid.uuid4())
                self._tickets[ticket] = message["to"]
                self.received.append(message)
                tickets.append({"status": "ok", "id": ticket})
            self._changed.notify_all()
        return 200, {"data": tickets}

    @staticmethod
    def _problem(message: Any) -> str:
        if not isinstance(message, dict) or not TOKEN.match(str(message.get("to", ""))):
            return "to is not an Expo push token"
        for field in ("title", "body", "sound", "channelId"):
            if field in message and not isinstance(message[field], str):
                return f"{field} is not text"
        if "data" in message and not isinstance(message["data"], dict):
            return "data is not an object"
        if message.get("priority", "default") not in ("default", "normal", "high"):
            return "unknown priority"
        if "badge" in message and not isinstance(message["badge"], int):
            return "badge is not a number"
        if len(json.dumps(message).encode()) > 4096:
            return "message too big"
        return ""

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self.received)}/{count}; refused {self.refused}")
                self._changed.wait(remaining)
            return list(self.received)
