"""Sending one notification to one device through its push service.

Expo: the app's push token goes to Expo's push service (exponent-server-sdk; the
service's address is EXPO_PUSH_URL, so tests use a local stand-in). Expo answers with a
ticket at once and tells later, in a receipt, whether the phone's platform took it:
`check_receipts` reads those and forgets devices that are no longer registered.

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
from exponent_server_sdk import (
    DeviceNotRegisteredError,
    MessageRateExceededError,
    PushClient,
    PushMessage,
    PushServerError,
    PushTicket,
    PushTicketError,
)
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


def _expo_client(settings: Settings) -> PushClient:
    base = settings.expo_push_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    host, _, path = rest.partition("/")
    session = requests.Session()
    session.headers.update({"accept": "application/json", "content-type": "application/json"})
    if settings.expo_access_token:
        session.headers["Authorization"] = f"Bearer {settings.expo_access_token}"
    return PushClient(
        host=f"{scheme}://{host}",
        api_url=f"/{path}",
        session=session,
        timeout=settings.push_timeout_seconds,
    )


def send_expo(settings: Settings, device: PushDevice, notification: Notification) -> str:
    """One notification to an app; the ticket id, for its receipt."""
    message = PushMessage(
        to=device.address,
        data={k: v for k, v in notification.as_json().items() if k in ("room", "message_id")},
        title=notification.title,
        body=notification.body,
        sound="default",
        ttl=settings.push_ttl_seconds,
        expiration=None,
        priority="high",
        badge=notification.count,
        category=None,
        display_in_foreground=None,
        channel_id="messages",
        subtitle=None,
        mutable_content=None,
    )
    try:
        ticket = _expo_client(settings).publish(message)
        ticket.validate_response()
    except DeviceNotRegisteredError as exc:
        raise DeviceGone("DeviceNotRegistered") from exc
    except MessageRateExceededError as exc:
        raise TryLater("MessageRateExceeded") from exc
    except PushTicketError as exc:
        raise Refused(exc.message) from exc
    except PushServerError as exc:
        status = exc.response.status_code if exc.response is not None else 500
        if status == 429 or status >= 500:
            raise TryLater(str(status)) from exc
        raise Refused(str(status)) from exc
    except requests.RequestException as exc:
        raise TryLater(type(exc).__name__) from exc
    return str(ticket.id)


def expo_receipts_gone(settings: Settings, ticket_ids: list[str]) -> set[str]:
    """The tickets whose receipt says the device is no longer registered."""
    tickets = [PushTicket(None, "ok", "", None, ticket_id) for ticket_id in ticket_ids]
    gone = set()
    for receipt in _expo_client(settings).check_receipts_multiple(tickets):
        try:
            receipt.validate_response()
        except DeviceNotRegisteredError:
            gone.add(receipt.id)
        except PushTicketError:
            continue  # refused for another reason: nothing to do for this device
    return gone
