"""Access tokens (short-lived JWT, HS256) and refresh tokens (random, stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
ACCESS = "access"


class InvalidToken(Exception):
    """The token is not one of ours, is malformed, or has expired (`expired` says which)."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class AccessClaims:
    """What a valid access token says."""

    account_id: int
    issued_at: int
    expires_at: int
    token_id: str


def issue_access_token(
    account_id: int, secret: str, lifetime_seconds: int, now: float | None = None
) -> str:
    """A signed JWT with sub, iat, exp, jti and typ=access."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": str(account_id),
        "iat": issued,
        "exp": issued + lifetime_seconds,
        "jti": uuid.uuid4().hex,
        "typ": ACCESS,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> AccessClaims:
    """The claims of a valid access token, or InvalidToken."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat", "jti", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("The access token has expired", expired=True) from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("The access token is not valid") from exc
    if claims.get("typ") != ACCESS or not str(claims.get("sub", "")).isdigit():
        raise InvalidToken("The access token is not valid")
    return AccessClaims(
        account_id=int(claims["sub"]),
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
        token_id=str(claims["jti"]),
    )


def new_refresh_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    """What the database keeps: the token's SHA-256 (the token has 256 bits of entropy,
    so a fast hash is enough; a stolen table gives no usable token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_family_id() -> str:
    return str(uuid.uuid4())
