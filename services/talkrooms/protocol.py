"""The wire contract of docs/protocol.md: validation rules, error codes, avatar colours.

Everything here is pure (no I/O), so the rules can be tested on their own and the web UI
and the app can be checked against the same tables.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Event names, client -> server.
JOIN_ROOM = "join_room"
LEAVE_ROOM = "leave_room"
SEND_MESSAGE = "send_message"
TYPING = "typing"
GET_HISTORY = "get_history"

# Event names, server -> client.
CONNECTED = "connected"
ROOM_JOINED = "room_joined"
NEW_MESSAGE = "new_message"
USER_JOINED = "user_joined"
USER_LEFT = "user_left"
ROOM_USERS = "room_users"
USER_TYPING = "user_typing"
ERROR = "error"

# Error codes carried by `{ok: false, code}` acks and `error` events.
INVALID = "invalid"
NOT_IN_ROOM = "not_in_room"
NAME_TAKEN = "name_taken"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"

USERNAME_MAX = 32
ROOM_MAX = 32
HISTORY_PAGE_DEFAULT = 50

USERNAME_ERROR = "Username must be 1-32 characters: letters, digits, spaces, - _ ."
ROOM_ERROR = "Room id must be 1-32 characters: a-z, 0-9, - _"
CLIENT_ID_ERROR = "client_id must be 1-64 characters: A-Z, a-z, 0-9, - _"
CLIENT_KEY_ERROR = "client_key must be 16-128 characters: A-Z, a-z, 0-9, - _"

AVATAR_COLORS = ("#FF6B6B", "#4ECDC4", "#45B7D1", "#F7B731", "#A55EEA", "#26DE81", "#FD9644")

_ROOM_PATTERN = re.compile(r"^[a-z0-9_-]{1,32}$")
_CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CLIENT_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_USERNAME_PUNCTUATION = frozenset(" -_.")
_MESSAGE_ID_PATTERN = re.compile(r"^\d{1,12}$")


class ProtocolError(ValueError):
    """A payload broke a rule; `code` and the message go back to the client as they are."""

    def __init__(self, message: str, code: str = INVALID) -> None:
        super().__init__(message)
        self.code = code

    def as_ack(self) -> dict[str, Any]:
        return {"ok": False, "error": str(self), "code": self.code}

    def as_event(self) -> dict[str, Any]:
        return {"message": str(self), "code": self.code}


def avatar_color(username: str) -> str:
    """32-bit FNV-1a over code points, modulo 7: the same in every client (see protocol.md)."""
    h = 2166136261
    for char in username:
        h ^= ord(char)
        h = (h * 16777619) & 0xFFFFFFFF
    return AVATAR_COLORS[h % len(AVATAR_COLORS)]


def validate_username(value: Any) -> str:
    """Trimmed, NFC-normalised display name, or ProtocolError."""
    if not isinstance(value, str):
        raise ProtocolError(USERNAME_ERROR)
    name = unicodedata.normalize("NFC", value.strip())
    if not 1 <= len(name) <= USERNAME_MAX:
        raise ProtocolError(USERNAME_ERROR)
    has_letter_or_digit = False
    for char in name:
        category = unicodedata.category(char)[0]
        if category in ("L", "N"):
            has_letter_or_digit = True
        elif category != "M" and char not in _USERNAME_PUNCTUATION:
            raise ProtocolError(USERNAME_ERROR)
    if not has_letter_or_digit:
        raise ProtocolError(USERNAME_ERROR)
    return name


# Letters of other scripts (and digits) that pass for Latin letters once case is folded.
# Uppercase look-alikes are listed by their lowercase form (casefold runs first): Cyrillic
# "В" becomes "в", which must then count as "b".
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "һ": "h",
        "н": "h",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "к": "k",
        "ӏ": "l",
        "м": "m",
        "о": "o",
        "р": "p",
        "ԛ": "q",
        "с": "c",
        "ѕ": "s",
        "т": "t",
        "у": "y",
        "х": "x",
        "ԝ": "w",
        "ԁ": "d",
        "ь": "b",
        # Greek
        "α": "a",
        "β": "b",
        "ε": "e",
        "ζ": "z",
        "η": "h",
        "ι": "i",
        "κ": "k",
        "μ": "m",
        "ν": "n",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "y",
        "χ": "x",
        "ϲ": "c",
        # Latin and digits
        "ı": "i",
        "ȷ": "j",
        "ɡ": "g",
        "0": "o",
        "1": "l",
    }
)


def username_identity(username: str) -> str:
    """The key under which a name is 'taken' in a room: one key for names that look alike.

    Folds case and compatibility forms (`Alice`, `ALICE`, `Ａｌｉｃｅ`), drops accents and
    other combining marks (`Élodie` = `Elodie`), maps Cyrillic and Greek letters and the
    digits 0 and 1 that pass for Latin letters (`аlice` with a Cyrillic а, `b0b`), reads
    "rn" as "m", and counts runs of spaces as one.
    """
    decomposed = unicodedata.normalize("NFKD", username)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFKC", bare).casefold().translate(_LOOKALIKES)
    return " ".join(folded.replace("rn", "m").split())


def validate_room(value: Any) -> str:
    """Trimmed, lower-cased room id, or ProtocolError."""
    if not isinstance(value, str):
        raise ProtocolError(ROOM_ERROR)
    room = value.strip().lower()
    if not _ROOM_PATTERN.match(room):
        raise ProtocolError(ROOM_ERROR)
    return room


def validate_message_text(value: Any, max_length: int) -> str:
    """Trimmed message text, 1..max_length characters, or ProtocolError."""
    if not isinstance(value, str):
        raise ProtocolError(f"Message must be 1-{max_length} characters")
    text = value.strip()
    if not 1 <= len(text) <= max_length:
        raise ProtocolError(f"Message must be 1-{max_length} characters")
    return text


def validate_client_id(value: Any) -> str | None:
    """The optional client-made message id (a UUID in practice)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _CLIENT_ID_PATTERN.match(value):
        raise ProtocolError(CLIENT_ID_ERROR)
    return value


