"""/api/v1/push/… and /api/v1/notifications/…: an account's devices and its settings per
room (docs/notifications.md). Everything but the public key needs a Bearer token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, Field
from spectree import Response as Responses

from talkrooms.accounts.routes import BEARER, OkOut, answer_errors_as_json, bearer_account, errors
from talkrooms.notify import vapid
from talkrooms.notify.service import Notifications
from talkrooms.protocol.http_api import API_PREFIX, API_SPEC

NOTIFICATIONS = "talkrooms.notifications"
TAGS = ["notifications"]

notifications = Blueprint("notifications", __name__, url_prefix=API_PREFIX)
answer_errors_as_json(notifications)


class KeyOut(BaseModel):
    public_key: str = Field(description="VAPID application server key (base64url)")


class DeviceBody(BaseModel):
    kind: str = Field(description="webpush or expo")
    subscription: dict[str, Any] | None = Field(
        default=None, description="webpush: PushSubscription.toJSON()"
    )
    token: str | None = Field(default=None, description="expo: ExponentPushToken[...]")
    label: str | None = Field(default=None, max_length=100)


class DeviceOut(BaseModel):
    id: int
    kind: str
    label: str


class DevicesOut(BaseModel):
    devices: list[DeviceOut]


class RoomSettingBody(BaseModel):
    level: str | None = Field(default=None, description="all, mentions or none")
    mute_minutes: int | None = Field(default=None, description="0 lifts a mute")


class RoomSettingOut(BaseModel):
    room: str
    level: str = Field(description="the level in force: all, mentions or none")
    muted_until: str | None
    saved: bool = Field(description="false: the default of a conversation, never set")


class SettingsOut(BaseModel):
    rooms: list[RoomSettingOut]


def _service() -> Notifications:
    service: Notifications = current_app.extensions[NOTIFICATIONS]
    return service


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@notifications.get("/push/key")
@API_SPEC.validate(resp=Responses(HTTP_200=KeyOut), tags=TAGS, skip_validation=True)
def push_key() -> tuple[Response, int]:
    """The key a browser subscribes to Web Push with."""
    return jsonify(
        {"public_key": vapid.public_key(current_app.extensions[NOTIFICATIONS].settings)}
    ), 200


@notifications.post("/push/devices")
@API_SPEC.validate(
    json=DeviceBody,
    resp=Responses(HTTP_201=DeviceOut, **errors(400, 401, 409)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def add_device() -> tuple[Response, int]:
    """Register this browser's Web Push subscription or this app's Expo push token."""
    return jsonify(_service().add_device(bearer_account().id, _body())), 201


@notifications.get("/push/devices")
@API_SPEC.validate(
    resp=Responses(HTTP_200=DevicesOut, **errors(401)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def devices() -> tuple[Response, int]:
    """Your devices that take notifications."""
    return jsonify({"devices": _service().devices(bearer_account().id)}), 200


@notifications.delete("/push/devices/<int:device_id>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=OkOut, **errors(401, 404)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def remove_device(device_id: int) -> tuple[Response, int]:
    """Stop notifying a device (at log-out, or when the browser unsubscribes)."""
    _service().remove_device(bearer_account().id, device_id)
    return jsonify({"ok": True}), 200


@notifications.get("/notifications")
@API_SPEC.validate(
    resp=Responses(HTTP_200=SettingsOut, **errors(401)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def settings_of() -> tuple[Response, int]:
    """The level in force for each room you joined and each of your conversations."""
    return jsonify({"rooms": _service().settings_of(bearer_account().id)}), 200


@notifications.put("/notifications/<path:room>")
@API_SPEC.validate(
    json=RoomSettingBody,
    resp=Responses(HTTP_200=RoomSettingOut, **errors(400, 401)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def set_room(room: str) -> tuple[Response, int]:
    """All messages, mentions only or nothing for a room; mute it for a while."""
    body = _body()
    answer = _service().set_room(
        bearer_account().id, room, body.get("level"), body.get("mute_minutes")
    )
    return jsonify(answer), 200
