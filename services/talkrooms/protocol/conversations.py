"""What concerns accounts as people: private conversations' ids, their event and error
codes, and the profile event.

A private conversation is a room whose id the server draws (`dm:` and 20 random letters
or digits, about 103 bits): knowing an id gives nothing, since every event on it checks
that the connection's account is one of its two members (docs/protocol.md).
"""

from __future__ import annotations

import secrets
import string

from .facts import ERROR_CODES, EVENTS
from .rules import is_private_room

CONVERSATION = EVENTS["server"]["CONVERSATION"]
# To an account's own connections when its profile changed: {username, display_name, color}.
PROFILE = EVENTS["server"]["PROFILE"]
ACCOUNT_REQUIRED = ERROR_CODES["ACCOUNT_REQUIRED"]
# A signed-in client says whether the person is looking at a room: {room?, focused}
# (notifications skip whoever looks; docs/notifications.md). Repeated every minute while
# focused: a focus lapses after 90 s.
FOCUS = EVENTS["client"]["FOCUS"]
BLOCKED = ERROR_CODES["BLOCKED"]

PRIVATE_ROOM_PREFIX = "dm:"
_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_LENGTH = 20


def new_private_room() -> str:
    """A fresh, unguessable private conversation id."""
    room = PRIVATE_ROOM_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))
    assert is_private_room(room)
    return room
