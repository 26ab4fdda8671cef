"""Notifications' working state in Redis: who is looking at which room (focus), unread
counts behind the "3 new messages" text, claims and sent-marks that keep a device from
getting one event twice, and the outcome counters /metrics reads.

Focus is a hash per account, one field per (room, connection) whose value is when it
lapses: a client says it is focused again every FOCUS_REFRESH seconds, so a focus left by
a crashed worker lapses by itself.
"""

from __future__ import annotations

import time

import redis

FOCUS_SECONDS = 90
UNREAD_SECONDS = 24 * 3600
SENT_SECONDS = 3 * 24 * 3600
SENDING_SECONDS = 3600
OUTCOMES = ("sent", "failed", "retried", "dropped")


def text_of(value: bytes | str) -> str:
    """A Redis reply as text (clients may or may not decode replies)."""
    return value.decode() if isinstance(value, bytes) else str(value)


class NotifyState:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.redis = client
        self.prefix = prefix

    def _focus(self, account_id: int) -> str:
        return f"{self.prefix}:notify:focus:{account_id}"

    def _unread(self, account_id: int, room: str) -> str:
        return f"{self.prefix}:notify:unread:{account_id}:{room}"

    @property
    def outcomes_key(self) -> str:
        return f"{self.prefix}:notify:outcomes"

    # -- focus ------------------------------------------------------------------------------

    def set_focus(self, account_id: int, room: str, sid: str, focused: bool) -> None:
        """Each (room, connection) field holds "<since ms>-<until ms>": focused from since
        until until (in the future while it lasts, the moment of the blur after). The job
        asks whether the person was looking when the message was stored, however late
        it runs."""
        key, field = self._focus(account_id), f"{room}|{sid}"
        now_ms = int(time.time() * 1000)
        current = self.redis.hget(key, field)
        since = int(text_of(current).split("-")[0]) if current else now_ms
        pipe = self.redis.pipeline(transaction=False)
        if focused:
            pipe.hset(key, field, f"{since}-{now_ms + FOCUS_SECONDS * 1000}")
            pipe.delete(self._unread(account_id, room))
        elif current:
            pipe.hset(key, field, f"{since}-{now_ms}")
        pipe.expire(key, FOCUS_SECONDS * 2)
        pipe.execute()

    def focused(self, account_ids: list[int], room: str, at_ms: int) -> frozenset[int]:
        """The accounts that had a client focused on `room` at `at_ms`."""
        if not account_ids:
            return frozenset()
        pipe = self.redis.pipeline(transaction=False)
        for account_id in account_ids:
            pipe.hgetall(self._focus(account_id))
        looking = set()
        for account_id, fields in zip(account_ids, pipe.execute(), strict=True):
            for field, span in fields.items():
                since, _, until = text_of(span).partition("-")
                if text_of(field).rsplit("|", 1)[0] == room and int(since) <= at_ms <= int(until):
                    looking.add(account_id)
        return frozenset(looking)

    # -- unread counts and sent-marks -------------------------------------------------------

    def add_unread(self, account_id: int, room: str) -> int:
        key = self._unread(account_id, room)
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, UNREAD_SECONDS)
        count, _ = pipe.execute()
        return int(count)

    def clear_unread(self, account_id: int, room: str) -> None:
        self.redis.delete(self._unread(account_id, room))

    def _sent_key(self, event: str, device_id: int) -> str:
        return f"{self.prefix}:notify:sent:{event}:{device_id}"

    def claim_send(self, event: str, device_id: int, job_id: str) -> bool:
        """May this job send (event, device)? Yes if nobody claimed it, or if this same job
        did in an attempt that died mid-send (RQ retries a job under its own id). A claim
        by another job, or a send done, answers no: two workers or a duplicate job send
        once. The claim lapses after SENDING_SECONDS in case its job is never retried."""
        key, mark = self._sent_key(event, device_id), f"sending:{job_id}"
        if self.redis.set(key, mark, nx=True, ex=SENDING_SECONDS):
            return True
        current = self.redis.get(key)
        return current is not None and text_of(current) == mark

    def mark_sent(self, event: str, device_id: int) -> None:
        """The push service took it: no job sends this event to this device again."""
        self.redis.set(self._sent_key(event, device_id), "sent", ex=SENT_SECONDS)

    def release_send(self, event: str, device_id: int) -> None:
        """The send failed and will be retried: let the retry claim it."""
        self.redis.delete(self._sent_key(event, device_id))

    def count(self, outcome: str, amount: int = 1) -> None:
        self.redis.hincrby(self.outcomes_key, outcome, amount)

    def outcomes(self) -> dict[str, int]:
        raw = self.redis.hgetall(self.outcomes_key)
        found = {text_of(k): int(v) for k, v in raw.items()}
        return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}
