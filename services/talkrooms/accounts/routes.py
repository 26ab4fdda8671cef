"""/api/v1/auth: register, login, refresh, logout, password and me; /api/v1/profile and
/api/v1/profiles/<username>: profiles (docs/security.md).

Handlers are a few lines: parse the body (protocol.http_api), call the AccountService,
answer JSON. Every refusal is `{error, code}` with a 4xx status; rate limits are 429 with
Retry-After.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, Field
from redis.exceptions import RedisError
from spectree import Response as Responses

from talkrooms.accounts.profiles import ProfileService, ProfileView
from talkrooms.accounts.service import AccountError, AccountService, AccountView, IssuedTokens
from talkrooms.protocol.http_api import API_PREFIX, API_SPEC, ErrorBody, InvalidRequest, parse_body
from talkrooms.storage.database import iso_utc

EXTENSION = "talkrooms.accounts"
PROFILES = "talkrooms.profiles"
TAGS = ["auth"]
PROFILE_TAGS = ["profiles"]
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
REFRESH_COOKIE = "tr_refresh"
# The cookie goes only to the routes that take it (refresh, logout), nowhere else.
REFRESH_COOKIE_PATH = f"{API_PREFIX}/auth"

auth = Blueprint("auth", __name__, url_prefix=f"{API_PREFIX}/auth")
profiles = Blueprint("profiles", __name__, url_prefix=API_PREFIX)

# Generous bounds: the service applies the real rules with clear messages.
_TEXT = Field(max_length=2048)


class CookieChoice(BaseModel):
    """`cookie: true` (the web UI): the refresh token travels in the httpOnly `tr_refresh`
    cookie only, never in the JSON, so page scripts cannot read it."""

    cookie: bool = False


class RegisterBody(CookieChoice):
    username: str = Field(max_length=200)
    password: str = _TEXT
    email: str | None = Field(default=None, max_length=320)


class LoginBody(CookieChoice):
    username: str = Field(max_length=200)
    password: str = _TEXT


class RefreshBody(CookieChoice):
    """The refresh token, or none to use the `tr_refresh` cookie."""

    refresh_token: str | None = Field(default=None, max_length=200)


class PasswordBody(BaseModel):
    old_password: str = _TEXT
    new_password: str = _TEXT


class AccountOut(BaseModel):
    id: int
    username: str
    email: str | None
    created_at: str


class TokensOut(BaseModel):
    token_type: str = "Bearer"
    access_token: str
    expires_in: int
    refresh_token: str | None
    refresh_expires_in: int
    account: AccountOut


class OkOut(BaseModel):
    ok: bool


class ProfileOut(BaseModel):
    """A profile as anyone sees it (as public as the online list)."""

    username: str
    display_name: str
    bio: str
    color: str
    created_at: str


class OwnProfileOut(ProfileOut):
    """A profile as its owner sees it: with the account's e-mail."""

    email: str | None


class ProfilePatch(BaseModel):
    """A partial update: absent fields keep their value, null puts one back to its
    default (the username, an empty bio, the colour the username hashes to)."""

    display_name: str | None = Field(default=None, max_length=200)
    bio: str | None = Field(default=None, max_length=2000)
    color: str | None = Field(default=None, max_length=32)


def _service() -> AccountService:
    service: AccountService = current_app.extensions[EXTENSION]
    return service


def _address() -> str:
    return _service().settings.client_address(request.environ)


def _profile_service() -> ProfileService:
    service: ProfileService = current_app.extensions[PROFILES]
    return service


def _profile_json(view: ProfileView, *, owner: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": view.username,
        "display_name": view.display_name,
        "bio": view.bio,
        "color": view.color,
        "created_at": iso_utc(view.created_at),
    }
    if owner:
        body["email"] = view.email
    return body


def _own_profile_response(view: ProfileView) -> tuple[Response, int]:
    response = jsonify(_profile_json(view, owner=True))
    response.headers["Cache-Control"] = "no-store"
    return response, 200


def _account_json(view: AccountView) -> dict[str, Any]:
    return {
        "id": view.id,
        "username": view.username,
        "email": view.email,
        "created_at": iso_utc(view.created_at),
    }


