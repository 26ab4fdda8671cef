"""The accounts' answers to the chat's questions: who a token is (chat/identities.py);
who may enter a private conversation is ConversationService.admit (chat/private_rooms.py)."""

from __future__ import annotations

from typing import Any

from talkrooms.accounts.service import AccountError, AccountService
from talkrooms.protocol import INVALID_TOKEN, ProtocolError
from talkrooms.realtime.connections import SignedIn

# A JWT of ours is a few hundred characters; anything much longer is not one.
TOKEN_MAX = 4096


class AccountIdentities:
    """Identities backed by the account service (the shape of chat.identities.Identities;
    app.py hands it to the chat, which cannot import accounts: they are sibling layers)."""

    def __init__(self, service: AccountService) -> None:
        self.service = service

    def sign_in(self, token: Any) -> SignedIn:
        if not isinstance(token, str) or not 0 < len(token) <= TOKEN_MAX:
            raise ProtocolError("auth.token must be an access token", INVALID_TOKEN)
        try:
            account = self.service.authenticate(token)
        except AccountError as error:
            raise ProtocolError(error.message, error.code) from error
        return SignedIn(
            account_id=account.id,
            username=account.username,
            display_name=account.display_name,
            color=account.color,
        )