def validate_client_key(value: Any) -> str | None:
    """The optional per-device key that makes several connections one person."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _CLIENT_KEY_PATTERN.match(value):
        raise ProtocolError(CLIENT_KEY_ERROR)
    return value


def require_object(payload: Any, event: str) -> dict[str, Any]:
    """Every client event carries a JSON object; anything else is refused by name."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise ProtocolError(f"{event} expects a JSON object")
    return payload


def format_message_id(seq: int) -> str:
    """Room sequence number -> the wire id (12 digits, sorts as text and as a number)."""
    return f"{seq:012d}"


def parse_message_id(value: Any, field: str) -> int | None:
    """A wire id (string of digits or integer) -> sequence number; None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ProtocolError(f"{field} must be a message id")
    if isinstance(value, int) and 0 <= value < 10**12:
        return value
    if isinstance(value, str) and _MESSAGE_ID_PATTERN.match(value):
        return int(value)
    raise ProtocolError(f"{field} must be a message id")


@dataclass(frozen=True)
class HistoryQuery:
    """A validated get_history request."""

    room: str
    before: int | None
    since: int | None
    limit: int


def validate_history_query(payload: Any, history_limit: int) -> HistoryQuery:
    """`{room, before_id?, since_id?, limit?}` -> HistoryQuery, or ProtocolError."""
    data = require_object(payload, GET_HISTORY)
    room = validate_room(data.get("room"))
    before = parse_message_id(data.get("before_id"), "before_id")
    since = parse_message_id(data.get("since_id"), "since_id")
    if before is not None and since is not None:
        raise ProtocolError("Give before_id or since_id, not both")
    default = history_limit if since is not None else min(HISTORY_PAGE_DEFAULT, history_limit)
    limit = data.get("limit", default)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= history_limit:
        raise ProtocolError(f"limit must be an integer from 1 to {history_limit}")
    return HistoryQuery(room=room, before=before, since=since, limit=limit)


def room_users_payload(room: str, usernames: list[str]) -> dict[str, Any]:
    """The `room_users` event: everyone present, sorted, with their avatar colour."""
    ordered = sorted(usernames, key=lambda name: (name.casefold(), name))
    users = [{"username": name, "color": avatar_color(name)} for name in ordered]
    return {"room": room, "users": users, "count": len(users)}


def joined_notice(username: str) -> dict[str, str]:
    return {"username": username, "message": f"{username} joined the room"}


def left_notice(username: str) -> dict[str, str]:
    return {"username": username, "message": f"{username} left the room"}
