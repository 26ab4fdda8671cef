"""What accounts do: register, log in, refresh, log out, change password, who am I.

Every database call goes through Database.run and every argon2 call through offload (a
few at a time: `_password_work`), so neither blocks the worker's gevent loop. Errors are
AccountError values with a stable `code` that the HTTP routes turn into JSON.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import gevent
from gevent.lock import BoundedSemaphore
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from talkrooms.accounts import passwords, tokens
from talkrooms.accounts.models import Account, RefreshToken
from talkrooms.protocol.rules import ProtocolError, username_identity, validate_username
from talkrooms.settings import RateLimit, Settings
from talkrooms.storage.database import Database, offload_low, utcnow
from talkrooms.storage.store import Store

log = logging.getLogger("talkrooms.accounts")

T = TypeVar("T")

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 254
INVALID_CREDENTIALS = "Wrong username or password"


class AccountError(Exception):
    """A refusal the client can show: HTTP status, stable code, message."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class AccountView:
    """An account as the API shows it (never its hash)."""

    id: int
    username: str
    email: str | None
    created_at: datetime
    # The profile's display name and colour (defaults resolved): the online list shows them.
    display_name: str = ""
    color: str = ""

    @classmethod
    def of(cls, account: Account) -> AccountView:
        return cls(
            account.id,
            account.username,
            account.email,
            account.created_at,
            account.shown_name,
            account.shown_color,
        )


@dataclass(frozen=True)
class IssuedTokens:
    """A token pair and whose it is."""

    account: AccountView
    access_token: str
    access_expires_in: int
    refresh_token: str
    refresh_expires_in: int


