"""The wire contract of docs/protocol.md: validation rules, error codes, avatar colours.

Everything here is pure (no I/O), so the rules can be tested on their own. The facts
(names, limits, patterns, error texts, colours) come from facts.json; this module holds
the rules that apply them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .facts import AVATAR, ERROR_CODES, ERRORS, EVENTS, LIMITS, PATTERNS, USERNAME_RULE

# Event names, client -> server.
JOIN_ROOM = EVENTS["client"]["JOIN_ROOM"]
LEAVE_ROOM = EVENTS["client"]["LEAVE_ROOM"]
SEND_MESSAGE = EVENTS["client"]["SEND_MESSAGE"]
TYPING = EVENTS["client"]["TYPING"]
GET_HISTORY = EVENTS["client"]["GET_HISTORY"]

# Event names, server -> client.
CONNECTED = EVENTS["server"]["CONNECTED"]
ROOM_JOINED = EVENTS["server"]["ROOM_JOINED"]
NEW_MESSAGE = EVENTS["server"]["NEW_MESSAGE"]
USER_JOINED = EVENTS["server"]["USER_JOINED"]
USER_LEFT = EVENTS["server"]["USER_LEFT"]
ROOM_USERS = EVENTS["server"]["ROOM_USERS"]
USER_TYPING = EVENTS["server"]["USER_TYPING"]
ERROR = EVENTS["server"]["ERROR"]

# Error codes carried by `{ok: false, code}` acks and `error` events.
INVALID = ERROR_CODES["INVALID"]
NOT_IN_ROOM = ERROR_CODES["NOT_IN_ROOM"]
NAME_TAKEN = ERROR_CODES["NAME_TAKEN"]
RATE_LIMITED = ERROR_CODES["RATE_LIMITED"]
UNAVAILABLE = ERROR_CODES["UNAVAILABLE"]

USERNAME_MAX = LIMITS["username_max"]
ROOM_MAX = LIMITS["room_max"]
HISTORY_PAGE_DEFAULT = LIMITS["history_page_default"]

USERNAME_ERROR = ERRORS["username"]
ROOM_ERROR = ERRORS["room"]
CLIENT_ID_ERROR = ERRORS["client_id"]
CLIENT_KEY_ERROR = ERRORS["client_key"]
MESSAGE_ERROR = ERRORS["message"]
FILES_ERROR = ERRORS["files"]

AVATAR_COLORS: tuple[str, ...] = tuple(AVATAR["colors"])
_FNV_OFFSET: int = AVATAR["fnv_offset"]
_FNV_PRIME: int = AVATAR["fnv_prime"]

_ROOM_PATTERN = re.compile(PATTERNS["room"])
_PRIVATE_ROOM_PATTERN = re.compile(PATTERNS["private_room"])
_CLIENT_ID_PATTERN = re.compile(PATTERNS["client_id"])
_FILE_ID_PATTERN = re.compile(PATTERNS["file_id"])
_CLIENT_KEY_PATTERN = re.compile(PATTERNS["client_key"])
_MESSAGE_ID_PATTERN = re.compile(PATTERNS["message_id"])
_USERNAME_CATEGORIES = frozenset(USERNAME_RULE["categories"])
_USERNAME_NEEDS = frozenset(USERNAME_RULE["needs_one_of"])
_USERNAME_PUNCTUATION = frozenset(USERNAME_RULE["punctuation"])


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
    h = _FNV_OFFSET
    for char in username:
        h ^= ord(char)
        h = (h * _FNV_PRIME) & 0xFFFFFFFF
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
        if category in _USERNAME_NEEDS:
            has_letter_or_digit = True
        if category not in _USERNAME_CATEGORIES and char not in _USERNAME_PUNCTUATION:
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
    """Trimmed, lower-cased room id (a public room, or a private conversation's
    `dm:...` id, which only the server hands out), or ProtocolError."""
    if not isinstance(value, str):
        raise ProtocolError(ROOM_ERROR)
    room = value.strip().lower()
    if not (_ROOM_PATTERN.match(room) or _PRIVATE_ROOM_PATTERN.match(room)):
        raise ProtocolError(ROOM_ERROR)
    return room


def is_private_room(room: str) -> bool:
    """A private conversation's id (`dm:` and 20 letters or digits); public ids never
    contain a colon, so no guest can name a room into this space."""
    return _PRIVATE_ROOM_PATTERN.match(room) is not None


def validate_message_text(value: Any, max_length: int, allow_empty: bool = False) -> str:
    """Trimmed message text, 1..max_length characters (0 allowed when the message shares
    files: a picture needs no caption), or ProtocolError."""
    if allow_empty and value is None:
        return ""
    if not isinstance(value, str):
        raise ProtocolError(MESSAGE_ERROR.format(max=max_length))
    text = value.strip()
    if not (0 if allow_empty else 1) <= len(text) <= max_length:
        raise ProtocolError(MESSAGE_ERROR.format(max=max_length))
    return text


def validate_file_ids(value: Any, max_count: int) -> list[str]:
    """The distinct file ids a message shares, in order: 1..max_count, or ProtocolError."""
    error = ProtocolError(FILES_ERROR.format(max=max_count))
    if not isinstance(value, list) or not 1 <= len(value) <= max_count:
        raise error
    ids: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _FILE_ID_PATTERN.match(item):
            raise error
        if item not in ids:
            ids.append(item)
    return ids


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


def parse_position_parts(value: Any, field: str) -> tuple[int | None, int]:
    """A message id or a protocol 2 event position `S.N` -> (S, N); (S, 0) for an id."""
    if isinstance(value, str) and "." in value:
        head, _, tail = value.partition(".")
        if len(head) == len(tail) == 12 and (head + tail).isdigit():
            return int(head), int(tail)
        raise ProtocolError(f"{field} must be a message id or a log position")
    return parse_message_id(value, field), 0


@dataclass(frozen=True)
class HistoryQuery:
    """A validated get_history request."""

    room: str
    before: int | None
    since: int | None
    limit: int
    # Protocol 2: since_id may be an event position `S.N`; this is its N (0 for an id).
    since_event: int = 0


def validate_history_query(payload: Any, history_limit: int) -> HistoryQuery:
    """`{room, before_id?, since_id?, limit?}` -> HistoryQuery, or ProtocolError."""
    data = require_object(payload, GET_HISTORY)
    room = validate_room(data.get("room"))
    before = parse_message_id(data.get("before_id"), "before_id")
    since, since_event = parse_position_parts(data.get("since_id"), "since_id")
    if before is not None and since is not None:
        raise ProtocolError("Give before_id or since_id, not both")
    default = history_limit if since is not None else min(HISTORY_PAGE_DEFAULT, history_limit)
    limit = data.get("limit", default)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= history_limit:
        raise ProtocolError(f"limit must be an integer from 1 to {history_limit}")
    return HistoryQuery(room=room, before=before, since=since, limit=limit, since_event=since_event)


@dataclass(frozen=True)
class PresentUser:
    """One person in a room's online list. A signed-in account shows its profile's display
    name and colour; a guest shows its name and the colour the name hashes to."""

    username: str
    display_name: str | None = None
    color: str | None = None
    account: bool = False

    def as_entry(self) -> dict[str, Any]:
        """The `room_users` entry: `{username, color}`, plus `display_name` and
        `account: true` for an account."""
        entry: dict[str, Any] = {
            "username": self.username,
            "color": self.color or avatar_color(self.username),
        }
        if self.account:
            entry["display_name"] = self.display_name or self.username
            entry["account"] = True
        return entry


def room_users_payload(room: str, users: Sequence[PresentUser]) -> dict[str, Any]:
    """The `room_users` event: everyone present, sorted by username, with their colour."""
    ordered = sorted(users, key=lambda user: (user.username.casefold(), user.username))
    entries = [user.as_entry() for user in ordered]
    return {"room": room, "users": entries, "count": len(entries)}


def joined_notice(username: str, room: str) -> dict[str, str]:
    return {"username": username, "message": f"{username} joined the room", "room": room}


def left_notice(username: str, room: str) -> dict[str, str]:
    return {"username": username, "message": f"{username} left the room", "room": room}
