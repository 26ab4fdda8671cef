"""A room's event log in Redis (protocol 2): edits, deletions, reactions, read markers.

Messages stay where protocol 1 keeps them (the capped `messages` zset, one member per
message holding its current state), so the message hot path does not change. What
happens to a message afterwards is one entry of the room's `events` stream, with the
explicit id `<newest message seq>-<event counter>`: stream order is log order, and a
client's position `S.N` is a stream id. The stream is capped by count (EVENT_LOG_LIMIT)
and trimmed of events older than the oldest message still kept. Edit events keep no text:
a catch-up reads the message's current state instead, so a deletion leaves no copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from talkrooms.settings import Settings
from talkrooms.storage.keys import Keys
from talkrooms.storage.redis_clients import publish_command
from talkrooms.storage.room_activity import RoomActivity
from talkrooms.storage.store import MARK_READ

# XRANGE's highest sequence part: "every event whose message seq part is S".
_MAX_STREAM_SEQ = 2**64 - 1


@dataclass(frozen=True)
class EventOutcome:
    """What room_event.lua did: `event` JSON when applied, `refusal` (code, reason) when not."""

    event: str | None = None
    refusal: tuple[str, str] | None = None


@dataclass(frozen=True)
class LoggedEvent:
    """One stream entry: its position and what it says."""

    seq: int
    counter: int
    fields: dict[str, str]

    @property
    def message_seq(self) -> int:
        return int(self.fields["m"])


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RoomLog:
    """Redis operations of protocol 2's room log; keys come from the store's Keys."""

    def __init__(self, settings: Settings, client: Any, keys: Keys, activity: RoomActivity) -> None:
        self.settings = settings
        self.redis: Any = client
        self.keys = keys
        # Counts stored events (events_stored) with the messages' bookkeeping (the store's,
        # which the worker flushes).
        self.activity = activity
        self.publish_command = publish_command(settings.effective_redis_url)
        self.durability = (settings.redis_wait_replicas, settings.redis_wait_timeout_ms)

    # -- writing -------------------------------------------------------------------------

    def apply_call(
        self,
        room: str,
        kind: str,
        seq: int,
        author: str,
        now_ms: int,
        iso_now: str,
        channel: str,
        prefix: str,
        extra: list[Any],
    ) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of one room_event.lua call (`extra`: the kind's own arguments, see
        the script), for a pipeline of many (Script.run_many)."""
        keys = self.keys
        return (
            [
                keys.room(room, "messages"),
                keys.room(room, "events"),
                keys.room(room, "evcount"),
                keys.room(room, "seq"),
                keys.room(room, "reactions"),
                keys.room(room, "users"),
                keys.room(room, "files"),
            ],
            [
                kind,
                seq,
                author,
                now_ms,
                room,
                channel,
                prefix,
                self.settings.message_ttl_seconds,
                self.settings.event_log_limit,
                iso_now,
                self.settings.history_limit,
                *extra,
                self.publish_command,
            ],
        )

    @staticmethod
    def outcome(result: Any) -> EventOutcome:
        """What one room_event.lua call answered."""
        if result[0] == 1:
            return EventOutcome(event=_decode(result[1]))
        if result[0] == 0:
            return EventOutcome()
        return EventOutcome(refusal=(_decode(result[1]), _decode(result[2])))

    def mark_read(self, room: str, author: str, seq: int) -> tuple[int, bool]:
        """Move the read marker forward; returns where it is now and whether it moved."""
        result = MARK_READ(
            self.redis,
            [self.keys.room(room, "read"), self.keys.room(room, "seq")],
            [author, seq, self.settings.message_ttl_seconds],
        )
        return int(result[0]), result[1] == 1

    # -- reading -------------------------------------------------------------------------

    def read_marker(self, room: str, author: str) -> int:
        if not author:
            return 0
        value = self.redis.hget(self.keys.room(room, "read"), author)
        return int(value) if value else 0

    def position(self, room: str) -> tuple[int, int]:
        """(newest message seq, event counter): the log's head as `room_joined` reports it."""
        seq, counter = self.redis.mget(
            [self.keys.room(room, "seq"), self.keys.room(room, "evcount")]
        )
        return int(seq or 0), int(counter or 0)

    def messages_at(self, room: str, seqs: set[int]) -> dict[int, dict[str, Any]]:
        """The stored messages of some ids (those still kept), by seq."""
        if not seqs:
            return {}
        key = self.keys.room(room, "messages")
        pipe = self.redis.pipeline(transaction=False)
        ordered = sorted(seqs)
        for seq in ordered:
            pipe.zrange(key, seq, seq, byscore=True)
        found: dict[int, dict[str, Any]] = {}
        for seq, raw in zip(ordered, pipe.execute(), strict=True):
            if raw:
                found[seq] = orjson.loads(raw[0])
        return found

    def reactions(self, room: str, seqs: list[int]) -> dict[int, dict[str, list[list[str]]]]:
        """{seq: {emoji: [[author, name], ...]}} for the messages that have reactions."""
        if not seqs:
            return {}
        values = self.redis.hmget(self.keys.room(room, "reactions"), seqs)
        return {
            seq: orjson.loads(value)
            for seq, value in zip(seqs, values, strict=True)
            if value is not None
        }

    def events(
        self, room: str, after: tuple[int, int], until_seq: int | None, count: int
    ) -> list[LoggedEvent]:
        """Events after position `after` = (S, N), up to those of message `until_seq`.

        (S, 0) means "after message S": every event with seq part S comes after it.
        """
        seq, counter = after
        start = f"({seq}-{counter}" if counter else f"{seq}-0"
        end = "+" if until_seq is None else f"{until_seq}-{_MAX_STREAM_SEQ}"
        entries = self.redis.xrange(self.keys.room(room, "events"), start, end, count=count)
        logged = []
        for entry_id, fields in entries:
            head, _, tail = _decode(entry_id).partition("-")
            decoded = {_decode(k): _decode(v) for k, v in fields.items()}
            logged.append(LoggedEvent(int(head), int(tail), decoded))
        return logged
