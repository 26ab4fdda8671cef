"""Sending one notification to one device through its push service.

Web Push: the payload is encrypted for the subscription (aes128gcm, RFC 8291) and the
request signed with the instance's VAPID key (pywebpush). `Topic` is the room, so a push
service holding several undelivered notifications of one room keeps only the newest, and
the service worker's `tag` does the same on screen. 404 and 410 mean the subscription is
gone; 429 and 5xx (and no answer) are worth a retry; other refusals are not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import requests
from pywebpush import WebPushException, webpush

from talkrooms.notify import vapid
from talkrooms.notify.models import PushDevice
from talkrooms.settings import Settings

_TOPIC_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class DeviceGone(Exception):
    """The push service no longer knows this device: forget it."""


class TryLater(Exception):
    """The push service is down, slow or busy: the job retries with backoff."""


class Refused(Exception):
    """The push service refused this notification for good."""


@dataclass(frozen=True)
class Notification:
    room: str
    title: str
    body: str
    count: int
    message_id: str

    def as_json(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "title": self.title,
            "body": self.body,
            "count": self.count,
            "message_id": self.message_id,
            "tag": f"room:{self.room}",
        }


def send_webpush(settings: Settings, device: PushDevice, notification: Notification) -> None:
    subscription = {
        "endpoint": device.address,
        "keys": {"p256dh": device.p256dh, "auth": device.auth},
    }
    try:
        webpush(
            subscription,
            json.dumps(notification.as_json(), ensure_ascii=False),
            vapid_private_key=vapid.signer(settings),
            vapid_claims={"sub": settings.vapid_subject},
            ttl=settings.push_ttl_seconds,
            timeout=settings.push_timeout_seconds,
            headers={"Topic": _TOPIC_UNSAFE.sub("-", notification.room)[:32], "Urgency": "high"},
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise DeviceGone(str(status)) from exc
        if status is None or status == 429 or status >= 500:
            raise TryLater(str(status)) from exc
        raise Refused(str(status)) from exc
    except requests.RequestException as exc:
        raise TryLater(type(exc).__name__) from exc
