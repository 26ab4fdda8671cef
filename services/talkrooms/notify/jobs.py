"""The RQ jobs that notify: `notify_message` decides who hears about one stored message
and enqueues one `send_to_device` per device; each send retries with backoff when the
push service is down and is claimed once per (message, device) in Redis, so neither two
workers nor a retried job send it twice. An Expo send also schedules `check_receipts`, which
reads Expo's verdict later and forgets devices no longer registered. Everything runs in
the RQ worker, never on the
chat's message path: a slow push service delays notifications, never messages.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from rq import Queue, Retry, get_current_job
from sqlalchemy import select
from sqlalchemy.orm import Session

from talkrooms.accounts.models import Account, Block, Conversation, ConversationMember
from talkrooms.notify.decide import Setting, recipients
from talkrooms.notify.delivery import (
    DeviceGone,
    Notification,
    Refused,
    TryLater,
    expo_receipts_gone,
    send_expo,
    send_webpush,
)
from talkrooms.notify.models import NotificationPref, PushDevice
from talkrooms.notify.state import NotifyState
from talkrooms.protocol import is_private_room, mention_candidates
from talkrooms.settings import Settings
from talkrooms.storage.database import Database
from talkrooms.storage.store import make_redis, make_rq_redis

log = logging.getLogger("talkrooms.notify.jobs")

NOTIFY_JOB = "talkrooms.notify.jobs.notify_message"
SEND_JOB = "talkrooms.notify.jobs.send_to_device"
RECEIPTS_JOB = "talkrooms.notify.jobs.check_receipts"
EXCERPT = 120


def _context(settings: Settings) -> tuple[Database, NotifyState]:
    client = make_redis(settings, max_connections=4)
    return Database(settings.database_url), NotifyState(client, settings.key_prefix)


def notify_message(room: str, message: dict[str, Any]) -> dict[str, Any]:
    """RQ job: notify whoever should hear about `message` (stored in `room`)."""
    settings = Settings()
    database, state = _context(settings)
    try:
        return decide_and_enqueue(settings, database, state, room, message)
    finally:
        database.dispose()


# (settings per account, the conversation's members or None, mentioned, who blocked the author)
Facts = tuple[dict[int, Setting], frozenset[int] | None, frozenset[int], frozenset[int]]


def _stored_at_ms(message: dict[str, Any]) -> int:
    """When the message was stored (its private `_t`, else its timestamp)."""
    if isinstance(message.get("_t"), int):
        return int(message["_t"])
    stamp = str(message.get("timestamp", "")).replace("Z", "+00:00")
    try:
        return int(datetime.fromisoformat(stamp).timestamp() * 1000)
    except ValueError:
        return int(datetime.now(UTC).timestamp() * 1000)


def _author_id(message: dict[str, Any]) -> int | None:
    author = str(message.get("_a", ""))
    return int(author[2:]) if author.startswith("u:") else None


def decide_and_enqueue(
    settings: Settings,
    database: Database,
    state: NotifyState,
    room: str,
    message: dict[str, Any],
) -> dict[str, Any]:
    author_id = _author_id(message)
    text = str(message.get("message", ""))
    named = {identity for identity, _name in mention_candidates(text)}

    def read(
        session: Session,
    ) -> tuple[dict[int, Setting], frozenset[int] | None, frozenset[int], frozenset[int]]:
        rows = session.scalars(select(NotificationPref).where(NotificationPref.room == room))
        prefs = {r.account_id: Setting(r.level, r.muted_until) for r in rows}
        members = None
        if is_private_room(room):
            members = frozenset(
                session.scalars(
                    select(ConversationMember.account_id)
                    .join(Conversation, Conversation.id == ConversationMember.conversation_id)
                    .where(Conversation.room == room)
                ).all()
            )
        mentioned = frozenset(
            session.scalars(
                select(Account.id).where(Account.username_identity.in_(sorted(named)))
            ).all()
            if named
            else []
        )
        blocked = frozenset(
            session.scalars(select(Block.blocker_id).where(Block.blocked_id == author_id)).all()
            if author_id is not None
            else []
        )
        return prefs, members, mentioned, blocked

    prefs, members, mentioned, blocked = database.run(read)
    candidates = set(prefs) | set(members or ())
    focused = state.focused(sorted(candidates), room, _stored_at_ms(message))
    chosen = recipients(
        author_id=author_id,
        mentioned=mentioned,
        settings=prefs,
        private_members=members,
        blocked_author=blocked,
        focused=focused,
        now=datetime.now(UTC),
    )
    if not chosen:
        return {"recipients": 0, "devices": 0}

    def devices_of(session: Session) -> list[tuple[int, int]]:
        rows = session.execute(
            select(PushDevice.id, PushDevice.account_id).where(
                PushDevice.account_id.in_(sorted(chosen))
            )
        ).all()
        return [(row[0], row[1]) for row in rows]

    devices = database.run(devices_of)
    queue = Queue(settings.rq_queue, connection=make_rq_redis(settings, max_connections=2))
    event = f"{room}:{message.get('id', '')}"
    sent = 0
    for account_id, reason in chosen.items():
        count = state.add_unread(account_id, room)
        notification = _text(room, message, reason, count)
        for device_id, owner in devices:
            if owner != account_id:
                continue
            queue.enqueue(
                SEND_JOB,
                device_id,
                notification.as_json(),
                event,
                retry=Retry(max=settings.push_retries, interval=settings.push_retry_intervals),
                job_timeout=60,
            )
            sent += 1
    return {"recipients": len(chosen), "devices": sent}


def _text(room: str, message: dict[str, Any], reason: str, count: int) -> Notification:
    """One notification per room on screen: the newest message, or how many wait."""
    author = str(message.get("username", ""))
    where = "a private message" if reason == "private" else f"#{room}"
    if count > 1:
        title = author if reason == "private" else f"#{room}"
        body = f"{count} new messages" + ("" if reason == "private" else f" in #{room}")
    elif reason == "mention":
        title, body = f"{author} mentioned you in {where}", str(message.get("message", ""))
    else:
        title, body = (
            (author if reason == "private" else f"{author} in {where}"),
            str(message.get("message", "")),
        )
    if len(body) > EXCERPT:
        body = body[: EXCERPT - 1] + "…"
    return Notification(room, title, body, count, str(message.get("id", "")))


def send_to_device(device_id: int, payload: dict[str, Any], event: str) -> str:
    """RQ job: one notification to one device, once."""
    settings = Settings()
    database, state = _context(settings)
    try:
        job = get_current_job()
        owner = job.id if job is not None else f"local-{os.getpid()}"
        return deliver(settings, database, state, device_id, payload, event, owner)
    finally:
        database.dispose()


def deliver(
    settings: Settings,
    database: Database,
    state: NotifyState,
    device_id: int,
    payload: dict[str, Any],
    event: str,
    job_id: str,
) -> str:
    device = database.run(lambda session: _detached(session, device_id))
    if device is None:
        return "no-device"
    if not state.claim_send(event, device_id, job_id):
        return "duplicate"
    notification = Notification(
        payload["room"], payload["title"], payload["body"], payload["count"], payload["message_id"]
    )
    try:
        if device.kind == "expo":
            ticket = send_expo(settings, device, notification)
            Queue(settings.rq_queue, connection=make_rq_redis(settings, 2)).enqueue_in(
                timedelta(seconds=settings.expo_receipt_delay_seconds),
                RECEIPTS_JOB,
                {ticket: device_id},
            )
        else:
            send_webpush(settings, device, notification)
    except DeviceGone:
        _forget_device(database, device_id)
        state.count("dropped")
        return "dropped"
    except TryLater:
        state.release_send(event, device_id)
        state.count("retried")
        raise
    except Refused as exc:
        state.mark_sent(event, device_id)
        state.count("failed")
        log.warning("push refused", extra={"device": device_id, "status": str(exc)})
        return "failed"
    state.mark_sent(event, device_id)
    state.count("sent")
    return "sent"


def check_receipts(tickets: dict[str, int]) -> dict[str, int]:
    """RQ job: read Expo's receipts of earlier sends; forget the devices gone since."""
    settings = Settings()
    database, state = _context(settings)
    try:
        gone = expo_receipts_gone(settings, list(tickets))
        for ticket in gone:
            _forget_device(database, tickets[ticket])
        if gone:
            state.count("dropped", len(gone))
        return {"checked": len(tickets), "dropped": len(gone)}
    finally:
        database.dispose()


def _detached(session: Session, device_id: int) -> PushDevice | None:
    device = session.get(PushDevice, device_id)
    if device is not None:
        session.expunge(device)
    return device


def _forget_device(database: Database, device_id: int) -> None:
    def forget(session: Session) -> None:
        device = session.get(PushDevice, device_id)
        if device is not None:
            session.delete(device)

    database.run(forget)
