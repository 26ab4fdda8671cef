"""Accounts' pure parts: argon2id password hashes and the two kinds of tokens."""

from __future__ import annotations

import time

import jwt
import pytest

from talkrooms.accounts import passwords, tokens

SECRET = "a-unit-test-secret-of-at-least-32-bytes"


def test_a_password_hash_is_argon2id_salted_and_verifies_only_its_password():
    first = passwords.hash_password("correct horse battery")
    second = passwords.hash_password("correct horse battery")
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # a salt of its own each time
    assert "correct horse" not in first
    assert passwords.verify_password(first, "correct horse battery")
    assert not passwords.verify_password(first, "correct horse batterY")
    assert not passwords.needs_rehash(first)


def test_no_account_still_costs_one_verification_and_never_succeeds(monkeypatch):
    real = passwords.hasher()
    verified: list[str] = []

    class Counting:
        """The real hasher, counting its verifications (and with which parameters)."""

        def verify(self, password_hash: str, password: str) -> bool:
            verified.append(password_hash.rsplit("$", 2)[0])
            return real.verify(password_hash, password)

        def hash(self, password: str) -> str:
            return real.hash(password)

    known = passwords.hash_password("correct horse battery")
    monkeypatch.setattr(passwords, "hasher", Counting)
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password(known, "not the password")
    # One argon2id verification each, with the same parameters: the same work.
    assert len(verified) == 2 and verified[0] == verified[1]


def test_a_broken_hash_is_a_refusal_not_a_crash():
    assert not passwords.verify_password("not-a-hash", "whatever")


@pytest.mark.parametrize(
    ("password", "refused"),
    [("short", True), ("exactly10!", False), ("x" * 1024, False), ("x" * 1025, True)],
)
def test_password_length_rules(password, refused):
    assert (passwords.password_problem(password, 10) is not None) is refused


def test_an_access_token_carries_the_claims_and_round_trips():
    token = tokens.issue_access_token(42, SECRET, 900)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert set(claims) == {"sub", "exp", "iat", "jti", "typ"}
    assert claims["sub"] == "42" and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900
    decoded = tokens.decode_access_token(token, SECRET)
    assert decoded.account_id == 42 and decoded.token_id == claims["jti"]


def test_an_expired_access_token_says_so():
    token = tokens.issue_access_token(1, SECRET, 60, now=time.time() - 3600)
    with pytest.raises(tokens.InvalidToken) as refused:
        tokens.decode_access_token(token, SECRET)
    assert refused.value.expired


@pytest.mark.parametrize(
    "forge",
    [
        lambda: tokens.issue_access_token(1, "another-secret-of-at-least-32-bytes!", 60),
        lambda: jwt.encode(
            {"sub": "1", "exp": time.time() + 60, "iat": time.time(), "jti": "x", "typ": "refresh"},
            SECRET,
            algorithm="HS256",
        ),
        lambda: jwt.encode({"sub": "1", "typ": "access"}, SECRET, algorithm="HS256"),
        lambda: jwt.encode(
            {"sub": "1", "exp": time.time() + 60, "iat": time.time(), "jti": "x", "typ": "access"},
            None,
            algorithm="none",
        ),
        lambda: "not.a.token",
    ],
    ids=["other-secret", "wrong-type", "missing-claims", "alg-none", "garbage"],
)
def test_forged_or_foreign_access_tokens_are_refused(forge):
    with pytest.raises(tokens.InvalidToken) as refused:
        tokens.decode_access_token(forge(), SECRET)
    assert not refused.value.expired


def test_refresh_tokens_are_random_and_only_their_hash_is_kept():
    token = tokens.new_refresh_token()
    assert len(token) >= 43 and token != tokens.new_refresh_token()
    digest = tokens.refresh_token_hash(token)
    assert len(digest) == 64 and token not in digest
    assert digest == tokens.refresh_token_hash(token)