class AccountService:
    """Accounts on the database, rate limits on Redis."""

    def __init__(self, settings: Settings, database: Database, store: Store) -> None:
        self.settings = settings
        self.database = database
        self.store = store
        # At most this many argon2 computations at once per worker (64 MiB each): a burst
        # of logins queues here instead of filling memory and every core.
        self._hashing = BoundedSemaphore(settings.password_hash_concurrency)

    def _password_work(self, work: Callable[..., T], *args: Any) -> T:
        """Run an argon2 call in the thread pool, a few at a time."""
        with self._hashing:
            return offload_low(work, *args)

    # -- rate limits ------------------------------------------------------------------------

    def _limit(self, action: str, scope: str, subject: str, rate: RateLimit) -> None:
        if not rate.enabled:
            return
        key = self.store.keys.auth_attempts(action, scope, subject)
        count, retry_after = self.store.count_attempt(key, rate.window)
        if count > rate.count:
            raise AccountError(
                429,
                "rate_limited",
                f"Too many attempts; try again in {retry_after} s",
                retry_after=retry_after,
            )

    def check_rate(self, action: str, address: str, identity: str | None) -> None:
        """Count this attempt per client address and per account name; AccountError 429
        past either limit."""
        self._limit(action, "addr", address, self.settings.auth_address_rate)
        if identity:
            self._limit(action, "acct", identity, self.settings.auth_account_rate)

    # -- tokens -----------------------------------------------------------------------------

    def _issue(self, session: Session, account: Account, family_id: str) -> IssuedTokens:
        now = utcnow()
        refresh = tokens.new_refresh_token()
        lifetime = timedelta(days=self.settings.refresh_token_days)
        session.add(
            RefreshToken(
                account_id=account.id,
                family_id=family_id,
                token_hash=tokens.refresh_token_hash(refresh),
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        access = tokens.issue_access_token(
            account.id, self.settings.jwt_secret, self.settings.access_token_seconds
        )
        return IssuedTokens(
            account=AccountView.of(account),
            access_token=access,
            access_expires_in=self.settings.access_token_seconds,
            refresh_token=refresh,
            refresh_expires_in=int(lifetime.total_seconds()),
        )

    # -- the actions ------------------------------------------------------------------------

    def register(
        self, username: str, password: str, email: str | None, address: str
    ) -> IssuedTokens:
        """A new account and its first token pair."""
        try:
            name = validate_username(username)
        except ProtocolError as exc:
            raise AccountError(400, "invalid_username", str(exc)) from exc
        identity = username_identity(name)
        self.check_rate("register", address, identity)
        problem = passwords.password_problem(password, self.settings.password_min_length)
        if problem:
            raise AccountError(400, "invalid_password", problem)
        if email is not None:
            email = email.strip() or None
        if email is not None and (len(email) > EMAIL_MAX or not EMAIL_PATTERN.match(email)):
            raise AccountError(400, "invalid_email", "This is not an e-mail address")
        password_hash = self._password_work(passwords.hash_password, password)

        def create(session: Session) -> IssuedTokens | None:
            taken = session.scalar(select(Account.id).where(Account.username_identity == identity))
            if taken is not None:
                return None
            now = utcnow()
            account = Account(
                username=name,
                username_identity=identity,
                email=email,
                password_hash=password_hash,
                created_at=now,
                password_changed_at=now,
            )
            session.add(account)
            session.flush()
            return self._issue(session, account, tokens.new_family_id())

        try:
            issued = self.database.run(create)
        except IntegrityError:
            # Two registrations of one name at once: the unique index refuses the second.
            issued = None
        if issued is None:
            raise AccountError(409, "username_taken", "This name belongs to an account")
        try:
            self.store.reserve_names([identity])
        except RedisError as exc:
            # The account exists; the next worker start mirrors its name (sync_reserved_names).
            log.error("reserving a new account's name failed", extra={"error": str(exc)})
        return issued

    def sync_reserved_names(self) -> int:
        """Mirror every account's name identity into Redis, where joins check them (a worker
        does it at start: Redis may have lost the set, or a registration failed to add)."""

        def every_identity(session: Session) -> list[str]:
            return list(session.scalars(select(Account.username_identity)))

        identities = self.database.run(every_identity)
        self.store.reserve_names(identities)
        return len(identities)

    def sync_reserved_names_at_start(
        self, attempts: int = 12, every: float = 5.0, attempt_seconds: float = 5.0
    ) -> None:
        """sync_reserved_names, retried a bounded number of times while the database or
        Redis is not there yet (a background greenlet of each worker). An attempt that
        has not answered after `attempt_seconds` is abandoned and tried again."""
        for attempt in range(1, attempts + 1):
            try:
                with gevent.Timeout(attempt_seconds):
                    count = self.sync_reserved_names()
            except (Exception, gevent.Timeout) as exc:  # the database or Redis may be starting
                log.warning(
                    "mirroring account names failed",
                    extra={"attempt": attempt, "error": str(exc)[:200]},
                )
                gevent.sleep(every)
                continue
            log.info("account names mirrored", extra={"accounts": count})
            return

    def login(self, username: str, password: str, address: str) -> IssuedTokens:
        """A token pair for the right name and password. "No such account" and "wrong
        password" give the same answer after the same work (one argon2 verification)."""
        identity = username_identity(username.strip()) if username.strip() else ""
        self.check_rate("login", address, identity or None)

        def find(session: Session) -> tuple[int, str] | None:
            row = session.execute(
                select(Account.id, Account.password_hash).where(
                    Account.username_identity == identity
                )
            ).first()
            return (row[0], row[1]) if row else None

        found = self.database.run(find) if identity else None
        ok = self._password_work(passwords.verify_password, found[1] if found else None, password)
        if not ok or found is None:
            raise AccountError(401, "invalid_credentials", INVALID_CREDENTIALS)
        account_id, old_hash = found
        new_hash = None
        if passwords.needs_rehash(old_hash):
            new_hash = self._password_work(passwords.hash_password, password)

        def start(session: Session) -> IssuedTokens:
            account = session.get_one(Account, account_id)
            if new_hash:
                account.password_hash = new_hash
            return self._issue(session, account, tokens.new_family_id())

        return self.database.run(start)

    def refresh(self, refresh_token: str) -> IssuedTokens:
        """The next token pair of the family. A token used or revoked before revokes the
        whole family (someone else has it: reuse detection)."""
        token_hash = tokens.refresh_token_hash(refresh_token)

        def rotate(session: Session) -> IssuedTokens | str:
            row = session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
            )
            if row is None:
                return "invalid"
            now = utcnow()
            if row.used_at is not None or row.revoked_at is not None:
                _revoke_family(session, row.family_id, now)
                return "reused"
            if row.expires_at <= now:
                return "expired"
            row.used_at = now
            account = session.get_one(Account, row.account_id)
            return self._issue(session, account, row.family_id)

        outcome = self.database.run(rotate)
        if outcome == "reused":
            raise AccountError(401, "refresh_token_reused", "This session was ended; log in again")
        if outcome == "expired":
            raise AccountError(401, "refresh_token_expired", "The session expired; log in again")
        if isinstance(outcome, str):
            raise AccountError(401, "invalid_refresh_token", "Unknown refresh token")
        return outcome

    def logout(self, refresh_token: str) -> None:
        """End the session (the refresh token's family); unknown tokens change nothing."""
        token_hash = tokens.refresh_token_hash(refresh_token)

        def end(session: Session) -> None:
            family = session.scalar(
                select(RefreshToken.family_id).where(RefreshToken.token_hash == token_hash)
            )
            if family is not None:
                _revoke_family(session, family, utcnow())

        self.database.run(end)

    def authenticate(self, access_token: str) -> AccountView:
        """The account of a valid access token issued after its last password change."""
        try:
            claims = tokens.decode_access_token(access_token, self.settings.jwt_secret)
        except tokens.InvalidToken as exc:
            code = "token_expired" if exc.expired else "invalid_token"
            raise AccountError(401, code, str(exc)) from exc

        def load(session: Session) -> AccountView | None:
            account = session.get(Account, claims.account_id)
            if account is None:
                return None
            if claims.issued_at < int(account.password_changed_at.timestamp()):
                return None
            return AccountView.of(account)

        view = self.database.run(load)
        if view is None:
            raise AccountError(401, "invalid_token", "The access token is no longer valid")
        return view

    def change_password(
        self, account_id: int, old_password: str, new_password: str
    ) -> IssuedTokens:
        """New password; every session of the account ends and a new one starts."""
        problem = passwords.password_problem(new_password, self.settings.password_min_length)
        if problem:
            raise AccountError(400, "invalid_password", problem)
        current = self.database.run(lambda s: s.get_one(Account, account_id).password_hash)
        if not self._password_work(passwords.verify_password, current, old_password):
            raise AccountError(401, "invalid_credentials", "The current password is wrong")
        new_hash = self._password_work(passwords.hash_password, new_password)

        def change(session: Session) -> IssuedTokens:
            account = session.get_one(Account, account_id)
            now = utcnow()
            account.password_hash = new_hash
            account.password_changed_at = now
            session.execute(
                update(RefreshToken)
                .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return self._issue(session, account, tokens.new_family_id())

        return self.database.run(change)


def _revoke_family(session: Session, family_id: str, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
