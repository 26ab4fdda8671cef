"""An account's devices and notification settings, and what the chat worker does for
notifications: follow a room at a first join, note focus, hand candidate messages to the
RQ job (docs/notifications.md).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import time
from datetime import timedelta
from typing import Any

import orjson
from rq import Queue, Retry
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from talkrooms.accounts.models import Conversation, ConversationMember
from talkrooms.accounts.service import AccountError
from talkrooms.notify.decide import LEVELS
from talkrooms.notify.jobs import NOTIFY_JOB
from talkrooms.notify.models import NotificationPref, PushDevice
from talkrooms.notify.state import NotifyState, text_of
from talkrooms.protocol import ProtocolError, is_private_room, validate_room
from talkrooms.settings import Settings
from talkrooms.storage.database import Database, iso_utc, utcnow
from talkrooms.storage.store import make_rq_redis

log = logging.getLogger("talkrooms.notify")

DEVICES_PER_ACCOUNT = 20
MUTE_MAX_MINUTES = 366 * 24 * 60
FOLLOWED_CACHE = 100_000
ALL_ROOMS_SECONDS = 10.0


def _b64url_length(value: Any, size: int) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))) == size
    except ValueError:
        return False


def _room(value: str) -> str:
    try:
        return validate_room(value)
    except ProtocolError as exc:
        raise AccountError(400, "invalid_request", str(exc)) from exc


class Notifications:
    def __init__(self, settings: Settings, database: Database, state: NotifyState) -> None:
        self.settings = settings
        self.database = database
        self.state = state
        self.queue = Queue(settings.rq_queue, connection=make_rq_redis(settings))
        self._followed: set[tuple[int, str]] = set()
        self._all_rooms: tuple[float, frozenset[str]] = (0.0, frozenset())

    # -- devices ----------------------------------------------------------------------------

    def add_device(self, account_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """A browser's subscription {endpoint, keys: {p256dh, auth}} (kind webpush) or an
        app's {token} (kind expo); the same device again updates its row."""
        kind = body.get("kind")
        label = str(body.get("label") or "")[:100]
        if kind == "webpush":
            subscription = body.get("subscription") or {}
            endpoint = subscription.get("endpoint")
            keys = subscription.get("keys") or {}
            if not (
                isinstance(endpoint, str)
                and endpoint.startswith(("https://", "http://"))
                and len(endpoint) <= 1000
                and _b64url_length(keys.get("p256dh"), 65)
                and _b64url_length(keys.get("auth"), 16)
            ):
                raise AccountError(
                    400, "invalid_request", "subscription is {endpoint, keys: {p256dh, auth}}"
                )
            address, p256dh, auth = endpoint, keys["p256dh"], keys["auth"]
        elif kind == "expo":
            token = body.get("token")
            if not isinstance(token, str) or not token.startswith("ExponentPushToken["):
                raise AccountError(400, "invalid_request", "token is an Expo push token")
            address, p256dh, auth = token, "", ""
        else:
            raise AccountError(400, "invalid_request", "kind is webpush or expo")

        def save(session: Session) -> dict[str, Any]:
            device = session.scalar(select(PushDevice).where(PushDevice.address == address))
            if device is None:
                count = len(
                    session.scalars(
                        select(PushDevice.id).where(PushDevice.account_id == account_id)
                    ).all()
                )
                if count >= DEVICES_PER_ACCOUNT:
                    raise AccountError(409, "too_many_devices", "Remove a device first")
                device = PushDevice(address=address, created_at=utcnow())
                session.add(device)
            device.account_id, device.kind = account_id, kind
            device.p256dh, device.auth, device.label = p256dh, auth, label
            session.flush()
            return {"id": device.id, "kind": kind, "label": label}

        try:
            return self.database.run(save)
        except IntegrityError:
            return self.database.run(save)

    def devices(self, account_id: int) -> list[dict[str, Any]]:
        def read(session: Session) -> list[dict[str, Any]]:
            rows = session.scalars(
                select(PushDevice).where(PushDevice.account_id == account_id)
            ).all()
            return [{"id": d.id, "kind": d.kind, "label": d.label} for d in rows]

        return self.database.run(read)

    def remove_device(self, account_id: int, device_id: int) -> None:
        def remove(session: Session) -> int:
            result = session.execute(
                delete(PushDevice).where(
                    PushDevice.id == device_id, PushDevice.account_id == account_id
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

        if not self.database.run(remove):
            raise AccountError(404, "not_found", "No such device of yours")

    # -- settings ---------------------------------------------------------------------------

    def settings_of(self, account_id: int) -> list[dict[str, Any]]:
        """The level in force for every room and conversation that may notify the account:
        its saved rows, plus its private conversations without one (those notify "all")."""

        def read(session: Session) -> list[dict[str, Any]]:
            rows = session.scalars(
                select(NotificationPref).where(NotificationPref.account_id == account_id)
            ).all()
            conversations = session.scalars(
                select(Conversation.room)
                .join(ConversationMember, Conversation.id == ConversationMember.conversation_id)
                .where(ConversationMember.account_id == account_id)
            ).all()
            now = utcnow()
            views = {
                r.room: {
                    "room": r.room,
                    "level": r.level,
                    "muted_until": iso_utc(r.muted_until)
                    if r.muted_until and r.muted_until > now
                    else None,
                    "saved": True,
                }
                for r in rows
            }
            for room in conversations:
                views.setdefault(
                    room, {"room": room, "level": "all", "muted_until": None, "saved": False}
                )
            return [views[room] for room in sorted(views)]

        return self.database.run(read)

    def set_room(self, account_id: int, room: str, level: Any, mute_minutes: Any) -> dict:
        name = _room(room)
        if level is not None and level not in LEVELS:
            raise AccountError(400, "invalid_request", f"level is one of {', '.join(LEVELS)}")
        if mute_minutes is not None and (
            not isinstance(mute_minutes, int)
            or isinstance(mute_minutes, bool)
            or not 0 <= mute_minutes <= MUTE_MAX_MINUTES
        ):
            raise AccountError(400, "invalid_request", f"mute_minutes is 0 to {MUTE_MAX_MINUTES}")

        def save(session: Session) -> dict[str, Any]:
            row = session.get(NotificationPref, (account_id, name))
            if row is None:
                default = "all" if is_private_room(name) else "mentions"
                row = NotificationPref(
                    account_id=account_id, room=name, level=default, details="{}"
                )
                session.add(row)
            if level is not None:
                row.level = level
            if mute_minutes is not None:
                row.muted_until = (
                    utcnow() + timedelta(minutes=mute_minutes) if mute_minutes else None
                )
            session.flush()
            until = row.muted_until
            return {
                "room": name,
                "level": row.level,
                "muted_until": iso_utc(until) if until else None,
                "saved": True,
            }

        view = self.database.run(save)
        self._publish_all_rooms()
        return view

    def _publish_all_rooms(self) -> None:
        """The rooms somebody wants every message of: the chat hands those to the job."""

        def read(session: Session) -> list[str]:
            return list(
                session.scalars(
                    select(NotificationPref.room).where(NotificationPref.level == "all").distinct()
                ).all()
            )

        rooms = [r for r in self.database.run(read) if not is_private_room(r)]
        key = f"{self.settings.key_prefix}:notify:all-rooms"
        pipe = self.state.redis.pipeline(transaction=True)
        pipe.delete(key)
        if rooms:
            pipe.sadd(key, *rooms)
        pipe.execute()
        self._all_rooms = (0.0, frozenset())  # this worker reads it again now; others soon

    # -- the chat's hooks -------------------------------------------------------------------

    def follow(self, room: str, account_id: int) -> None:
        """An account joined a public room: @mentions there reach it from now on (once per
        worker and pair; the row stays)."""
        if (account_id, room) in self._followed or is_private_room(room):
            return

        def save(session: Session) -> None:
            if session.get(NotificationPref, (account_id, room)) is None:
                session.add(
                    NotificationPref(
                        account_id=account_id, room=room, level="mentions", details="{}"
                    )
                )

        with contextlib.suppress(IntegrityError):  # two first joins at once
            self.database.run(save)
        if len(self._followed) >= FOLLOWED_CACHE:
            self._followed.clear()
        self._followed.add((account_id, room))

    def focus(self, account_id: int, room: str, sid: str, focused: bool) -> None:
        self.state.set_focus(account_id, room, sid, focused)

    def _rooms_with_all(self) -> frozenset[str]:
        expires, rooms = self._all_rooms
        if time.monotonic() < expires:
            return rooms
        raw = self.state.redis.smembers(f"{self.settings.key_prefix}:notify:all-rooms")
        rooms = frozenset(map(text_of, raw))
        self._all_rooms = (time.monotonic() + ALL_ROOMS_SECONDS, rooms)
        return rooms

    def wants(self, room: str, has_mentions: bool) -> bool:
        """Might this message notify anyone? (cheap: decided on the flusher)"""
        return has_mentions or is_private_room(room) or room in self._rooms_with_all()

    def hand_over(self, room: str, message: str) -> None:
        """Enqueue the job that decides and sends (its own greenlet)."""
        try:
            # Retried after a crash: sends already done or under way are claimed, so a
            # second run sends only what the first did not reach.
            self.queue.enqueue(
                NOTIFY_JOB,
                room,
                orjson.loads(message),
                job_timeout=60,
                retry=Retry(max=2, interval=[2, 10]),
            )
        except Exception:
            log.exception("enqueueing a notification failed", extra={"room": room})
