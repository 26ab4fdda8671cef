"""Who a connection is, as the chat asks it: a signed-in account, or a guest.

The chat does not know how accounts work (accounts/ is a capability of its own, beside
chat); it asks through this interface, which app.py fills with the accounts' answer.
Without accounts wired (tests of the chat alone), everyone is a guest. The names accounts
hold are checked by the join itself, in Redis (storage/store.py `reserved_names`).
"""

from __future__ import annotations

from typing import Any, Protocol

from talkrooms.protocol import INVALID_TOKEN, ProtocolError
from talkrooms.realtime.connections import SignedIn


class Identities(Protocol):
    def sign_in(self, token: Any) -> SignedIn:
        """The account of an access token; ProtocolError (token_expired, invalid_token)."""
        ...


class GuestsOnly:
    """No accounts: every token is refused."""

    def sign_in(self, token: Any) -> SignedIn:
        raise ProtocolError("This server has no accounts", INVALID_TOKEN)
