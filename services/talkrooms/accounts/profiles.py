"""Profiles: what an account shows of itself (display name, bio, avatar colour).

The rules live here and nowhere else: a display name follows the username rules
(protocol.validate_username), a bio is trimmed plain text of at most BIO_MAX characters,
a colour is one of the protocol's AVATAR_COLORS. A NULL display name or colour in the
database means the default (the username, the colour it hashes to). Database work goes
through Database.run, like every account action.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from talkrooms.accounts.models import Account
from talkrooms.accounts.service import AccountError
from talkrooms.protocol.rules import (
    AVATAR_COLORS,
    ProtocolError,
    avatar_color,
    username_identity,
    validate_username,
)
from talkrooms.storage.database import Database

log = logging.getLogger("talkrooms.accounts.profiles")

BIO_MAX = 280
# A bio may span lines; every other control or format character (escapes, bidi overrides,
# zero-width joiners) is refused.
_BIO_ALLOWED_CONTROLS = frozenset("\n")


@dataclass(frozen=True)
class ProfileView:
    """A profile as the API shows it. `email` is only ever filled for its owner."""

    username: str
    display_name: str
    bio: str
    color: str
    created_at: datetime
    email: str | None = None

    @classmethod
    def of(cls, account: Account, *, owner: bool) -> ProfileView:
        return cls(
            username=account.username,
            display_name=account.shown_name,
            bio=account.bio or "",
            color=account.shown_color,
            created_at=account.created_at,
            email=account.email if owner else None,
        )


def validate_display_name(value: Any) -> str:
    """A display name (the username rules: 1-32 characters, letters or digits needed)."""
    try:
        return validate_username(value)
    except ProtocolError as exc:
        raise AccountError(
            400, "invalid_display_name", str(exc).replace("Username", "Display name")
        ) from exc


def validate_bio(value: Any) -> str:
    """Trimmed, NFC plain text of at most BIO_MAX characters ('' clears the bio)."""
    if not isinstance(value, str):
        raise AccountError(400, "invalid_bio", "The bio must be text")
    bio = unicodedata.normalize("NFC", value.replace("\r\n", "\n").strip())
    if len(bio) > BIO_MAX:
        raise AccountError(400, "invalid_bio", f"The bio is at most {BIO_MAX} characters")
    for char in bio:
        if unicodedata.category(char)[0] == "C" and char not in _BIO_ALLOWED_CONTROLS:
            raise AccountError(400, "invalid_bio", "The bio must be plain text")
    return bio


def validate_color(value: Any) -> str:
    """One of the protocol's avatar colours (any case), as the protocol spells it."""
    if isinstance(value, str) and value.strip().upper() in AVATAR_COLORS:
        return value.strip().upper()
    raise AccountError(
        400, "invalid_color", f"The colour must be one of {', '.join(AVATAR_COLORS)}"
    )


# Told of every profile change (account id, the new profile): app.py tells the account's
# connections and, through them, the rooms it is in.
ProfileChanged = Callable[[int, "ProfileView"], None]


class ProfileService:
    """Read and change profiles on the accounts' database."""

    def __init__(self, database: Database, on_change: ProfileChanged | None = None) -> None:
        self.database = database
        self.on_change = on_change

    def own(self, account_id: int) -> ProfileView:
        """The profile of a signed-in account, e-mail included."""
        return self.database.run(
            lambda session: ProfileView.of(session.get_one(Account, account_id), owner=True)
        )

    def update(self, account_id: int, changes: dict[str, Any]) -> ProfileView:
        """Apply the fields present in `changes` (display_name, bio, color); None puts a
        field back to its default. Everything is validated before anything is written."""
        values: dict[str, str | None] = {}
        if "display_name" in changes:
            given = changes["display_name"]
            values["display_name"] = None if given is None else validate_display_name(given)
        if "bio" in changes:
            values["bio"] = "" if changes["bio"] is None else validate_bio(changes["bio"])
        if "color" in changes:
            given = changes["color"]
            values["avatar_color"] = None if given is None else validate_color(given)

        def change(session: Session) -> ProfileView:
            account = session.get_one(Account, account_id)
            for column, value in values.items():
                setattr(account, column, value)
            # The defaults are stored as NULL, so a later change of rules reaches them.
            if account.display_name == account.username:
                account.display_name = None
            if account.avatar_color == avatar_color(account.username):
                account.avatar_color = None
            session.flush()
            return ProfileView.of(account, owner=True)

        view = self.database.run(change)
        if self.on_change is not None:
            try:
                self.on_change(account_id, view)
            except Exception:  # the message queue is down: the change is stored all the same
                log.exception("announcing a profile change failed")
        return view

    def public(self, username: str) -> ProfileView:
        """The public profile of the account whose name looks like `username` (the
        look-alike identity, as for registration); 404 not_found for none."""
        identity = username_identity(username.strip()) if username.strip() else ""

        def find(session: Session) -> ProfileView | None:
            account = session.scalar(select(Account).where(Account.username_identity == identity))
            return ProfileView.of(account, owner=False) if account else None

        found = self.database.run(find) if identity else None
        if found is None:
            raise AccountError(404, "not_found", "No account has this name")
        return found
