"""Who may enter a private conversation, as the chat asks it.

A private conversation is a room with a `dm:` id (protocol.is_private_room). The chat
knows nothing of conversations' storage: accounts/ answers through this interface (app.py
wires it). Joining is the gate: every event on a room needs the connection to have
joined it, so checking membership at join (and at a history read, which needs no join)
checks every event, on whichever worker holds the connection.
"""

from __future__ import annotations

from typing import Protocol


class PrivateRooms(Protocol):
    def admit(self, room: str, account_id: int) -> bool:
        """True when the account is one of the conversation's members (and the room's
        refusals in Redis match the database's blocks); False for anyone else and for
        an id that names no conversation, alike."""
        ...


class NoPrivateRooms:
    """No accounts wired (tests of the chat alone): no private conversation exists."""

    def admit(self, room: str, account_id: int) -> bool:
        return False