def _tokens_json(
    issued: IssuedTokens, status: int = 200, *, cookie: bool = False
) -> tuple[Response, int]:
    body = {
        "token_type": "Bearer",
        "access_token": issued.access_token,
        "expires_in": issued.access_expires_in,
        "refresh_token": None if cookie else issued.refresh_token,
        "refresh_expires_in": issued.refresh_expires_in,
        "account": _account_json(issued.account),
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    if cookie:
        response.set_cookie(
            REFRESH_COOKIE,
            issued.refresh_token,
            max_age=issued.refresh_expires_in,
            path=REFRESH_COOKIE_PATH,
            secure=_over_https(),
            httponly=True,
            samesite="Strict",
        )
    return response, status


def _over_https() -> bool:
    """The browser reached us over HTTPS (directly, or through a proxy that says so)."""
    return request.is_secure or request.headers.get("X-Forwarded-Proto", "") == "https"


def _presented_refresh_token(body: RefreshBody) -> str:
    """The body's refresh token, else the cookie's; 401 when there is neither."""
    token = body.refresh_token or request.cookies.get(REFRESH_COOKIE, "")
    if not token:
        raise AccountError(401, "invalid_refresh_token", "Not signed in")
    return token


def error_response(
    status: int, code: str, message: str, details: list[dict[str, str]] | None = None
) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": message, "code": code}
    if details:
        body["details"] = details
    return jsonify(body), status


def _refused(exc: AccountError) -> tuple[Response, int]:
    response, status = error_response(exc.status, exc.code, exc.message)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response, status


def _invalid(exc: InvalidRequest) -> tuple[Response, int]:
    return error_response(400, "invalid_request", exc.message, exc.details)


def _redis_down(_exc: RedisError) -> tuple[Response, int]:
    return error_response(503, "unavailable", "The service is unavailable; try again soon")


def answer_errors_as_json(blueprint: Blueprint) -> None:
    """Refusals, invalid bodies and a Redis outage become `{error, code}` with a status."""
    blueprint.register_error_handler(AccountError, _refused)
    blueprint.register_error_handler(InvalidRequest, _invalid)
    blueprint.register_error_handler(RedisError, _redis_down)


answer_errors_as_json(auth)
answer_errors_as_json(profiles)


def errors(*statuses: int) -> dict[str, type[BaseModel]]:
    """The OpenAPI responses of these error statuses (all ErrorBody)."""
    return {f"HTTP_{status}": ErrorBody for status in statuses}


@auth.post("/register")
@API_SPEC.validate(
    json=RegisterBody,
    resp=Responses(HTTP_201=TokensOut, **errors(400, 409, 429)),
    tags=TAGS,
    skip_validation=True,
)
def register() -> tuple[Response, int]:
    """Create an account; answers its first token pair."""
    body = parse_body(RegisterBody, request.get_json(silent=True))
    issued = _service().register(body.username, body.password, body.email, _address())
    return _tokens_json(issued, 201, cookie=body.cookie)


@auth.post("/login")
@API_SPEC.validate(
    json=LoginBody,
    resp=Responses(HTTP_200=TokensOut, **errors(400, 401, 429)),
    tags=TAGS,
    skip_validation=True,
)
def login() -> tuple[Response, int]:
    """A token pair for a name and its password (401 invalid_credentials otherwise)."""
    body = parse_body(LoginBody, request.get_json(silent=True))
    issued = _service().login(body.username, body.password, _address())
    return _tokens_json(issued, cookie=body.cookie)


@auth.post("/refresh")
@API_SPEC.validate(
    json=RefreshBody,
    resp=Responses(HTTP_200=TokensOut, **errors(400, 401)),
    tags=TAGS,
    skip_validation=True,
)
def refresh() -> tuple[Response, int]:
    """Trade a refresh token (the body's or the cookie's) for the next pair; the one
    presented stops working."""
    body = parse_body(RefreshBody, request.get_json(silent=True))
    token = _presented_refresh_token(body)
    try:
        issued = _service().refresh(token)
    except AccountError as refused:
        response, status = _refused(refused)
        if not body.refresh_token:
            # A cookie that no longer works is of no use to the browser: drop it.
            response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH)
        return response, status
    return _tokens_json(issued, cookie=body.cookie or not body.refresh_token)


@auth.post("/logout")
@API_SPEC.validate(
    json=RefreshBody,
    resp=Responses(HTTP_200=OkOut, **errors(400)),
    tags=TAGS,
    skip_validation=True,
)
def logout() -> tuple[Response, int]:
    """End the session of this refresh token (the body's or the cookie's: its whole
    family); the cookie is cleared."""
    body = parse_body(RefreshBody, request.get_json(silent=True))
    token = body.refresh_token or request.cookies.get(REFRESH_COOKIE, "")
    if token:
        _service().logout(token)
    response = jsonify({"ok": True})
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH)
    return response, 200


def bearer_account() -> AccountView:
    """The account of the request's `Authorization: Bearer` access token (401 otherwise)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AccountError(401, "unauthenticated", "Send Authorization: Bearer <access token>")
    return _service().authenticate(token.strip())


@auth.post("/password")
@API_SPEC.validate(
    json=PasswordBody,
    resp=Responses(HTTP_200=TokensOut, **errors(400, 401)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def change_password() -> tuple[Response, int]:
    """Change the password: every session ends, a new pair is answered."""
    account = bearer_account()
    body = parse_body(PasswordBody, request.get_json(silent=True))
    issued = _service().change_password(account.id, body.old_password, body.new_password)
    return _tokens_json(issued)


@auth.get("/me")
@API_SPEC.validate(
    resp=Responses(HTTP_200=AccountOut, **errors(401)),
    tags=TAGS,
    security=BEARER,
    skip_validation=True,
)
def me() -> tuple[Response, int]:
    """The account of the access token."""
    return jsonify(_account_json(bearer_account())), 200


@profiles.get("/profile")
@API_SPEC.validate(
    resp=Responses(HTTP_200=OwnProfileOut, **errors(401)),
    tags=PROFILE_TAGS,
    security=BEARER,
    skip_validation=True,
)
def own_profile() -> tuple[Response, int]:
    """The profile of the access token's account, with its e-mail."""
    return _own_profile_response(_profile_service().own(bearer_account().id))


@profiles.patch("/profile")
@API_SPEC.validate(
    json=ProfilePatch,
    resp=Responses(HTTP_200=OwnProfileOut, **errors(400, 401)),
    tags=PROFILE_TAGS,
    security=BEARER,
    skip_validation=True,
)
def update_profile() -> tuple[Response, int]:
    """Change some of display_name, bio and color; answers the whole profile."""
    account = bearer_account()
    body = parse_body(ProfilePatch, request.get_json(silent=True))
    changes = {field: getattr(body, field) for field in body.model_fields_set}
    return _own_profile_response(_profile_service().update(account.id, changes))


@profiles.get("/profiles/<username>")
@API_SPEC.validate(
    resp=Responses(HTTP_200=ProfileOut, **errors(404)),
    tags=PROFILE_TAGS,
    skip_validation=True,
)
def public_profile(username: str) -> tuple[Response, int]:
    """The public profile of the account whose name is (or looks like) `username`; no
    token needed, and never the e-mail."""
    view = _profile_service().public(username)
    return jsonify(_profile_json(view, owner=False)), 200
