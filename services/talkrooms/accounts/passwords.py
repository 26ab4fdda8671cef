"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile: 3 passes,
64 MiB, 4 lanes). Hashing is CPU- and memory-heavy: callers run it through
storage.database.offload, a few at a time (AccountService). Passwords are never logged or
stored.

The chat must not feel a burst of logins: about 0.15 s of CPU each, 50 per second would
need 7 cores. Callers therefore run it with storage.database.offload_low, in threads of
lowered priority: when the cores are busy, the chat's event loop runs first and logins
wait, instead of both slowing down.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Past this a password is refused before hashing (a megabyte of "password" is a DoS).
MAX_PASSWORD_LENGTH = 1024


@cache
def hasher() -> PasswordHasher:
    """The one hasher; its parameters are argon2-cffi's defaults, argon2id."""
    return PasswordHasher(type=Type.ID)


def hash_password(password: str) -> str:
    """The argon2id hash (with its salt and parameters) of `password`."""
    return hasher().hash(password)


@cache
def _dummy_hash() -> str:
    return hasher().hash("no account has this password, it only spends the same time")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches. With no hash (no such account) a dummy hash is
    checked instead, so both answers cost one argon2 verification."""
    try:
        return hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    return hasher().check_needs_rehash(password_hash)


def password_problem(password: str, min_length: int) -> str | None:
    """Why `password` is refused, or None."""
    if len(password) < min_length:
        return f"The password must have at least {min_length} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password must have at most {MAX_PASSWORD_LENGTH} characters"
    return None
