"""A local stand-in for a Web Push service (the FCM or Mozilla autopush a browser would
use), checking what a real one checks: a VAPID JWT signed with the key the request names,
for this service's origin, not expired, with a contact; an aes128gcm body. It decrypts
every notification with the subscription's own keys, as the browser would, so a test
reads exactly what a person would see.

Each `subscribe()` plays a browser: a P-256 key pair and an auth secret, an endpoint on
this server. `answers` queues the statuses to give (503 to make the sender retry, 410 to
say the subscription is gone); the default is 201.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.local_http import LocalHTTPService


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscription:
    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    # Seconds this subscription's push service takes to answer (a slow service).
    delay: float = 0.0
    # Set to an unset Event: each push is taken (received) and its answer waits for the
    # event — a send in flight, for a test to crash the sender under.
    hold: threading.Event | None = None

    def as_json(self) -> dict[str, Any]:
        """PushSubscription.toJSON(), as a browser gives it."""
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


class PushService(LocalHTTPService):
    def __init__(self) -> None:
        super().__init__()
        self.subscriptions: dict[str, Subscription] = {}
        self.refused: list[str] = []
        self.vapid_keys: set[str] = set()
        self._changed = threading.Condition()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PushService:
        self.start_serving()
        return self

    def handle(self, path: str, headers: Any, body: bytes) -> tuple[int, bytes, str]:
        status, note = self.receive(path, headers, body)
        if note:
            self.refused.append(note)
        return status, b"", "text/plain"

    def subscribe(self) -> Subscription:
        sub_id = b64url(os.urandom(9))
        subscription = Subscription(
            sub_id,
            f"{self.origin}/push/{sub_id}",
            ec.generate_private_key(ec.SECP256R1()),
            os.urandom(16),
        )
        self.subscriptions[sub_id] = subscription
        return subscription

    # -- what a push service checks -----------------------------------------------------------

    def receive(self, path: str, headers: Any, body: bytes) -> tuple[int, str]:
        subscription = self.subscriptions.get(path.rsplit("/", 1)[-1])
        if subscription is None:
            return 404, "unknown subscription"
        problem = self._check_vapid(headers.get("Authorization", ""))
        if problem:
            return 401, problem
        if headers.get("Content-Encoding") != "aes128gcm" or "TTL" not in headers:
            return 400, "not aes128gcm, or no TTL"
        if subscription.delay:
            time.sleep(subscription.delay)  # a slow push service, on its own thread
        if subscription.answers:
            status = subscription.answers.pop(0)
            if status >= 300:
                return status, ""
        try:
            clear = http_ece.decrypt(
                body,
                private_key=subscription.private_key,
                auth_secret=subscription.auth,
                version="aes128gcm",
            )
        except Exception as exc:  # a real service cannot tell; the browser would drop it
            return 400, f"undecryptable: {exc}"
        with self._changed:
            subscription.received.append(json.loads(clear))
            subscription.headers.append({k.lower(): v for k, v in headers.items()})
            self._changed.notify_all()
        if subscription.hold is not None:
            subscription.hold.wait(30)
        return 201, ""

    def _check_vapid(self, header: str) -> str:
        parts = dict(
            item.strip().split("=", 1)
            for item in header.removeprefix("vapid ").split(",")
            if "=" in item
        )
        if not header.startswith("vapid ") or "t" not in parts or "k" not in parts:
            return "no VAPID authorization"
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), unb64url(parts["k"])
            )
            claims = jwt.decode(parts["t"], public, algorithms=["ES256"], audience=self.origin)
        except Exception as exc:
            return f"bad VAPID token: {exc}"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            return "VAPID sub is not a contact"
        if int(claims["exp"]) > time.time() + 24 * 3600:
            return "VAPID token lives longer than 24 h"
        self.vapid_keys.add(parts["k"])
        return ""

    def wait_for(self, subscription: Subscription, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(subscription.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    got = len(subscription.received)
                    raise TimeoutError(f"{got}/{count} notifications; refused: {self.refused}")
                self._changed.wait(remaining)
            return list(subscription.received)
