"""Protocol 2's rules: log positions, emoji, mentions and the new events' payloads.

Pure like the rest of the package. A room's log orders messages (position = message id)
and events on messages (position = `SSSSSSSSSSSS.NNNNNNNNNNNN`: the newest message id when
the event happened, then the room's event counter); docs/protocol.md has the contract.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import emoji

from .facts import ERROR_CODES, EVENTS, LIMITS
from .rules import (
    ProtocolError,
    parse_message_id,
    parse_position_parts,
    username_identity,
    validate_room,
)

EDIT_MESSAGE = EVENTS["client"]["EDIT_MESSAGE"]
DELETE_MESSAGE = EVENTS["client"]["DELETE_MESSAGE"]
REACT = EVENTS["client"]["REACT"]
MARK_READ = EVENTS["client"]["MARK_READ"]
ROOM_EVENT = EVENTS["server"]["ROOM_EVENT"]
READ_MARKER = EVENTS["server"]["READ_MARKER"]

FORBIDDEN = ERROR_CODES["FORBIDDEN"]
NOT_FOUND = ERROR_CODES["NOT_FOUND"]
NAME_RESERVED = ERROR_CODES["NAME_RESERVED"]
TOKEN_EXPIRED = ERROR_CODES["TOKEN_EXPIRED"]
INVALID_TOKEN = ERROR_CODES["INVALID_TOKEN"]

PROTOCOL_VERSION = LIMITS["protocol_version"]
REACTIONS_PER_MESSAGE = LIMITS["reactions_per_message"]
MENTIONS_PER_MESSAGE = LIMITS["mentions_per_message"]
REPLY_EXCERPT = LIMITS["reply_excerpt"]
ID_DIGITS = 12
# The longest emoji sequences (family ZWJ sequences with skin tones) stay well below this.
EMOJI_MAX_CHARS = 16
_MENTION_CATEGORIES = frozenset("LMN")
_MENTION_PUNCTUATION = frozenset("._-")
_USERNAME_MAX = LIMITS["username_max"]


@dataclass(frozen=True, order=True)
class LogPosition:
    """A place in a room's log: after message `seq`, and after event `event` when set."""

    seq: int
    event: int = 0

    def wire(self) -> str:
        return format_log_position(self.seq, self.event)


def format_log_position(seq: int, event: int = 0) -> str:
    """(seq, 0) -> a message id; (seq, n) -> an event position, both sorting as text."""
    if event:
        return f"{seq:0{ID_DIGITS}d}.{event:0{ID_DIGITS}d}"
    return f"{seq:0{ID_DIGITS}d}"


def parse_log_position(value: Any, field: str) -> LogPosition | None:
    """A message id or an event position -> LogPosition; None when absent."""
    seq, event = parse_position_parts(value, field)
    return None if seq is None else LogPosition(seq, event)


def requested_protocol(auth: Any) -> int:
    """The handshake's `auth: {protocol}`: 2 opts into protocol 2, anything else is 1."""
    if isinstance(auth, dict) and auth.get("protocol") == PROTOCOL_VERSION:
        return PROTOCOL_VERSION
    return 1


def validate_emoji(value: Any) -> str:
    """One emoji (a whole sequence: skin tone, flag, ZWJ family), or ProtocolError."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFC", value.strip())
        if 0 < len(text) <= EMOJI_MAX_CHARS and emoji.is_emoji(text):
            return text
    raise ProtocolError("emoji must be one emoji")


def validate_add_flag(value: Any) -> bool | None:
    """react's `add`: true adds, false removes, absent toggles."""
    if value is None or isinstance(value, bool):
        return value
    raise ProtocolError("add must be true or false")


def target_message(data: dict[str, Any], field: str = "id") -> int:
    """The id of the message an event is about (required)."""
    seq = parse_message_id(data.get(field), field)
    if seq is None or seq == 0:
        raise ProtocolError(f"{field} must be a message id")
    return seq


def optional_room(data: dict[str, Any]) -> str | None:
    """Protocol 2 events name their room; absent means the connection's only room."""
    value = data.get("room")
    return None if value is None else validate_room(value)


def mention_candidates(text: str) -> list[tuple[str, str]]:
    """The `@name`s of a text as (identity, name as written), first of each identity kept.

    A name is `@` then letters, marks, digits, `.`, `_`, `-` (names with spaces cannot be
    mentioned); at most MENTIONS_PER_MESSAGE. Whether each is someone in the room is for
    the store to say, at the moment the message is stored.
    """
    if "@" not in text:
        return []
    found: dict[str, str] = {}
    start = text.find("@")
    while start != -1 and len(found) < MENTIONS_PER_MESSAGE:
        end = start + 1
        while end < len(text) and end - start <= _USERNAME_MAX and _mention_char(text[end]):
            end += 1
        name = text[start + 1 : end].rstrip("._-")
        if name and (start == 0 or not _mention_char(text[start - 1])):
            found.setdefault(username_identity(name), name)
        start = text.find("@", end)
    return list(found.items())


def _mention_char(char: str) -> bool:
    return unicodedata.category(char)[0] in _MENTION_CATEGORIES or char in _MENTION_PUNCTUATION


def excerpt(text: str) -> str:
    """The start of a message as a reply quotes it."""
    return text if len(text) <= REPLY_EXCERPT else text[: REPLY_EXCERPT - 1] + "…"
